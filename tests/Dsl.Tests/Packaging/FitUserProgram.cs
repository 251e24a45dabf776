using System.Globalization;
using Xunit;

namespace Dsl.Tests.Packaging;

/// <summary>
/// The README's example ("Training your own data") as a user's console app, through the packed package's public API
/// only: loads Fashion-MNIST (the repository's slice, path given as the first argument), trains with <c>Fit</c> under
/// early stopping and a best-checkpoint callback, restores the best weights and evaluates.
/// </summary>
internal static class FitUserProgram
{
    /// <summary>The README's network file, verbatim.</summary>
    public static string Network => ReadmeExample.Block("SmallMlp.cs");

    /// <summary>
    /// The README's program with its two paths taken from the arguments (the data folder, the checkpoint file), and the
    /// lines the test reads appended: the README cannot drift from what this test compiles and runs.
    /// </summary>
    public static string Program
    {
        get
        {
            string readme = ReadmeExample.Block("Program.cs");
            string program = ReadmeExample.Replace(readme, "\"fashion-mnist\"", "args[0]");
            program = ReadmeExample.Replace(program, "\"best.safetensors\"", "args[1]");
            return program + Checks;
        }
    }

    private const string Checks = """

        Print("epochs run", history.Epochs.Count);
        Print("stop reason", history.StopReason ?? "none");
        Print("best epoch", best.SavedEpoch!.Value);
        Print("best test accuracy", history.Epochs.Max(e => e.TestAccuracy));
        Print("restored accuracy", result.Accuracy);
        Print("top-3 accuracy", result.TopKAccuracy);
        Print("confusion total", result.ConfusionMatrix.Cast<long>().Sum());

        static void Print(string key, object value) => Console.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0}: {1}", key, value));
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
