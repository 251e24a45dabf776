using Specs.Cli;
using Xunit;
using static Dsl.Tests.Cli.CliRun;

namespace Dsl.Tests.Seq2Seq;

/// <summary>
/// <c>train seq2seq</c> through the CLI: a tiny run writes its metrics, weights and report (exact match by length bucket,
/// seconds per epoch, one pair's attention), and options that do not apply are usage errors before anything trains.
/// </summary>
public sealed class Seq2SeqCommandTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dsl-seq2seq-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void A_tiny_run_reports_exact_match_by_length_and_writes_metrics_and_weights()
    {
        var (code, output, error) = Run("train", "seq2seq", "--epochs", "1", "--limit-train", "256", "--limit-test", "32", "--device", "cpu:1", "--out", _folder);
        Assert.True(code == 0, error);
        Assert.Contains("test exact match by source length (greedy decoding):", output, StringComparison.Ordinal);
        Assert.Matches(@"length +13-16 +\d+/\d+", output);
        Assert.Matches(@"test exact match [01]\.\d{4} with epoch 1's weights of 1 \(\d+\.\d\d s/epoch\)", output);
        Assert.Contains("the source position each step weighs most", output, StringComparison.Ordinal);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(_folder, "metrics.csv")).Length);
        Assert.True(File.Exists(Path.Combine(_folder, "model.safetensors")));
    }

    [Theory]
    [InlineData("--data", "poems", "--data poems: for seq2seq, --data names the generated task: reverse, sort, dates")]
    [InlineData("--optimizer", "sgd", "seq2seq trains with Adam: --optimizer sgd and --momentum do not apply")]
    public void Options_that_do_not_apply_are_usage_errors(string option, string value, string message)
    {
        var (code, output, error) = Run("train", "seq2seq", option, value, "--out", _folder);
        Assert.Equal(App.UsageError, code);
        Assert.DoesNotContain("training", output, StringComparison.Ordinal);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
