using Specs.Cli;
using Specs.Transfer;
using Xunit;
using static Dsl.Tests.Cli.CliRun;

namespace Dsl.Tests.Transfer;

/// <summary>
/// The <c>transfer</c> path on the bundled Fashion-MNIST slice, small enough for CI: the table has every size and method,
/// the frozen trunk trains only the head, and the subsets hold what they say.
/// </summary>
public sealed class TransferCommandTests
{
    private static readonly string Data = Path.Combine(Generator.GeneratorHarness.RepoRoot(), "Specs", "Data", "fashion-mnist");

    [Fact]
    public void Transfer_prints_the_table_of_the_three_methods()
    {
        var (code, output, error) = Run("transfer", "--sizes", "3,6", "--pretrain-epochs", "1", "--epochs", "2", "--limit-pretrain", "400",
            "--limit-test", "200", "--device", "cpu:1", "--data", Data);
        Assert.True(code == 0, error + output);
        Assert.Equal("", error);
        Assert.Contains("pretraining on classes 0-4: 400 images", output);
        Assert.Contains("| images per class | from scratch: accuracy, s/epoch | frozen trunk + new head: accuracy, s/epoch | fine-tune all: accuracy, s/epoch |", output);
        Assert.Matches(@"\| 3 \| [01]\.\d{3}, \d+\.\d{3} \| [01]\.\d{3}, \d+\.\d{3} \| [01]\.\d{3}, \d+\.\d{3} \|", output);
        Assert.Matches(@"\| 6 \|", output);
        // The frozen trunk trains the head's 64 x 5 + 5 parameters only.
        Assert.Contains("frozen trunk + new head  accuracy", output);
        Assert.Contains("(325 trained parameters)", output);
    }

    [Fact]
    public void Bad_options_are_usage_errors()
    {
        var (code, _, error) = Run("transfer", "--sizes", "10,x");
        Assert.Equal(App.UsageError, code);
        Assert.Contains("--sizes must be positive integers separated by commas, got '10,x'", error);
    }

    [Fact]
    public void Subsets_relabel_the_classes_and_draw_per_class()
    {
        var data = Dsl.Data.FashionMnist.Load(Data);
        var target = TransferExperiment.Classes(data.Train, 5, 5, "target");
        Assert.All(target.Labels.ToArray(), l => Assert.InRange(l, 0, 4));
        Assert.Equal(data.Train.Labels.ToArray().Count(l => l >= 5), target.Count);
        var few = TransferExperiment.PerClass(target, 7, seed: 1);
        Assert.Equal(35, few.Count);
        Assert.All(few.Labels.ToArray().GroupBy(l => l), g => Assert.Equal(7, g.Count()));
        Assert.Equal(few.Pixels.ToArray(), TransferExperiment.PerClass(target, 7, seed: 1).Pixels.ToArray());
    }
}
