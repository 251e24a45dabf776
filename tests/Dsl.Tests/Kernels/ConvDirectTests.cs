using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The direct 3x3 kernel (<see cref="DirectConv2d"/>) against the double-precision reference of <see cref="CpuConvTests"/>
/// on odd sizes (rows that are not whole 8-float chunks, tiles that cross rows, output channels that are not whole
/// blocks of 4, batch 1), on the scalar and 256-bit paths, which must agree bit for bit (same fused multiply-adds in
/// the same order); and the same sums whatever the thread count.
/// </summary>
public sealed class ConvDirectTests
{
    public static TheoryData<string, int, int, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<string, int, int, int, int, int, bool>();
        foreach (string kernel in new[] { nameof(GemmKernel.Scalar), nameof(GemmKernel.Vector256) })
        {
            data.Add(kernel, 1, 3, 1, 1, 5, true);     // a 1x1 image: only the centre tap sees data
            data.Add(kernel, 2, 5, 5, 7, 6, false);    // a row narrower than a chunk
            data.Add(kernel, 3, 4, 9, 17, 7, true);    // three chunks a row, the last of one column
            data.Add(kernel, 1, 16, 8, 8, 16, false);  // ResNet-20's last stage, batch 1
            data.Add(kernel, 2, 3, 6, 32, 9, true);    // four whole chunks a row: tiles cross rows
            data.Add(kernel, 2, 7, 11, 12, 1, true);   // one output channel
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Direct_3x3_matches_the_double_reference_and_the_scalar_path(string kernel, int batch, int inC, int h, int w, int outC, bool bias)
    {
        var g = new Conv2dGeometry(batch, inC, h, w, outC, 3, 3, 1, 1, 1, 1, 1, 1);
        Assert.True(ConvPlan.Supports(ConvAlgorithm.Direct3x3, g));
        var random = new Random(batch * 1000 + inC * 100 + h * 10 + w + outC);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        float[]? b = bias ? Uniform(random, outC) : null;

        float[] y = Run(new CpuDevice(2), ConvAlgorithm.Direct3x3, kernel, g, x, wt, b);
        var expected = CpuConvTests.Reference(g, Widen(x), Widen(wt), b is null ? null : Widen(b));
        AssertClose(expected, y, 1e-4, 1e-4, $"direct 3x3 ({kernel}) of {g}");

        float[] scalar = Run(new CpuDevice(2), ConvAlgorithm.Direct3x3, nameof(GemmKernel.Scalar), g, x, wt, b);
        Assert.Equal(scalar, y);
        float[] oneThread = Run(new CpuDevice(1), ConvAlgorithm.Direct3x3, kernel, g, x, wt, b);
        Assert.Equal(oneThread, y);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Direct_3x3_input_gradient_matches_the_im2col_path(string kernel, int batch, int inC, int h, int w, int outC, bool accumulate)
    {
        var g = new Conv2dGeometry(batch, inC, h, w, outC, 3, 3, 1, 1, 1, 1, 1, 1);
        var random = new Random(batch * 999 + inC * 99 + h * 9 + w + outC);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        var dy = Uniform(random, (int)g.OutputLength);
        var dx0 = Uniform(random, (int)g.InputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);

        (float[] Dx, float[] Dw) Backward(ConvAlgorithm algorithm) =>
            CpuConvBackward(g, algorithm, kernel, 2, x, wt, dy, dx0, dw0, accumulate);

        var direct = Backward(ConvAlgorithm.Direct3x3);
        var im2col = Backward(ConvAlgorithm.Im2ColGemm);
        // The im2col path is checked against finite differences of the double reference in CpuConvTests.
        AssertClose(Array.ConvertAll(im2col.Dx, v => (double)v), direct.Dx, 1e-4, 1e-4, $"dx ({kernel}) of {g}");
        Assert.Equal(im2col.Dw, direct.Dw);
        Assert.NotEqual(dx0, direct.Dx);
    }

    [Fact]
    public void The_plan_takes_the_direct_kernel_for_wide_3x3_same_layers_only_with_256_bit_kernels()
    {
        // 16 channels and more go to Winograd (WinogradConvTests); 8 to 15 stay direct.
        Assert.Equal(ConvAlgorithm.Direct3x3, ConvPlan.Choose(new Conv2dGeometry(64, 8, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvPlan.Choose(new Conv2dGeometry(64, 1, 28, 28, 24, 3, 3, 1, 1, 1, 1, 1, 1), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.DirectKxK, ConvPlan.Choose(new Conv2dGeometry(64, 16, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvPlan.Choose(new Conv2dGeometry(64, 16, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, Groups: 2), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.DirectConv1d, ConvPlan.Choose(new Conv2dGeometry(4, 16, 1, 28, 32, 1, 3), GemmKernel.Vector256));
    }

    [Fact]
    public void A_forced_algorithm_that_cannot_compute_the_geometry_is_refused_by_name()
    {
        var g = new Conv2dGeometry(1, 2, 5, 5, 3, 3, 3, 2, 2, 1, 1, 1, 1);
        var e = Assert.Throws<ArgumentException>(() => Run(new CpuDevice(1), ConvAlgorithm.Direct3x3, nameof(GemmKernel.Vector256), g,
            new float[g.InputLength], new float[g.WeightLength], null));
        Assert.Contains("Direct3x3", e.Message);
    }

    internal static float[] Run(CpuDevice d, ConvAlgorithm algorithm, string kernel, in Conv2dGeometry g, float[] x, float[] w, float[]? b, bool relu = false)
    {
        d.ConvAlgorithmOverride = algorithm;
        CpuGemm.KernelOverride = Enum.Parse<GemmKernel>(kernel);
        try
        {
            return ConvReluEpilogueTests.Run(d, g, x, w, b, relu);
        }
        finally
        {
            CpuGemm.KernelOverride = null;
        }
    }
}
