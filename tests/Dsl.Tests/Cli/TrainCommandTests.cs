using Specs.Cli;
using Specs.Networks;
using Xunit;
using static Dsl.Tests.Cli.CliRun;

namespace Dsl.Tests.Cli;

/// <summary>
/// <c>train</c>'s refusals and failures: a bad <c>--out</c> before any training, and a diverging run that stops,
/// says so, keeps only finite weights and exits with <see cref="TrainCommand.Diverged"/>.
/// </summary>
public class TrainCommandTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dsl-train-" + Guid.NewGuid().ToString("N"));
    private static readonly string Data = Path.Combine(Generator.GeneratorHarness.RepoRoot(), "Specs", "Data", "fashion-mnist");

    public TrainCommandTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string[] Small(params string[] more) =>
        ["train", "mlp", "--epochs", "2", "--limit-train", "640", "--limit-test", "64", "--device", "cpu:1", "--data", Data, .. more];

    [Fact]
    public void Out_naming_an_existing_file_or_a_path_under_a_file_is_refused_before_training()
    {
        string file = Path.Combine(_folder, "taken");
        File.WriteAllText(file, "x");
        var (code, output, error) = Run(Small("--out", file));
        Assert.Equal(App.UsageError, code);
        Assert.DoesNotContain("training", output, StringComparison.Ordinal);
        Assert.StartsWith($"error: --out {file}: is an existing file", error, StringComparison.Ordinal);

        (code, output, error) = Run(Small("--out", Path.Combine(file, "run")));
        Assert.Equal(App.UsageError, code);
        Assert.DoesNotContain("training", output, StringComparison.Ordinal);
        Assert.Contains($"{file} is a file, so no folder can be made under it", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_learning_rate_that_makes_the_loss_NaN_stops_the_run_with_exit_code_3_and_saves_no_weights()
    {
        string run = Path.Combine(_folder, "run");
        var (code, output, error) = Run(Small("--optimizer", "sgd", "--lr", "1e6", "--out", run));
        Assert.Equal(TrainCommand.Diverged, code);
        Assert.Matches(@"^error: Mlp: the training loss became (NaN|-?∞|-?Infinity) in epoch 1", error);
        Assert.Contains("no epoch ended with finite losses, so no weights were saved", error, StringComparison.Ordinal);
        Assert.DoesNotContain("test accuracy", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(run, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(run, "loss.png")));
    }

    [Fact]
    public void Init_from_an_all_NaN_checkpoint_stops_at_the_first_step()
    {
        var net = new Mlp(Device.Cpu, seed: 1);
        foreach (var p in net.Parameters)
        {
            Device.Cpu.Upload(Enumerable.Repeat(float.NaN, (int)p.Length).ToArray(), p.Value);
        }
        string init = Path.Combine(_folder, "nan.safetensors");
        Checkpoint.Save(net, init);
        var (code, _, error) = Run(Small("--init", init, "--out", Path.Combine(_folder, "run")));
        Assert.Equal(TrainCommand.Diverged, code);
        Assert.Contains("the training loss became NaN in epoch 1 (step 1)", error, StringComparison.Ordinal);
    }

    private static void WriteGz(string path, byte[] content)
    {
        using var file = File.Create(path);
        using var gz = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest);
        gz.Write(content);
    }

    [Fact]
    public void An_empty_test_set_is_refused_with_a_reason()
    {
        // A copy of the slice whose test files hold zero images.
        string data = Path.Combine(_folder, "data");
        Directory.CreateDirectory(data);
        foreach (var name in Directory.GetFiles(Data))
        {
            File.Copy(name, Path.Combine(data, Path.GetFileName(name)));
        }
        WriteGz(Path.Combine(data, "t10k-images-idx3-ubyte.gz"), [0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28]);
        WriteGz(Path.Combine(data, "t10k-labels-idx1-ubyte.gz"), [0, 0, 8, 1, 0, 0, 0, 0]);
        var (code, output, error) = Run(["train", "mlp", "--epochs", "1", "--device", "cpu:1", "--data", data, "--out", Path.Combine(_folder, "run")]);
        Assert.Equal(App.UsageError, code);
        Assert.DoesNotContain("training mlp", output, StringComparison.Ordinal);
        Assert.Contains("test set", error, StringComparison.Ordinal);
        Assert.Contains("is empty", error, StringComparison.Ordinal);
    }
}
