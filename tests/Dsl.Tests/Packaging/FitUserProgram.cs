using System.Globalization;
using Xunit;

namespace Dsl.Tests.Packaging;

/// <summary>
/// A user's console app that does what the README's "Training your own data" section shows, through the packed
/// package's public API only: loads Fashion-MNIST (the repository's slice, path given as the first argument), trains
/// with <c>Fit</c> under early stopping and a best-checkpoint callback, restores the best weights and evaluates.
/// </summary>
internal static class FitUserProgram
{
    public const string Network = """
        using Dsl;
        using static Dsl.Layers;

        namespace UserApp;

        [Network]
        public partial class SmallMlp
        {
            static Net Define() => Input(1, 28, 28) | Flatten | Linear(64) | Relu | Linear(10) | LogSoftmax;
        }
        """;

    public const string Program = """
        using System.Globalization;
        using Dsl;
        using Dsl.Data;
        using Dsl.Training;
        using UserApp;

        var data = FashionMnist.Load(args[0]);
        var train = data.Train.Take(2000);
        var test = data.Test.Take(500);
        var net = new SmallMlp(Device.Cpu, seed: 1);
        var trainer = new Trainer(net, new Adam(net.Parameters, 2e-3f))
        {
            Epochs = 40,
            BatchSize = 64,
            Seed = 1,
            Workers = 2,
            Transforms = [new RandomCrop(padding: 1)],
        };
        var best = new ModelCheckpoint(args[1], Metric.TestAccuracy);
        trainer.Callbacks.Add(new EarlyStopping(patience: 2, monitor: Metric.TestLoss));
        trainer.Callbacks.Add(best);
        TrainingHistory history = trainer.Fit(train, test);

        best.Restore(net);
        Evaluation evaluation = Trainer.Evaluate(net, test, topK: 3);
        Print("epochs run", history.Epochs.Count);
        Print("stop reason", history.StopReason ?? "none");
        Print("best epoch", best.SavedEpoch!.Value);
        Print("best test accuracy", history.Epochs.Max(e => e.TestAccuracy));
        Print("restored accuracy", evaluation.Accuracy);
        Print("top-3 accuracy", evaluation.TopKAccuracy);
        Print("confusion total", evaluation.ConfusionMatrix.Cast<long>().Sum());

        static void Print(string key, object value) => Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0}: {1}", key, value));
        """;

    /// <summary>Checks the run: it stopped early, the restored weights score what their epoch scored, and the metrics agree.</summary>
    public static void AssertRanCorrectly(DotnetCli.Result run)
    {
        run.ShouldSucceed();
        var o = run.Output;
        // Output is redirected, so progress comes as plain lines.
        Assert.True(o.Contains("epoch 1: train loss", StringComparison.Ordinal), "No plain progress lines:\n" + run);
        var values = o.Split('\n')
            .Select(l => l.TrimEnd('\r').Split(": ", 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
        string Text(string key) => values.TryGetValue(key, out var v) ? v : throw new Xunit.Sdk.XunitException($"'{key}' was not printed:\n{run}");
        double Number(string key) => double.Parse(Text(key), NumberStyles.Float, CultureInfo.InvariantCulture);

        Assert.True(Number("epochs run") < 40, "Early stopping never stopped the run:\n" + run);
        Assert.StartsWith("early stopping: TestLoss did not improve for 2 epochs", Text("stop reason"), StringComparison.Ordinal);
        Assert.InRange(Number("best epoch"), 1, Number("epochs run"));
        Assert.Equal(Number("best test accuracy"), Number("restored accuracy"), 12);
        Assert.InRange(Number("restored accuracy"), 0.6, 1.0);
        Assert.True(Number("top-3 accuracy") >= Number("restored accuracy"), "Top-3 below top-1:\n" + run);
        Assert.Equal(500, Number("confusion total"));
    }
}
