using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Gemm;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// <see cref="Device.Conv2d"/> with <c>relu: true</c> (bias and ReLU in the store of each output tile) against the
/// unfused pair, a convolution followed by <see cref="Device.Activation(ActivationKind, float, Tensor, Tensor)"/>: the
/// CPU must agree bit for bit (same products, same max), and both must match the double-precision reference clamped at
/// zero. Shapes cover groups, padding, strides, dilation, 1-high images (the direct Conv1d path), tiles with column
/// tails, the direct 3x3 kernel and several column chunks per thread, on the scalar and 256-bit micro-kernels (and 512-bit where the CPU has it).
/// </summary>
public sealed class ConvReluEpilogueTests
{
    public static TheoryData<string, string, bool> Cases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (string kernel in Kernels())
        {
            foreach (string shape in new[] { "3x3-pad1", "3x3-direct", "3x3-stride2", "1x1", "grouped-dilated", "conv1d", "odd" })
            {
                data.Add(kernel, shape, true);
                data.Add(kernel, shape, false);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_relu_equals_conv_then_relu_and_the_clamped_reference(string kernel, string shape, bool bias)
    {
        var g = Shape(shape);
        var random = new Random(shape.Length * 31 + (bias ? 7 : 0) + kernel.Length);
        var x = Uniform(random, (int)g.InputLength);
        var w = Uniform(random, (int)g.WeightLength);
        float[]? b = bias ? Uniform(random, g.OutChannels) : null;
        // A small column budget forces several chunks per thread where the shape allows it.
        var device = new CpuDevice(2) { ConvColumnBudget = 256 };
        CpuGemm.KernelOverride = Enum.Parse<GemmKernel>(kernel);
        try
        {
            float[] fused = Run(device, g, x, w, b, relu: true);
            float[] plain = Run(device, g, x, w, b, relu: false);
            var yt = Tensor.From(plain, device, plain.Length);
            var relu = Tensor.Full(device, float.NaN, plain.Length);
            device.Activation(ActivationKind.Relu, 0f, yt, relu);
            Assert.Equal(relu.ToArray(), fused);
            Assert.Contains(plain, v => v < 0f); // the clamp had something to do
            var expected = CpuConvTests.Reference(g, Widen(x), Widen(w), b is null ? null : Widen(b));
            AssertClose(Array.ConvertAll(expected, v => Math.Max(v, 0.0)), fused, 1e-4, 1e-4, $"relu(conv) of {g}");
        }
        finally
        {
            CpuGemm.KernelOverride = null;
        }
    }

    internal static float[] Run(Device d, in Conv2dGeometry g, float[] x, float[] w, float[]? b, bool relu, float[]? residual = null)
    {
        var y = Tensor.Full(d, float.NaN, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        d.Conv2d(
            Tensor.From(x, d, g.Batch, g.InChannels, g.Height, g.Width),
            Tensor.From(w, d, g.OutChannels, g.InChannels / g.Groups, g.KernelH, g.KernelW),
            b is null ? null : Tensor.From(b, d, g.OutChannels),
            y, g, relu,
            residual is null ? null : Tensor.From(residual, d, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth));
        return y.ToArray();
    }

    internal static Conv2dGeometry Shape(string name) => name switch
    {
        "3x3-pad1" => new Conv2dGeometry(3, 5, 9, 11, 7, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1),
        "3x3-direct" => new Conv2dGeometry(2, 8, 9, 11, 6, 3, 3, 1, 1, 1, 1, 1, 1),
        "3x3-stride2" => new Conv2dGeometry(2, 4, 10, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1),
        "1x1" => new Conv2dGeometry(3, 6, 5, 7, 9, 1, 1),
        "grouped-dilated" => new Conv2dGeometry(2, 6, 8, 8, 9, 3, 2, 1, 2, 0, 1, 2, 0, 2, 1, Groups: 3),
        "conv1d" => new Conv2dGeometry(3, 4, 1, 23, 5, 1, 3),
        "odd" => new Conv2dGeometry(1, 3, 13, 17, 37, 5, 5, 1, 1, 2, 2, 2, 2),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown test shape"),
    };

    private static IEnumerable<string> Kernels()
    {
        yield return nameof(GemmKernel.Scalar);
        yield return nameof(GemmKernel.Vector256);
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            yield return nameof(GemmKernel.Vector512);
        }
    }
}

/// <summary>The fused ReLU of <see cref="Device.Conv2d"/> on the ILGPU kernels (CPU accelerator) against the CPU device.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class ConvReluEpilogueAgreementTests(IlgpuCpuAcceleratorFixture fixture)
{
    [Theory]
    [InlineData("3x3-pad1", true)]
    [InlineData("3x3-direct", false)]
    [InlineData("grouped-dilated", false)]
    [InlineData("conv1d", true)]
    public void Fused_relu_agrees_with_the_cpu(string shape, bool bias)
    {
        var g = ConvReluEpilogueTests.Shape(shape);
        var random = new Random(shape.Length * 17 + (bias ? 3 : 0));
        var x = Uniform(random, (int)g.InputLength);
        var w = Uniform(random, (int)g.WeightLength);
        float[]? b = bias ? Uniform(random, g.OutChannels) : null;
        float[] cpu = ConvReluEpilogueTests.Run(Device.Cpu, g, x, w, b, relu: true);
        float[] gpu = ConvReluEpilogueTests.Run(fixture.Device, g, x, w, b, relu: true);
        Assert.Contains(cpu, v => v == 0f);
        AssertClose(Array.ConvertAll(cpu, v => (double)v), gpu, 1e-5, 1e-5, $"ilgpu relu(conv) of {g}");
    }
}
