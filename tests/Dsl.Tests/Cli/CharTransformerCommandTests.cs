using System.Globalization;
using System.Text.RegularExpressions;
using Dsl.Tests.Data;
using Specs.Cli;
using Xunit;
using static Dsl.Tests.Cli.CliRun;

namespace Dsl.Tests.Cli;

/// <summary>
/// The character Transformer through the main program on the committed fortunes slice, in seconds: a short run must learn
/// the character frequencies (well below the uniform code length), <c>sample</c> must continue a prime with it, and
/// <c>attention-map</c> must draw its last layer's causal self-attention, one panel per head.
/// </summary>
public sealed partial class CharTransformerCommandTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dsl-char-transformer-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void A_short_run_learns_the_characters_samples_and_draws_its_attention()
    {
        var (code, output, error) = Run("train", "char-transformer", "--epochs", "1", "--windows", "8", "--batch-size", "8",
            "--device", "cpu", "--data", FortunesSlice.Path, "--out", _folder);
        Assert.True(code == 0, $"exit {code}: {error}\n{output}");
        double bits = double.Parse(FinalBits().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        double uniform = Math.Log2(double.Parse(VocabularySize().Match(output).Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.True(bits < uniform - 1, $"{bits} bits per character against the uniform {uniform}:\n{output}");
        string checkpoint = Path.Combine(_folder, "model.safetensors");
        (code, output, error) = Run("sample", checkpoint, "--network", "char-transformer", "--length", "40", "--prime", "The ");
        Assert.True(code == 0, $"exit {code}: {error}\n{output}");
        Assert.StartsWith("The ", output, StringComparison.Ordinal);
        (code, output, error) = Run("attention-map", "char-transformer", "--checkpoint", checkpoint, "--text", "To be or not", "--out", Path.Combine(_folder, "a.png"));
        Assert.True(code == 0, $"exit {code}: {error}\n{output}");
        Assert.Contains("encoder4.self_attn.weights [1,4,12,12], 4 panels of 12 x 12", output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"validation (\d+\.\d+) bits per character at epoch")]
    private static partial Regex FinalBits();

    [GeneratedRegex(@"characters, vocabulary (\d+) ")]
    private static partial Regex VocabularySize();
}
