using Dsl.Tests.OnnxExport;
using Specs.Cli;
using Specs.Networks;
using Xunit;
using static Dsl.Tests.Cli.CliRun;

namespace Dsl.Tests.Cli;

/// <summary>
/// <c>export</c> writes the checkpoint's weights (not the network's initial ones) as a model ONNX Runtime runs to the same
/// outputs; a missing option or a path that cannot be written is one error line and leaves nothing behind; <c>bench onnx</c> runs.
/// </summary>
public class ExportCommandTests
{
    private static string TempFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "dsl-export-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    [Fact]
    public void Export_writes_the_checkpoints_weights_and_onnx_runtime_agrees()
    {
        string folder = TempFolder();
        var trained = new MnistNet(Device.Cpu, 5);
        string checkpoint = Path.Combine(folder, "model.safetensors");
        Checkpoint.Save(trained, checkpoint);
        string model = Path.Combine(folder, "mnist-net.onnx");

        var (code, output, error) = Run("export", "mnist-net", "--checkpoint", checkpoint, "--onnx", model);

        Assert.Equal("", error);
        Assert.Equal(0, code);
        Assert.Contains("wrote " + model, output, StringComparison.Ordinal);
        trained.Eval();
        var x = OnnxRuntimeCheck.Random(3, 1f, 4, 1, 28, 28);
        var reference = OnnxRuntimeCheck.Run(File.ReadAllBytes(model), x);
        Assert.True(OnnxRuntimeCheck.MaxRelativeError(trained.Forward(x), reference["output"]) <= OnnxRuntimeCheck.Tolerance);
        Assert.Equal(new[] { checkpoint, model }.Order(), Directory.EnumerateFiles(folder).Order());
    }

    [Fact]
    public void Export_without_a_checkpoint_is_a_usage_error()
    {
        var (code, output, error) = Run("export", "mnist-net", "--onnx", "x.onnx");
        Assert.Equal(App.UsageError, code);
        Assert.Equal("", output);
        Assert.Equal("error: --checkpoint is required: the weights to export.", error.Split('\n')[0].TrimEnd('\r'));
    }

    [Fact]
    public void Export_to_a_folder_or_a_missing_folder_fails_with_one_line_and_writes_nothing()
    {
        string folder = TempFolder();
        string checkpoint = Path.Combine(folder, "model.safetensors");
        Checkpoint.Save(new MnistNet(Device.Cpu, 0), checkpoint);

        var (code, _, error) = Run("export", "mnist-net", "--checkpoint", checkpoint, "--onnx", folder);
        Assert.Equal(ExportCommand.Failed, code);
        Assert.Equal($"error: ONNX model '{folder}' cannot be written: it is a directory.", error.TrimEnd());

        string missing = Path.Combine(folder, "no", "m.onnx");
        (code, _, error) = Run("export", "mnist-net", "--checkpoint", checkpoint, "--onnx", missing);
        Assert.Equal(App.UsageError, code);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
        Assert.Equal(new[] { checkpoint }, Directory.EnumerateFileSystemEntries(folder));
    }

    [Fact]
    public void Export_of_a_checkpoint_of_another_network_is_refused_before_writing()
    {
        string folder = TempFolder();
        string checkpoint = Path.Combine(folder, "mlp.safetensors");
        Checkpoint.Save(new Mlp(Device.Cpu, 0), checkpoint);
        string model = Path.Combine(folder, "m.onnx");
        var (code, _, error) = Run("export", "mnist-net", "--checkpoint", checkpoint, "--onnx", model);
        Assert.NotEqual(0, code);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void Bench_onnx_prints_a_row_per_network_and_batch_size()
    {
        var (code, output, error) = Run("bench", "onnx", "mlp", "--batch-sizes", "1,3", "--repeat", "1", "--min-ms", "1", "--threads", "1");
        Assert.Equal("", error);
        Assert.Equal(0, code);
        Assert.Contains("ours vs ORT", output, StringComparison.Ordinal);
        Assert.Equal(2, output.Split('\n').Count(line => line.StartsWith("| mlp | 1 | ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("export")]
    [InlineData("bench", "onnx")]
    public void Help_shows_the_usage(params string[] command)
    {
        var (code, output, _) = Run([.. command, "--help"]);
        Assert.Equal(0, code);
        Assert.Contains("specs " + string.Join(" ", command), output, StringComparison.Ordinal);
    }
}
