using System.Text.Json;
using Xunit;

namespace Dsl.Tests.Transfer;

/// <summary>
/// <see cref="PairNet"/> (per-dimension kernel, stride, padding and dilation; ceil-mode pooling) against PyTorch
/// (<c>Fixtures/pairs_net.json</c> from <c>make_transfer_fixtures.py</c>): outputs, parameter gradients and the input's
/// gradient, on the CPU and on the GPU kernels (ILGPU's CPU accelerator).
/// </summary>
// Its "gpu:cpu" cases use the process's one ILGPU CPU accelerator: they run in that device's collection, one test at a
// time, or a GPU test running beside them sees their kernels (and a planted bad-input fault) on the same stream.
[Collection(Kernels.IlgpuCpuAcceleratorCollection.Name)]
public sealed class PairNetTests
{
    private static JsonElement Fixture()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pairs_net.json")));
        return json.RootElement.Clone();
    }

    private static float[] Data(JsonElement e) => e.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    private static int[] Shape(JsonElement e) => e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-4 * scale + 1e-5 * Math.Abs(expected[i]), $"{what}[{i}]: {actual[i]} vs PyTorch {expected[i]}");
        }
    }

    public static TheoryData<string> Devices => new() { "cpu", "gpu:cpu" };

    [Theory]
    [MemberData(nameof(Devices))]
    public void Tuple_sizes_and_ceil_mode_match_pytorch(string deviceName)
    {
        var f = Fixture();
        var device = Device.Parse(deviceName);
        var net = new PairNet(device, seed: 1) { ComputeInputGradient = true };
        var state = f.GetProperty("params").EnumerateObject().ToDictionary(p => p.Name, p => Tensor.From(Data(p.Value), Shape(p.Value)));
        net.LoadStateDict(state);

        var x = Tensor.From(Data(f.GetProperty("input")), device, Shape(f.GetProperty("input")));
        var y = net.Forward(x);
        Assert.Equal(Shape(f.GetProperty("output")), y.Shape);
        AssertClose(Data(f.GetProperty("output")), y.ToArray(), "output");

        net.ZeroGrad();
        net.Backward(Tensor.From(Data(f.GetProperty("grad_output")), device, y.Shape));
        foreach (var g in f.GetProperty("grads").EnumerateObject())
        {
            AssertClose(Data(g.Value), net.Parameters.Single(p => p.Name == g.Name).Grad.ToArray(), g.Name);
        }
        AssertClose(Data(f.GetProperty("input_grad")), net.InputGradient!.ToArray(), "input gradient");
    }

    [Fact]
    public void Summary_shows_the_rectangular_shapes()
    {
        Assert.Contains("[N,5,5,9]", PairNet.Summary);  // the 3x2 convolution dilated by (1, 2), stride (2, 1)
        Assert.Contains("[N,5,2,5]", PairNet.Summary);  // ceil mode: a fifth window along W, past the input
        Assert.Contains("[N,5,2,2]", PairNet.Summary);  // ceil mode: the third W window would start in the padding
        Assert.Equal([5, 4, 3, 2], new PairNet(Device.Cpu).Parameters.Single(p => p.Name == "conv2.weight").Shape);
    }
}

/// <summary>Export of ceil-mode pooling: refused by name where ONNX Runtime's size rule differs from PyTorch's.</summary>
public sealed class PairNetExportTests
{
    [Fact]
    public void Ceil_mode_average_pool_whose_last_window_starts_in_the_padding_is_refused_by_name()
    {
        var e = Assert.Throws<OnnxExportException>(() => Onnx.Export(new PairNet(Device.Cpu), new MemoryStream()));
        Assert.Contains("AvgPool2d(3, stride: (2, 3), padding: 1, ceilMode: true)", e.Message);
        Assert.Contains("[N,4,5,4]", OnnxCeilNet.Summary); // the average pool: 5 x 4 windows, the last column past the padded input
    }
}
