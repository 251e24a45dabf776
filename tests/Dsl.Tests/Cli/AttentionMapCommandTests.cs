using SkiaSharp;
using Specs.Cli;
using Xunit;
using static Dsl.Tests.Cli.CliRun;

namespace Dsl.Tests.Cli;

/// <summary>
/// <c>attention-map</c> through the main program: a tiny <c>train seq2seq</c> run, then the heat map of one test pair's
/// decoder attention (a PNG of the size its layout gives); a network without attention, an unknown readout and a missing
/// checkpoint are usage errors.
/// </summary>
public sealed class AttentionMapCommandTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dsl-attention-map-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void A_trained_seq2seq_draws_one_test_pairs_attention()
    {
        var (code, output, error) = Run("train", "seq2seq", "--epochs", "1", "--limit-train", "256", "--limit-test", "8", "--device", "cpu:1", "--out", _folder);
        Assert.True(code == 0, error + output);
        string checkpoint = Path.Combine(_folder, "model.safetensors");
        string png = Path.Combine(_folder, "map.png");
        (code, output, error) = Run("attention-map", "seq2seq", "--checkpoint", checkpoint, "--text", "12345", "--out", png);
        Assert.True(code == 0, error + output);
        Assert.Matches(@"wrote .*map\.png: attention1\.weights \[1,\d+,5\], 1 panel of \d+ x 5", output);
        using var image = SKBitmap.Decode(png);
        // "12345" -> an answer of some length k: k + 1 decoding steps (the last writes <eos>) over 5 source characters.
        int steps = int.Parse(System.Text.RegularExpressions.Regex.Match(output, @"1 panel of (\d+) x 5").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var (_, _, _, width, height) = AttentionHeatMap.Layout(1, steps, 5);
        Assert.Equal((width, height), (image.Width, image.Height));

        (code, _, error) = Run("attention-map", "seq2seq", "--checkpoint", checkpoint, "--readout", "nothing.weights", "--out", png);
        Assert.Equal(App.UsageError, code);
        Assert.Contains("--readout nothing.weights: seq2seq keeps attention1.weights", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mnist-net keeps no attention weights to draw; attention-map takes ", "attention-map", "mnist-net", "--checkpoint", "README.md")]
    [InlineData("--checkpoint is required", "attention-map", "seq2seq")]
    public void Networks_without_attention_and_missing_options_are_usage_errors(string message, params string[] args)
    {
        var (code, _, error) = Run(args.Select(a => a == "README.md" ? Path.Combine(Generator.GeneratorHarness.RepoRoot(), a) : a).ToArray());
        Assert.Equal(App.UsageError, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
