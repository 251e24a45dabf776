using Specs.Cli;
using Xunit;
using static Dsl.Tests.Cli.CliRun;

namespace Dsl.Tests.Cli;

/// <summary>
/// The command line as a user types it: every command parses its options, a bad value is one line naming the option
/// and exit code 2, <c>--help</c> works on each command, and <c>train</c> writes its run folder.
/// </summary>
public class AppTests
{
    /// <summary>A usage error: exit code 2, nothing on the output, and the first error line saying <paramref name="message"/>.</summary>
    private static void AssertUsageError(string message, params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.Equal(App.UsageError, code);
        Assert.Equal("", output);
        string first = error.Split('\n')[0];
        Assert.Equal("error: " + message, first.TrimEnd('\r'));
    }

    [Theory]
    [InlineData("train")]
    [InlineData("summary")]
    [InlineData("list")]
    [InlineData("bench")]
    [InlineData("bench", "train")]
    [InlineData("bench", "mlp")]
    [InlineData("bench", "gemm")]
    [InlineData("bench", "memory")]
    public void Help_on_each_command_succeeds_and_shows_its_usage(params string[] command)
    {
        var (code, output, error) = Run([.. command, "--help"]);
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Contains("USAGE:", output, StringComparison.Ordinal);
        Assert.Contains("specs " + string.Join(" ", command), output, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_help_lists_every_option_of_the_recipe()
    {
        var (_, output, _) = Run("train", "--help");
        foreach (string option in new[] { "--epochs", "--batch-size", "--lr", "--optimizer", "--momentum", "--schedule", "--seed", "--data", "--device", "--limit-train", "--limit-test", "--out", "--init" })
        {
            Assert.Contains(option + " <", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void No_arguments_shows_the_commands_and_fails()
    {
        var (code, output, _) = Run();
        Assert.Equal(App.UsageError, code);
        foreach (string command in new[] { "list", "summary", "train", "bench" })
        {
            Assert.Contains(command, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Unknown_network_lists_the_known_ones()
        => AssertUsageError("unknown network 'mnist' (known: " + string.Join(", ", NetworkCatalog.All.Select(n => n.Name)) + "; see 'list').", "train", "mnist");

    [Theory]
    [InlineData("--epochs must be a positive integer, got 0.", "train", "mlp", "--epochs", "0")]
    [InlineData("--epochs must be a positive integer, got -2.", "train", "mlp", "--epochs", "-2")]
    [InlineData("--epochs must be an integer, got 'two'.", "train", "mlp", "--epochs", "two")]
    [InlineData("--lr must be a number, got 'fast'.", "train", "mlp", "--lr=fast")]
    [InlineData("--batch-size must be a positive integer, got 0.", "train", "mlp", "--batch-size", "0")]
    [InlineData("--momentum must lie in [0, 1], got 1.5.", "train", "mlp", "--momentum", "1.5")]
    [InlineData("--optimizer must be one of sgd, adam, got 'rmsprop'.", "train", "mlp", "--optimizer", "rmsprop")]
    [InlineData("--schedule must be one of none, cosine, got 'step'.", "train", "mlp", "--schedule", "step")]
    [InlineData("--device: Unknown device 'tpu': use cpu, cpu:THREADS, gpu, gpu:INDEX or gpu:cpu.", "train", "mlp", "--device", "tpu")]
    [InlineData("--device: Unknown device 'cpu:0': use cpu, cpu:THREADS, gpu, gpu:INDEX or gpu:cpu.", "train", "mlp", "--device", "cpu:0")]
    [InlineData("Unknown option 'epoch'.", "train", "mlp", "--epoch", "3")]
    [InlineData("Command 'train' is missing required argument 'network'.", "train")]
    [InlineData("Unknown command 'fit'.", "fit", "mlp")]
    [InlineData("--threads must be positive integers separated by commas, got '1,0'.", "bench", "train", "mlp", "--threads", "1,0")]
    [InlineData("--warmup must be 0 or more, got -1.", "bench", "mlp", "--warmup", "-1")]
    [InlineData("--threads must be positive integers separated by commas, got 'all'.", "bench", "gemm", "--threads", "all")]
    [InlineData("--batch must be a positive integer, got 0.", "bench", "memory", "mlp", "--batch", "0")]
    public void Bad_arguments_are_one_line_errors_with_exit_code_2(string message, params string[] args)
        => AssertUsageError(message, args);

    [Fact]
    public void Bench_memory_prints_the_planned_bytes_and_what_the_first_steps_allocate()
    {
        var (code, output, error) = Run("bench", "memory", "mnist-net", "--batch", "8");
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Matches(@"training +[\d,.]+ (B|MB) +x 8 = ", output);
        Assert.Matches(@"evaluation +[\d,.]+ (B|MB) +x 8 = ", output);
        Assert.Matches(@"unplanned +[\d,.]+ (B|MB) +x 8 = ", output);
        Assert.Matches(@"constructor \+ first step +[\d,.]+ (B|MB)", output);
        Assert.Contains("second step", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_override_only_the_options_given()
    {
        var recipe = NetworkCatalog.Get("mnist-net").DefaultRecipe;
        var settings = new TrainSettings { Network = "mnist-net", Optimizer = "ADAM", Epochs = 3 };
        Assert.True(settings.Validate().Successful);
        var applied = settings.ApplyTo(recipe);
        Assert.Equal(recipe with { Optimizer = OptimizerKind.Adam, Epochs = 3 }, applied);
    }

    [Fact]
    public void List_shows_every_network()
    {
        var (code, output, _) = Run("list");
        Assert.Equal(0, code);
        foreach (var n in NetworkCatalog.All)
        {
            Assert.Contains(n.Name, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Summary_prints_the_generated_table_whatever_the_case_of_the_name()
    {
        var (code, output, _) = Run("summary", "MNIST-NET");
        Assert.Equal(0, code);
        Assert.Equal(Specs.Networks.MnistNet.Summary.TrimEnd(), output.TrimEnd());
    }

    [Fact]
    public void Default_run_folder_is_under_runs()
    {
        string folder = TrainCommand.DefaultFolder("mlp", new DateTime(2026, 1, 2, 3, 4, 5));
        Assert.Equal(Path.Combine("runs", "mlp-20260102-030405"), folder);
    }

    [Fact]
    public void Train_writes_its_metrics_plot_and_weights_into_the_out_folder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "dsl-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            string data = Path.Combine(Generator.GeneratorHarness.RepoRoot(), "Specs", "Data", "fashion-mnist");
            var (code, output, error) = Run("train", "mlp", "--epochs", "1", "--batch-size", "32", "--limit-train", "256", "--limit-test", "64",
                "--optimizer", "adam", "--lr", "1e-3", "--seed", "3", "--device", "cpu:1", "--data", data, "--out", folder);
            Assert.True(code == 0, error);
            Assert.Contains("training mlp", output, StringComparison.Ordinal);
            Assert.Contains("adam lr 0.001, batch 32, 1 epochs", output, StringComparison.Ordinal);
            Assert.Contains("256 train / 64 test images", output, StringComparison.Ordinal);
            Assert.Matches(@"test accuracy 0\.\d{4} after 1 epoch", output);
            foreach (string file in new[] { "loss.png", "metrics.csv", "steps.csv", "model.safetensors" })
            {
                Assert.True(File.Exists(Path.Combine(folder, file)), file);
            }
            Assert.Equal(2, File.ReadAllLines(Path.Combine(folder, "metrics.csv")).Length);
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
