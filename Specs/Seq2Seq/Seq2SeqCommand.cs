using System.Globalization;
using System.Text;
using Dsl;
using Dsl.Data.Seq2Seq;
using Dsl.Data.Text;
using Specs.Cli;
using Specs.Networks;

namespace Specs.Seq2Seq;

/// <summary>
/// <c>train seq2seq</c> (and every <see cref="Seq2SeqTask{TNet}"/>): an encoder-decoder trained on a generated task with
/// teacher forcing and scored by greedy decoding: validation exact match after each epoch, the test pairs' exact match by
/// source length at the end, and one test pair's attention (the source character each decoding step weighs most). Reads
/// the common <c>train</c> options: <c>--epochs --batch-size --lr --seed --device --limit-train --out --init</c>,
/// <c>--schedule cosine|none</c>, <c>--limit-test N</c> (N test pairs, and at most N validation pairs), and <c>--data</c>, which names the task
/// (<c>reverse</c>, <c>sort</c>, <c>dates</c>).
/// </summary>
public static class Seq2SeqCommand
{
    /// <summary>The catalog name of the GRU encoder-decoder.</summary>
    public const string NetworkName = "seq2seq";

    /// <summary>The task's recipe with the command line's overrides.</summary>
    public static Seq2SeqRecipe RecipeOf(ISeq2SeqNetworkTask task, TrainSettings settings)
    {
        var defaults = task.Recipe;
        return defaults with
        {
            Task = settings.Data ?? defaults.Task,
            Epochs = settings.Epochs ?? defaults.Epochs,
            BatchSize = settings.BatchSize ?? defaults.BatchSize,
            LearningRate = settings.LearningRate ?? defaults.LearningRate,
            TrainCount = settings.LimitTrain ?? defaults.TrainCount,
            TestCount = settings.LimitTest ?? defaults.TestCount,
            ValidCount = Math.Min(defaults.ValidCount, settings.LimitTest ?? defaults.ValidCount),
            Cosine = settings.Schedule is null ? defaults.Cosine : settings.Schedule.Equals("cosine", StringComparison.OrdinalIgnoreCase),
        };
    }

    /// <summary>The generated pairs of <paramref name="recipe"/>'s task, checked against the network's vocabularies.</summary>
    public static Seq2SeqData Generate(ISeq2SeqNetworkTask task, Seq2SeqRecipe recipe, int seed)
    {
        var generator = Seq2SeqRecipe.CreateTask(recipe.Task)
            ?? throw new UsageException($"--data {recipe.Task}: for seq2seq, --data names the generated task: {string.Join(", ", Seq2SeqRecipe.TaskNames)}");
        var data = Seq2SeqData.Generate(generator, recipe.TrainCount, recipe.ValidCount, recipe.TestCount, seed);
        CheckVocabulary("source", data.SourceVocabulary, task.SourceVocabularySize);
        CheckVocabulary("target", data.TargetVocabulary, task.TargetVocabularySize);
        return data;
    }

    /// <summary>Runs the command; returns the exit code.</summary>
    public static int Train(TrainRun trainRun, ISeq2SeqNetworkTask task)
    {
        ArgumentNullException.ThrowIfNull(trainRun);
        ArgumentNullException.ThrowIfNull(task);
        var (cli, settings, folder) = (trainRun.Cli, trainRun.Settings, trainRun.Folder);
        var output = cli.Out;
        var recipe = RecipeOf(task, settings);
        var data = Generate(task, recipe, settings.Seed);
        var device = trainRun.Device;
        var net = trainRun.CreateNetwork();
        var forward = task.Bind(net);
        string name = trainRun.Info.Name;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training {name} ({net.ParameterCount:N0} parameters) on {device.Name}: {recipe}, seed {settings.Seed}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"data: {data.Task.Name}, e.g. \"{data.Train[0].Source}\" -> \"{data.Train[0].Target}\"; {data.Train.Count(e => e.IsLong):N0} long training pairs, {data.Test.Count(e => e.IsLong):N0} long test pairs"));

        string weights = Path.Combine(folder, "model.safetensors");
        var metrics = new StringBuilder("epoch,train_loss,token_accuracy,valid_exact_match,train_seconds,decode_seconds,pairs_per_second\n");
        var metadata = new Dictionary<string, string> { ["network"] = name, ["recipe"] = recipe.ToString(), ["seed"] = settings.Seed.ToString(CultureInfo.InvariantCulture) };
        var trainer = new Seq2SeqTrainer(net, forward, data, recipe, settings.Seed)
        {
            Log = output,
            EpochDone = e =>
            {
                metrics.Append(string.Create(CultureInfo.InvariantCulture,
                    $"{e.Epoch},{e.TrainLoss:R},{e.TokenAccuracy:R},{e.ValidExactMatch:R},{e.TrainSeconds:R},{e.DecodeSeconds:R},{e.SamplesPerSecond:R}\n"));
                File.WriteAllText(Path.Combine(folder, "metrics.csv"), metrics.ToString());
                Checkpoint.Save(net, weights, metadata);
            },
        };
        Seq2SeqRun run;
        try
        {
            run = trainer.Fit();
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("The loss became", StringComparison.Ordinal))
        {
            throw new CommandFailedException($"{e.Message} {weights} keeps the last finished epoch's weights.", TrainCommand.Diverged);
        }

        if (run.BestEpoch != run.Epochs.Count)
        {
            // The file holds the last epoch's weights; the test scored the best epoch's, restored in the network.
            Checkpoint.Save(net, weights, metadata);
        }
        output.WriteLine("test exact match by source length (greedy decoding):");
        output.WriteLine(run.Test.ToString());
        ShowAttention(output, net, forward, task.AttentionReadout, data, trainer);
        output.WriteLine($"wrote {Path.Combine(folder, "metrics.csv")}, {weights}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"test exact match {run.Test.Accuracy:F4} with epoch {run.BestEpoch}'s weights of {run.Epochs.Count} ({run.SecondsPerEpoch:F2} s/epoch)"));
        return 0;
    }

    private static void CheckVocabulary(string side, Vocabulary vocabulary, int capacity)
    {
        if (vocabulary.Count > capacity)
        {
            throw new UsageException($"the task's {side} vocabulary has {vocabulary.Count} entries but the network embeds at most {capacity}");
        }
    }

    /// <summary>
    /// The longest test pair, decoded, with the source character each decoding step weighs most: the decoder's attention
    /// moves along the source as it writes (for reversal, from the last character back to the first).
    /// </summary>
    private static void ShowAttention(TextWriter output, Module net, Func<Tensor, Tensor, Tensor, Tensor> forward, string readout, Seq2SeqData data, Seq2SeqTrainer trainer)
    {
        if (data.Test.Count == 0)
        {
            return;
        }
        if (!net.ReadoutNames.Contains(readout))
        {
            output.WriteLine($"{net.NetworkName} keeps no attention readout '{readout}' to show (readouts: {(net.ReadoutNames.Count == 0 ? "none" : string.Join(", ", net.ReadoutNames))})");
            return;
        }
        var example = data.Test.MaxBy(e => e.Source.Length)!;
        var (answer, attention) = Attend(net, forward, readout, data, trainer, example.Source);
        var source = data.SourceIds([example])[0];
        var prefix = new long[answer.Length + 1];
        // One head's weights [T,S], or the mean over the heads of [heads,T,S].
        int heads = attention.Rank == 4 ? attention.Size(1) : 1;
        var all = attention.ToArray();
        var weights = new float[prefix.Length * source.Length];
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < weights.Length; i++)
            {
                weights[i] += all[h * weights.Length + i] / heads;
            }
        }
        output.WriteLine($"attention of \"{example.Source}\" -> \"{answer}\" ({(answer == example.Target ? "right" : "wrong, expected \"" + example.Target + "\"")}): the source position each step weighs most");
        var line = new StringBuilder();
        for (int t = 0; t < prefix.Length; t++)
        {
            var row = weights.AsSpan(t * source.Length, source.Length);
            int best = 0;
            for (int s = 1; s < row.Length; s++)
            {
                if (row[s] > row[best])
                {
                    best = s;
                }
            }
            string wrote = t < answer.Length ? answer[t].ToString() : "<eos>";
            line.Append(CultureInfo.InvariantCulture, $"  {wrote}<-{example.Source[best]}@{best} ({row[best]:F2})");
        }
        output.WriteLine(line.ToString());
    }

    /// <summary>
    /// Greedy decoding of <paramref name="source"/>, then the decoder run once more over <c>&lt;bos&gt;</c> and the whole
    /// answer: the answer and the readout's weights [1,T,S] or [1,heads,T,S] (T = the answer's length + 1, the last row
    /// being the step that writes <c>&lt;eos&gt;</c>).
    /// </summary>
    public static (string Answer, Tensor Weights) Attend(Module net, Func<Tensor, Tensor, Tensor, Tensor> forward, string readout, Seq2SeqData data, Seq2SeqTrainer trainer, string source)
    {
        var example = new Seq2SeqExample(source, "", false);
        string answer = trainer.Predict([example])[0];
        var device = net.Device;
        var ids = data.SourceIds([example])[0];
        var prefix = new long[answer.Length + 1];
        prefix[0] = data.TargetVocabulary.BosId;
        var answerIds = data.TargetVocabulary.Encode(answer, CharacterTokenizer.Instance);
        for (int i = 0; i < answerIds.Length; i++)
        {
            prefix[i + 1] = answerIds[i];
        }
        net.Eval();
        forward(Tensor.From(ids.Select(i => (long)i).ToArray(), device, 1, ids.Length),
            Tensor.From(Enumerable.Repeat(1f, ids.Length).ToArray(), device, 1, ids.Length),
            Tensor.From(prefix, device, 1, prefix.Length));
        return (answer, net.Readout(readout));
    }
}
