using System.Globalization;
using Dsl;
using Dsl.Data.Text;
using Dsl.Training;
using Specs.Text;

namespace Specs.Cli;

/// <summary>
/// Topic classification of fortunes (the eight topics of <see cref="FortunesCorpus.ClassificationTopics"/>, the fixed
/// split the baselines use): padded, length-bucketed batches of word ids and masks into the network through
/// <see cref="Forward"/>, model selection on the validation split, then the test accuracy beside the bag-of-words
/// logistic regression trained by the same program on the same split.
/// </summary>
/// <typeparam name="TNet">The generated network, whose <c>Forward(tokens, mask)</c> the entry passes in.</typeparam>
public sealed class TextClassificationTask<TNet>(Func<TNet, PaddedBatch, Tensor> forward) : NetworkTask, ITextClassificationTask, IAttentionMapTask
    where TNet : Module
{
    /// <summary>The file beside the weights that holds the vocabulary (<c>attention</c> reads it).</summary>
    public const string VocabularyFile = "vocab.json";

    /// <summary>How the progress names the split the text tasks score their epochs on.</summary>
    public const string Validation = "validation";

    /// <summary>How the network takes a batch: <c>(net, b) =&gt; net.Forward(b.Tokens, b.Mask)</c>.</summary>
    public Func<TNet, PaddedBatch, Tensor> Forward { get; } = forward;

    /// <summary>The attention weights [N,T] after a Forward, for <c>--show-attention</c> and <c>attention</c>; null when the network has none.</summary>
    public Func<TNet, Tensor>? Attention { get; init; }

    /// <summary>Quotes are padded to at least this many tokens (the widest convolution window; 1 for a recurrent network).</summary>
    public int MinTokens { get; init; } = 1;

    /// <summary>Quotes keep at most this many tokens (the longest of the split has 351; 98% have fewer than 150).</summary>
    public int MaxTokens { get; init; } = 150;

    public override string Data => "fortunes quotes by topic";

    public override string? Refuse(TrainSettings settings)
        => settings.Windows is not null ? "--windows applies to language models (char-lstm), not to classifiers."
            : settings.ShowAttention && Attention is null ? $"--show-attention needs a network with attention pooling (bilstm-attention); {settings.Network} has none."
            : settings.LimitTrain is not null || settings.LimitTest is not null ? "--limit-train and --limit-test apply to images; a text network trains on the whole fixed split."
            : null;

    public override int Train(TrainRun run)
    {
        var output = run.Cli.Out;
        var net = (TNet)run.CreateNetwork();
        var data = TopicData.Load(run.Settings.Data, TopicData.EmbeddingRows(net), MinTokens, MaxTokens);
        output.WriteLine($"data: {data.Location.Describe()}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"      {data.Split.Topics.Count} topics ({string.Join(", ", data.Split.Topics)}), {data.Train.Length:N0} train / {data.Valid.Length:N0} validation / {data.Test.Length:N0} test quotes, vocabulary {data.Vocabulary.Count:N0} words (min frequency {TopicData.MinFrequency}, at most the embedding's rows)"));
        var (baseline, baselineSeconds) = Timed(() => BagOfWordsBaseline.Train(data.Split).Result);
        output.WriteLine($"baseline: {baseline} in {baselineSeconds:F1} s");

        var recipe = run.Recipe;
        var device = run.Device;
        var train = new BucketBatcher(data.Train, data.TrainLabels, device, recipe.BatchSize, run.Settings.Seed);
        var valid = new BucketBatcher(data.Valid, data.ValidLabels, device, recipe.BatchSize, shuffle: false);
        var test = new BucketBatcher(data.Test, data.TestLabels, device, recipe.BatchSize, shuffle: false);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training {run.Info.Name} ({net.ParameterCount:N0} parameters) on {device.Name}: {recipe}, seed {run.Settings.Seed}; padding {train.PaddingFraction(0):P1} of positions with length buckets"));
        output.WriteLine("      the epochs are scored on the validation split; the test split is scored once, at the best validation epoch");

        data.Vocabulary.Save(Path.Combine(run.Folder, VocabularyFile));
        var optimizer = recipe.CreateOptimizer(net);
        var schedule = recipe.CreateSchedule(optimizer);
        var best = new ModelCheckpoint(run.Weights, Metric.TestAccuracy, bestOnly: true, metadata: run.Metadata());
        BatchForward<PaddedBatch> step = b => Forward(net, b);
        var history = run.Fit($"{run.Info.Name} on fortunes topics ({recipe})", best,
            progress => run.CreateTrainer(net, optimizer, schedule, progress, best).Fit(train, valid, step), Validation);

        best.Restore(net);
        var result = Trainer.Evaluate(net, test, step, recipe.Loss, topK: 2);
        var epoch = history.Epochs.First(e => e.Epoch == best.SavedEpoch);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{run.Info.Name}: test accuracy {result.Accuracy:F4} (top-2 {result.TopKAccuracy:F4}), validation {epoch.TestAccuracy:F4} at epoch {epoch.Epoch} of {history.Epochs.Count}; {history.SecondsPerEpoch:F1} s/epoch"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bag-of-words logistic regression: test accuracy {baseline.TestAccuracy:F4}, validation {baseline.ValidAccuracy:F4} (same split)"));
        double margin = result.Accuracy - baseline.TestAccuracy;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{run.Info.Name} {(margin > 0 ? "beats" : "does not beat")} the baseline by {margin * 100:+0.0;-0.0} points on {result.Samples:N0} test quotes"));
        if (run.Settings.ShowAttention && Attention is { } attention)
        {
            AttentionTable.Show(run.Cli, net, data, Forward, attention, count: 4);
        }
        return 0;
    }

    public bool HasAttention => Attention is not null;

    public BatchForward<PaddedBatch> Bind(Module net)
    {
        var typed = (TNet)net;
        return b => Forward(typed, b);
    }

    /// <summary>The readout holding the attention weights <c>attention-map</c> draws by default (the pooling's).</summary>
    public string? DefaultReadout => Attention is null ? null : AttentionReadout;

    /// <summary>The readout of the pooling weights (the network's attention pool, <c>attention1</c> by default).</summary>
    public string AttentionReadout { get; init; } = "attention1.weights";

    /// <summary>Runs test quote <c>--index</c> of the fixed split and draws the pooling weights over its words: one row.</summary>
    public AttentionExample Attend(CliOutput cli, Module net, AttentionMapSettings settings, string readout)
    {
        if (settings.Text is not null)
        {
            throw new UsageException("--text applies to seq2seq and language models; a classifier draws a test quote (--index).");
        }
        if (!File.Exists(settings.VocabularyPath))
        {
            throw new UsageException($"{settings.VocabularyPath}: not found; the checkpoint needs the vocabulary its run wrote beside it.");
        }
        var data = TopicData.Load(settings.Data, Vocabulary.Load(settings.VocabularyPath), MinTokens, MaxTokens);
        if (settings.Index >= data.Test.Length)
        {
            throw new UsageException($"--index {settings.Index}: the test split has {data.Test.Length} quotes");
        }
        var typed = (TNet)net;
        typed.Eval();
        int[] ids = data.Test[settings.Index];
        int length = Array.IndexOf(ids, Vocabulary.PadId) is var pad && pad >= 0 ? pad : ids.Length;
        var device = net.Device;
        // The quote alone, unpadded (at least MinTokens): what each of its words weighs in the pooling.
        int t = Math.Max(length, MinTokens);
        var tokens = Tensor.From(ids.Take(t).Select(id => (long)id).ToArray(), device, 1, t);
        var mask = Tensor.From(Enumerable.Range(0, t).Select(j => j < length ? 1f : 0f).ToArray(), device, 1, t);
        Forward(typed, new PaddedBatch(tokens, mask, new[] { length }, null, new[] { settings.Index }, 0));
        var quote = data.Split.Test[settings.Index];
        cli.Out.WriteLine($"test quote {settings.Index} (topic {quote.Topic}): {length} words");
        return new AttentionExample(net.Readout(readout), [readout], ids.Take(t).Select(id => data.Vocabulary[id]).ToArray(), $"quote {settings.Index}, topic {quote.Topic}");
    }

    public void ShowAttention(CliOutput cli, Module net, TopicData data, int count)
        => AttentionTable.Show(cli, (TNet)net, data, Forward, Attention ?? throw new InvalidOperationException($"{net.NetworkName} has no attention weights to show."), count);

    private static (T Value, double Seconds) Timed<T>(Func<T> f)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var value = f();
        return (value, clock.Elapsed.TotalSeconds);
    }
}
