using SkiaSharp;
using Specs.Cli;
using Xunit;
using static Dsl.Tests.Cli.CliRun;

namespace Dsl.Tests.Visualization;

/// <summary>
/// <c>visualize</c> through the main program on a real trained checkpoint: one epoch of <c>mnist-net</c> on a slice of the
/// bundled data, then every picture, each printed and a readable PNG; no checkpoint, a text network and an unknown layer are
/// refused with one line.
/// </summary>
public sealed class VisualizeCommandTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dsl-visualize-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static string Data => Path.Combine(Generator.GeneratorHarness.RepoRoot(), "Specs", "Data", "fashion-mnist");

    [Fact]
    public void A_trained_mnist_net_writes_every_picture()
    {
        var (code, output, error) = Run("train", "mnist-net", "--epochs", "1", "--limit-train", "2000", "--limit-test", "200", "--device", "cpu:1",
            "--data", Data, "--out", _folder);
        Assert.True(code == 0, error + output);
        string checkpoint = Path.Combine(_folder, "model.safetensors");
        string pictures = Path.Combine(_folder, "pictures");
        (code, output, error) = Run("visualize", "mnist-net", "--checkpoint", checkpoint, "--data", Data, "--layer", "conv2", "--image", "3",
            "--channel", "5", "--top", "8", "--limit-test", "300", "--out", pictures);
        Assert.True(code == 0, error + output);
        var expected = new[] { "filters-conv1.png", "filters-conv2.png", "activations-conv2.png", "occlusion.png", "top-activations.png", "saliency.png" };
        var printed = output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.EndsWith(".png", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected.Select(f => Path.Combine(pictures, f)), printed);
        foreach (string path in printed)
        {
            using var bitmap = SKBitmap.Decode(path);
            Assert.NotNull(bitmap);
            Assert.True(bitmap.Width > 50 && bitmap.Height > 30, $"{path}: {bitmap.Width} x {bitmap.Height}");
        }
        // conv1 [10,1,5,5] at 8 pixels a weight, 10 tiles in a row; conv2 [20,10,5,5], a row of 10 tiles per output channel.
        using (var conv1 = SKBitmap.Decode(printed[0]))
        {
            Assert.Equal((4 + 10 * (40 + 4), 4 + 40 + 4 + 22), (conv1.Width, conv1.Height));
        }
        using (var conv2 = SKBitmap.Decode(printed[1]))
        {
            Assert.Equal((4 + 10 * (40 + 4), 22 + 4 + 20 * (40 + 4)), (conv2.Width, conv2.Height));
        }

        (code, _, error) = Run("visualize", "mnist-net", "--checkpoint", checkpoint, "--data", Data, "--layer", "conv9", "--out", pictures);
        Assert.Equal(VisualizeCommand.Failed, code);
        Assert.StartsWith("error: --layer: mnist-net has no layer 'conv9'; its layers are conv1, 3, conv2, 5, 7,", error, StringComparison.Ordinal);

        string embedded = Path.Combine(pictures, "tsne");
        (code, output, error) = Run("visualize", "mnist-net", "--checkpoint", checkpoint, "--data", Data, "--tsne", "--limit-test", "60", "--out", embedded);
        Assert.True(code == 0, error);
        Assert.Contains("t-SNE of 11 (50 features) for 60 test images", output, StringComparison.Ordinal);
        using (var tsne = SkiaSharp.SKBitmap.Decode(Path.Combine(embedded, "tsne.png")))
        {
            Assert.Equal((900, 800), (tsne.Width, tsne.Height));
        }
    }

    [Fact]
    public void Visualize_without_a_checkpoint_or_for_a_text_network_is_refused_with_one_line()
    {
        var (code, output, error) = Run("visualize", "mnist-net");
        Assert.Equal(App.UsageError, code);
        Assert.Equal("", output);
        Assert.Equal("error: --checkpoint is required: the trained weights to look inside.", error.Split('\n')[0].TrimEnd('\r'));

        string checkpoint = Path.Combine(_folder, "x.safetensors");
        Directory.CreateDirectory(_folder);
        File.WriteAllText(checkpoint, "");
        (code, _, error) = Run("visualize", "kim-cnn", "--checkpoint", checkpoint);
        Assert.Equal(App.UsageError, code);
        Assert.StartsWith("error: kim-cnn does not classify images; visualize takes mlp", error, StringComparison.Ordinal);
    }
}
