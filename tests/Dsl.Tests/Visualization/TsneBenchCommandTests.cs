using SkiaSharp;
using Specs.Cli;
using Xunit;
using static Dsl.Tests.Cli.CliRun;

namespace Dsl.Tests.Visualization;

/// <summary>
/// <c>bench tsne</c> through the main program on the bundled Fashion-MNIST slice: without a checkpoint it says it trains
/// mnist-net first, prints our row of the table and writes <c>tsne.png</c>; a network without a feature probe and a
/// missing checkpoint are usage errors.
/// </summary>
public sealed class TsneBenchCommandTests : IDisposable
{
    private static readonly string Data = Path.Combine(Generator.GeneratorHarness.RepoRoot(), "Specs", "Data", "fashion-mnist");
    private readonly string _folder = Directory.CreateTempSubdirectory("dsl-bench-tsne-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Without_a_checkpoint_it_trains_then_embeds_and_plots()
    {
        var (code, output, error) = Run("bench", "tsne", "mnist-net", "--samples", "150", "--iterations", "250", "--threads", "1", "--limit-train", "640",
            "--data", Data, "--python", "none", "--out", _folder);
        Assert.True(code == 0, error + output);
        Assert.Contains("no --checkpoint given: training mnist-net for 1 epoch(s) first", output, StringComparison.Ordinal);
        Assert.Contains("features: fc1 after ReLU, 150 x 50", output, StringComparison.Ordinal);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"\n\s+1 \| ours \(exact gradient\)\s+\|\s+[\d.]+ \|\s+250 \|"), output);
        Assert.Contains("scikit-learn not measured (--python none)", output, StringComparison.Ordinal);
        using var image = SKBitmap.Decode(Path.Combine(_folder, "tsne.png"));
        Assert.Equal((900, 800), (image.Width, image.Height));
        Assert.False(File.Exists(Path.Combine(_folder, "tsne-sklearn.png")));
    }

    [Fact]
    public void A_checkpoint_loads_into_the_probe_and_another_networks_checkpoint_is_refused()
    {
        string checkpoint = Path.Combine(_folder, "mnist-net.safetensors");
        Checkpoint.Save(new Specs.Networks.MnistNet(Device.Cpu, seed: 5), checkpoint);
        var (code, output, error) = Run("bench", "tsne", "mnist-net", "--checkpoint", checkpoint, "--samples", "100", "--iterations", "250",
            "--threads", "1", "--data", Data, "--python", "none", "--out", _folder);
        Assert.True(code == 0, error + output);
        Assert.Contains($"network: mnist-net from {checkpoint}", output, StringComparison.Ordinal);
        Assert.DoesNotContain("training", output, StringComparison.Ordinal);

        string other = Path.Combine(_folder, "two-conv.safetensors");
        Checkpoint.Save(new Specs.Networks.TwoConvNet(Device.Cpu, seed: 5), other);
        (code, _, error) = Run("bench", "tsne", "mnist-net", "--checkpoint", other, "--samples", "100", "--data", Data, "--python", "none", "--out", _folder);
        Assert.Equal(App.UsageError, code);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains("two-conv.safetensors", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_network_without_a_feature_probe_and_a_missing_checkpoint_are_usage_errors()
    {
        var (code, _, error) = Run("bench", "tsne", "resnet20");
        Assert.Equal(App.UsageError, code);
        Assert.Contains("bench tsne reads the penultimate features of mnist-net only, got 'resnet20'.", error, StringComparison.Ordinal);
        (code, _, error) = Run("bench", "tsne", "mnist-net", "--checkpoint", Path.Combine(_folder, "none.safetensors"));
        Assert.Equal(App.UsageError, code);
        Assert.Contains("checkpoint not found", error, StringComparison.Ordinal);
        (code, var output, _) = Run("bench", "tsne", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--samples <N>", output, StringComparison.Ordinal);
    }
}
