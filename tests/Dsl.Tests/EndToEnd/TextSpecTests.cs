using System.Globalization;
using System.Text.RegularExpressions;
using Dsl.Tests.Data;
using Specs.Cli;
using Xunit;
using static Dsl.Tests.Cli.CliRun;

namespace Dsl.Tests.EndToEnd;

/// <summary>
/// The text Specs through the main program on the committed fortunes slice (2,400 quotes of eight topics), each a few
/// seconds: the classifiers must beat chance (0.125) by a wide margin, the language model must learn the character
/// frequencies, and the files a later command reads (weights, vocabulary) must be there and usable.
/// </summary>
public sealed partial class TextSpecTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dsl-text-spec-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static double Figure(string output, Regex pattern)
    {
        var match = pattern.Match(output);
        Assert.True(match.Success, $"'{pattern}' not found in:\n{output}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("kim-cnn", "3", 0.30)]
    [InlineData("bilstm-attention", "2", 0.25)]
    public void A_text_classifier_trains_on_the_slice_far_above_chance_beside_the_baseline(string network, string epochs, double floor)
    {
        var (code, output, error) = Run("train", network, "--epochs", epochs, "--device", "cpu", "--data", FortunesSlice.Path, "--out", _folder);
        Assert.True(code == 0, $"exit {code}: {error}\n{output}");
        double accuracy = Figure(output, TestAccuracy());
        double baseline = Figure(output, BaselineAccuracy());
        Assert.InRange(accuracy, floor, 1.0);
        Assert.InRange(baseline, 0.3, 1.0); // the same program's baseline ran on the same split
        Assert.True(File.Exists(Path.Combine(_folder, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(_folder, "vocab.json")));
    }

    [Fact]
    public void The_attention_command_prints_weights_over_the_words_of_test_quotes()
    {
        var (code, output, error) = Run("train", "bilstm-attention", "--epochs", "1", "--device", "cpu", "--data", FortunesSlice.Path, "--out", _folder);
        Assert.True(code == 0, $"exit {code}: {error}\n{output}");
        (code, output, error) = Run("attention", Path.Combine(_folder, "model.safetensors"), "--data", FortunesSlice.Path, "--count", "2");
        Assert.True(code == 0, $"exit {code}: {error}\n{output}");
        Assert.Matches(@"predicted [a-z-]+ \(\d+%\)", output);
        // Every word of the shown quotes gets a row with its weight.
        var weights = WeightRow().Matches(output).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.True(weights.Count >= 2 * 5, output);
    }

    /// <summary>
    /// A few seconds of training cannot reach the n-gram floors (the full run does; see the README): this asserts the
    /// model learnt the character frequencies, well below the uniform code of its vocabulary where it starts, and that
    /// its checkpoint and vocabulary sample text.
    /// </summary>
    [Fact]
    public void The_character_model_learns_the_character_frequencies_and_samples_text()
    {
        var (code, output, error) = Run("train", "char-lstm", "--epochs", "1", "--windows", "15", "--batch-size", "16", "--lr", "0.01",
            "--device", "cpu", "--data", FortunesSlice.Path, "--out", _folder);
        Assert.True(code == 0, $"exit {code}: {error}\n{output}");
        double bits = Figure(output, FinalBits());
        double uniform = Math.Log2(Figure(output, VocabularySize()));
        Assert.True(bits < uniform - 1.5, $"{bits} bits per character against the uniform {uniform}:\n{output}");
        Assert.Matches(@"bigram floor \d\.\d{3}", output);
        (code, output, error) = Run("sample", Path.Combine(_folder, "model.safetensors"), "--length", "80", "--prime", "The ", "--temperature", "0.5");
        Assert.True(code == 0, $"exit {code}: {error}\n{output}");
        Assert.StartsWith("The ", output, StringComparison.Ordinal);
        Assert.True(output.TrimEnd().Length >= 80, output);
    }

    [GeneratedRegex(@": test accuracy (\d\.\d+) \(top-2")]
    private static partial Regex TestAccuracy();

    [GeneratedRegex(@"bag-of-words logistic regression: test accuracy (\d\.\d+)")]
    private static partial Regex BaselineAccuracy();

    [GeneratedRegex(@"validation (\d+\.\d+) bits per character at epoch")]
    private static partial Regex FinalBits();

    [GeneratedRegex(@"characters, vocabulary (\d+) ")]
    private static partial Regex VocabularySize();

    [GeneratedRegex(@"\s(0\.\d{3}|1\.000)\s")]
    private static partial Regex WeightRow();
}
