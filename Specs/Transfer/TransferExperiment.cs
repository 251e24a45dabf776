using System.Globalization;
using Dsl;
using Dsl.Data;
using Dsl.Training;
using Specs.Networks;

namespace Specs.Transfer;

/// <summary>The experiment's settings: how long each phase trains and on what.</summary>
/// <param name="PretrainEpochs">Epochs on the source task (classes 0-4, every training image of them).</param>
/// <param name="Epochs">Epochs on each target subset, the same for the three methods.</param>
/// <param name="PerClass">Labelled images per target class, one row group each (10, 50, 500).</param>
/// <param name="BatchSize">Samples per step in both phases.</param>
/// <param name="LearningRate">Adam's learning rate in both phases and for the three methods.</param>
/// <param name="Seed">Seeds the networks, the subsets and the shuffling.</param>
/// <param name="LimitPretrain">Pretrain on the first N source images only (tests).</param>
/// <param name="LimitTest">Evaluate on the first N test images of each task only (tests).</param>
public sealed record TransferOptions(int PretrainEpochs = 3, int Epochs = 20, int[]? PerClass = null, int BatchSize = 32, float LearningRate = 1e-3f,
    int Seed = 0, int? LimitPretrain = null, int? LimitTest = null)
{
    public int[] Sizes => PerClass ?? [10, 50, 500];
}

/// <summary>One cell of the table: a method trained from some images per class, its test accuracy and its speed.</summary>
public sealed record TransferRow(int PerClass, string Method, double Accuracy, double SecondsPerEpoch, long TrainableParameters);

/// <summary>What <see cref="TransferExperiment.Run"/> measured.</summary>
public sealed record TransferResult(double SourceAccuracy, double PretrainSecondsPerEpoch, IReadOnlyList<TransferRow> Rows);

/// <summary>
/// Transfer learning on Fashion-MNIST: <see cref="TransferCnn"/> is pretrained on classes 0-4, then learns classes 5-9
/// (relabelled 0-4) from a few labelled images per class three ways: from scratch, with the pretrained trunk frozen and a
/// new head, and fine-tuning the pretrained network with a new head. Each is scored on every test image of classes 5-9.
/// </summary>
public static class TransferExperiment
{
    /// <summary>The head: the layer a new task replaces.</summary>
    public const string Head = "fc2";

    public const string Scratch = "from scratch";
    public const string FrozenTrunk = "frozen trunk + new head";
    public const string FineTune = "fine-tune all";

    /// <summary>The images of classes <paramref name="first"/> .. first+4, relabelled 0-4.</summary>
    public static LabeledImages Classes(LabeledImages data, int first, int count, string name)
    {
        ArgumentNullException.ThrowIfNull(data);
        var indices = new List<int>();
        for (int i = 0; i < data.Count; i++)
        {
            if (data.Labels[i] >= first && data.Labels[i] < first + count)
            {
                indices.Add(i);
            }
        }
        return Subset(data, indices, first, name);
    }

    /// <summary>
    /// <paramref name="perClass"/> images of each label of <paramref name="data"/>, drawn without replacement with
    /// <paramref name="seed"/>; a class with fewer images gives all it has.
    /// </summary>
    public static LabeledImages PerClass(LabeledImages data, int perClass, int seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        var rng = new Random(seed);
        var chosen = new List<int>();
        foreach (var group in Enumerable.Range(0, data.Count).GroupBy(i => data.Labels[i]).OrderBy(g => g.Key))
        {
            var all = group.ToArray();
            rng.Shuffle(all);
            chosen.AddRange(all.Take(perClass));
        }
        chosen.Sort();
        return Subset(data, chosen, 0, $"{data.Name} ({perClass} per class)");
    }

    private static LabeledImages Subset(LabeledImages data, List<int> indices, long labelShift, string name)
    {
        int length = data.SampleLength;
        var pixels = new byte[(long)indices.Count * length];
        var labels = new long[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            data.Pixels.Slice(indices[k] * length, length).CopyTo(pixels.AsSpan(k * length, length));
            labels[k] = data.Labels[indices[k]] - labelShift;
        }
        return new LabeledImages(name, pixels, labels, data.Channels, data.Height, data.Width, data.Scaling);
    }

    /// <summary>Runs the whole experiment on <paramref name="data"/>, writing progress lines to <paramref name="log"/>.</summary>
    public static TransferResult Run(FashionMnist data, Device device, TransferOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        var sourceTrain = Classes(data.Train, 0, 5, "source train").Take(options.LimitPretrain ?? int.MaxValue);
        var sourceTest = Classes(data.Test, 0, 5, "source test").Take(options.LimitTest ?? int.MaxValue);
        var targetTrain = Classes(data.Train, 5, 5, "target train");
        var targetTest = Classes(data.Test, 5, 5, "target test").Take(options.LimitTest ?? int.MaxValue);
        // Fit scores a small validation slice after each epoch; the table's accuracy is on the whole target test set.
        var validation = targetTest.Take(256);

        var pretrained = new TransferCnn(device, options.Seed);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pretraining on classes 0-4: {sourceTrain.Count:N0} images, {options.PretrainEpochs} epochs, Adam {options.LearningRate}, batch {options.BatchSize}"));
        var history = Fit(pretrained, pretrained.Parameters, sourceTrain, sourceTest.Take(256), options.PretrainEpochs, options);
        double sourceAccuracy = Trainer.Evaluate(pretrained, sourceTest).Accuracy;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  source test accuracy {sourceAccuracy:F3} ({sourceTest.Count:N0} images), {history.SecondsPerEpoch:F2} s/epoch"));
        // The trunk only: a new task gets a new head.
        var trunk = pretrained.StateDict().Where(kv => Module.LayerOf(kv.Key) != Head).ToDictionary(kv => kv.Key, kv => kv.Value); // the pretrained network is not trained further

        var rows = new List<TransferRow>();
        foreach (int perClass in options.Sizes)
        {
            var train = PerClass(targetTrain, perClass, options.Seed + perClass);
            foreach (string method in new[] { Scratch, FrozenTrunk, FineTune })
            {
                // The same seed for every method: the new head starts from the same weights.
                var net = new TransferCnn(device, options.Seed + 1);
                if (method != Scratch)
                {
                    var loaded = net.LoadStateDict(trunk, strict: false);
                    if (!loaded.MissingKeys.All(k => Module.LayerOf(k) == Head) || loaded.UnexpectedKeys.Count > 0)
                    {
                        throw new InvalidOperationException($"the trunk did not load as expected: missing {string.Join(", ", loaded.MissingKeys)}");
                    }
                }
                if (method == FrozenTrunk)
                {
                    net.Freeze(net.LayerNames.Where(l => l != Head).ToArray());
                }
                var run = Fit(net, net.Parameters, train, validation, options.Epochs, options);
                double accuracy = Trainer.Evaluate(net, targetTest).Accuracy;
                var row = new TransferRow(perClass, method, accuracy, run.SecondsPerEpoch, net.TrainableParameterCount);
                rows.Add(row);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {perClass,4} per class, {method,-24} accuracy {accuracy:F3}  {run.SecondsPerEpoch:F3} s/epoch  ({row.TrainableParameters:N0} trained parameters)"));
            }
        }
        return new TransferResult(sourceAccuracy, history.SecondsPerEpoch, rows);
    }

    private static TrainingHistory Fit(Module net, IEnumerable<Parameter> parameters, LabeledImages train, LabeledImages test, int epochs, TransferOptions options)
    {
        var trainer = new Trainer(net, new Adam(parameters, lr: options.LearningRate))
        {
            Epochs = epochs,
            BatchSize = Math.Min(options.BatchSize, train.Count),
            Seed = options.Seed,
            Progress = TrainingProgress.None,
        };
        return trainer.Fit(train, test);
    }

    /// <summary>The table as Markdown: one row per size, accuracy and seconds per epoch of each method.</summary>
    public static string Table(TransferResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var methods = new[] { Scratch, FrozenTrunk, FineTune };
        var sb = new System.Text.StringBuilder();
        sb.Append("| images per class |").Append(string.Concat(methods.Select(m => $" {m}: accuracy, s/epoch |"))).Append('\n');
        sb.Append("|---|").Append(string.Concat(methods.Select(_ => "---|"))).Append('\n');
        foreach (var size in result.Rows.GroupBy(r => r.PerClass))
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {size.Key} |");
            foreach (string method in methods)
            {
                var r = size.Single(x => x.Method == method);
                sb.Append(CultureInfo.InvariantCulture, $" {r.Accuracy:F3}, {r.SecondsPerEpoch:F3} |");
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
