using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The direct weight gradient of stride-1 convolutions (<see cref="WeightGradientKxK"/>) against a double-precision
/// reference of dW[o, c, kh, kw] = sum over n, oh, ow of dy[n, o, oh, ow] * x[n, c, oh+kh-padTop, ow+kw-padLeft] and
/// db = sum of dy, and against im2col + GEMM, on odd shapes: one input channel and channel counts that are not whole
/// vectors, odd planes, asymmetric and no padding, kernel widths 1 to 7 and non-square kernels, output channels that
/// split into uneven strips, several L2 passes, with both vector widths. dW and db accumulate; the sums are the same bit
/// for bit on 1 and 2 threads and from run to run.
/// </summary>
public sealed class ConvWeightGradientKxKTests
{
    private static readonly Conv2dGeometry[] s_shapes =
    [
        new(3, 1, 28, 28, 32, 5, 5, 1, 1, 2, 2, 2, 2),          // TwoConv's first layer (batch 3): one channel, 2 vectors of 16
        new(2, 32, 14, 14, 64, 5, 5, 1, 1, 2, 2, 2, 2),         // TwoConv's second layer: a strip of 4 vectors
        new(2, 10, 12, 12, 20, 5, 5),                           // MnistNet's second layer: no padding, 20 channels
        new(1, 3, 9, 13, 7, 5, 5, 1, 1, 2, 2, 2, 2),            // batch 1, odd plane, fewer channels than a vector
        new(2, 5, 7, 11, 70, 5, 5, 1, 1, 1, 3, 2, 0),           // asymmetric padding; 70 channels: strips of 2 + 3 vectors (512) or 5 of 1-2 (256)
        new(2, 3, 6, 8, 9, 3, 5, 1, 1, 0, 1, 2, 3),             // 3x5 kernel, right padding wider than left
        new(2, 4, 10, 9, 40, 7, 7, 1, 1, 3, 3, 3, 3),           // 7x7: strips of 1 + 2 vectors (512) or 5 of 1 (256)
        new(2, 6, 8, 8, 33, 3, 3, 1, 1, 1, 1, 1, 1),            // 3x3 "same", 33 channels
        new(3, 2, 5, 6, 5, 1, 1),                               // 1x1
        new(2, 3, 12, 12, 8, 6, 4, 1, 1, 2, 1, 3, 2),           // even kernel sizes, asymmetric padding
        new(3, 64, 24, 24, 64, 5, 5, 1, 1, 2, 2, 2, 2),         // one sample per L2 pass: three passes
        new(1, 2, 2, 2, 3, 5, 5, 1, 1, 2, 2, 2, 2),             // a plane smaller than the kernel
    ];

    public static TheoryData<int, string> Shapes()
    {
        var data = new TheoryData<int, string>();
        foreach (string kernel in new[] { nameof(GemmKernel.Vector256), nameof(GemmKernel.Vector512) })
        {
            for (int i = 0; i < s_shapes.Length; i++)
            {
                data.Add(i, kernel);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Direct_weight_gradient_matches_the_double_reference_and_im2col(int shape, string kernel)
    {
        var kind = Enum.Parse<GemmKernel>(kernel);
        var g = s_shapes[shape];
        Assert.True(CpuDevice.WeightGradientSupports(WeightGradientAlgorithm.DirectKxK, g));
        var random = new Random(shape * 31 + (int)kind);
        var x = Uniform(random, (int)g.InputLength);
        var dy = Uniform(random, (int)g.OutputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);
        var db0 = Uniform(random, g.OutChannels);

        var direct = CpuWeightGradient(new CpuDevice(2), WeightGradientAlgorithm.DirectKxK, g, x, dy, dw0, db0, kind);
        var (refDw, refDb) = WeightGradientReference(g, Widen(x), Widen(dy));
        AssertClose(Plus(refDw, dw0), direct.Dw, 1e-4, 1e-4, $"direct dW of {g} ({kernel})");
        AssertClose(Plus(refDb, db0), direct.Db, 1e-4, 1e-4, $"direct db of {g} ({kernel})");

        var im2col = CpuWeightGradient(new CpuDevice(2), WeightGradientAlgorithm.Im2ColGemm, g, x, dy, dw0, db0, kind);
        AssertClose(Array.ConvertAll(im2col.Dw, v => (double)v), direct.Dw, 1e-4, 1e-4, $"direct against im2col dW of {g} ({kernel})");
        AssertClose(Array.ConvertAll(im2col.Db, v => (double)v), direct.Db, 1e-5, 1e-5, $"direct against im2col db of {g} ({kernel})");

        var oneThread = CpuWeightGradient(new CpuDevice(1), WeightGradientAlgorithm.DirectKxK, g, x, dy, dw0, db0, kind);
        Assert.Equal(oneThread.Dw, direct.Dw);
        Assert.Equal(oneThread.Db, direct.Db);
        var again = CpuWeightGradient(new CpuDevice(2), WeightGradientAlgorithm.DirectKxK, g, x, dy, dw0, db0, kind);
        Assert.Equal(direct.Dw, again.Dw);
        Assert.Equal(direct.Db, again.Db);
    }

    [Fact]
    public void The_shapes_reach_the_strips_and_passes_they_are_meant_to()
    {
        var two = new WeightGradientKxK.Layout(s_shapes[1], GemmKernel.Vector512);
        if (two.Wide)
        {
            Assert.Equal(1, two.Strips);
            Assert.Equal(2, new WeightGradientKxK.Layout(s_shapes[4], GemmKernel.Vector512).Strips);
            Assert.Equal(2, new WeightGradientKxK.Layout(s_shapes[6], GemmKernel.Vector512).Strips);
        }
        Assert.Equal(5, new WeightGradientKxK.Layout(s_shapes[4], GemmKernel.Vector256).Strips);
        Assert.Equal(5, new WeightGradientKxK.Layout(s_shapes[6], GemmKernel.Vector256).Strips);
        Assert.Equal(16, new WeightGradientKxK.Layout(s_shapes[1], GemmKernel.Vector256).S);
        Assert.Equal(11, new WeightGradientKxK.Layout(s_shapes[5], GemmKernel.Vector256).S);
        foreach (var kind in new[] { GemmKernel.Vector256, GemmKernel.Vector512 })
        {
            Assert.Equal(1, new WeightGradientKxK.Layout(s_shapes[10], kind).PassSamples);
        }
    }

    [Fact]
    public void The_plan_takes_the_implicit_gemm_for_stride_1_5x5_layers_and_the_direct_reduction_for_wider_ones_whose_tiles_are_mostly_useful()
    {
        var twoConv2 = new Conv2dGeometry(64, 32, 14, 14, 64, 5, 5, 1, 1, 2, 2, 2, 2);
        var twoConv1 = new Conv2dGeometry(64, 1, 28, 28, 32, 5, 5, 1, 1, 2, 2, 2, 2);
        var lenet2 = new Conv2dGeometry(64, 6, 14, 14, 16, 5, 5);
        var mnist2 = new Conv2dGeometry(64, 10, 12, 12, 20, 5, 5);
        Assert.Equal(WeightGradientAlgorithm.ImplicitGemm, ConvPlan.ChooseWeightGradient(twoConv2, GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.ImplicitGemm, ConvPlan.ChooseWeightGradient(lenet2, GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.ImplicitGemm, ConvPlan.ChooseWeightGradient(twoConv1, GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.ImplicitGemm, ConvPlan.ChooseWeightGradient(mnist2, GemmKernel.Vector512));
        var sevenWide = twoConv2 with { KernelH = 7, KernelW = 7, PadTop = 3, PadLeft = 3, PadBottom = 3, PadRight = 3 };
        Assert.Equal(WeightGradientAlgorithm.DirectKxK, ConvPlan.ChooseWeightGradient(sevenWide, GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.DirectKxK, ConvPlan.ChooseWeightGradient(lenet2 with { KernelH = 7, KernelW = 7 }, GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.Im2ColGemm, ConvPlan.ChooseWeightGradient(mnist2 with { KernelH = 7, KernelW = 7 }, GemmKernel.Vector512));
        Assert.Equal(0.875, new WeightGradientKxK.Layout(twoConv2, GemmKernel.Vector512).UsefulShare, 6);
        Assert.Equal(WeightGradientAlgorithm.Im2ColGemm, ConvPlan.ChooseWeightGradient(twoConv2 with { StrideH = 2, StrideW = 2 }, GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.ImplicitGemm, ConvPlan.ChooseWeightGradient(
            twoConv2 with { KernelH = 1, KernelW = 1, PadTop = 0, PadLeft = 0, PadBottom = 0, PadRight = 0 }, GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.Im2ColGemm, ConvPlan.ChooseWeightGradient(twoConv2, GemmKernel.Vector256));
        Assert.Equal(WeightGradientAlgorithm.Im2ColGemm, ConvPlan.ChooseWeightGradient(twoConv2, GemmKernel.Scalar));
        Assert.Equal(WeightGradientAlgorithm.ImplicitGemm, ConvPlan.ChooseWeightGradient(new Conv2dGeometry(64, 16, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1), GemmKernel.Vector512));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_input_gradient_does_not_depend_on_the_weight_gradient_path(bool accumulateDx)
    {
        var g = new Conv2dGeometry(3, 5, 9, 13, 7, 5, 5, 1, 1, 2, 2, 2, 2);
        var random = new Random(21);
        var x = Uniform(random, (int)g.InputLength);
        var w = Uniform(random, (int)g.WeightLength);
        var dy = Uniform(random, (int)g.OutputLength);
        var dx0 = Uniform(random, (int)g.InputLength);
        float[] Dx(WeightGradientAlgorithm algorithm)
        {
            var d = new CpuDevice(2) { WeightGradientOverride = algorithm, ConvAlgorithmOverride = ConvAlgorithm.Im2ColGemm };
            var dx = Tensor.From((float[])dx0.Clone(), d, g.Batch, g.InChannels, g.Height, g.Width);
            var dw = Tensor.Zeros(d, g.OutChannels, g.InChannels, g.KernelH, g.KernelW);
            d.Conv2dBackward(Tensor.From(x, d, g.Batch, g.InChannels, g.Height, g.Width),
                Tensor.From(w, d, g.OutChannels, g.InChannels, g.KernelH, g.KernelW),
                Tensor.From(dy, d, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth), dx, dw, null, g, accumulateDx);
            return dx.ToArray();
        }
        var direct = Dx(WeightGradientAlgorithm.DirectKxK);
        Assert.Equal(Dx(WeightGradientAlgorithm.Im2ColGemm), direct);
        Assert.NotEqual(dx0, direct);
    }

    [Fact]
    public void An_empty_batch_leaves_the_gradients_as_they_were()
    {
        var g = new Conv2dGeometry(0, 3, 8, 8, 5, 5, 5, 1, 1, 2, 2, 2, 2);
        var dw0 = Uniform(new Random(3), (int)g.WeightLength);
        var db0 = Uniform(new Random(4), g.OutChannels);
        var r = CpuWeightGradient(new CpuDevice(2), WeightGradientAlgorithm.DirectKxK, g, [], [], dw0, db0, GemmKernel.Vector512);
        Assert.Equal(dw0, r.Dw);
        Assert.Equal(db0, r.Db);
    }

    [Fact]
    public void Strided_dilated_and_grouped_convolutions_are_refused_by_name()
    {
        Conv2dGeometry[] refused =
        [
            new(1, 2, 9, 9, 3, 5, 5, 2, 2, 2, 2, 2, 2),
            new(1, 2, 9, 9, 3, 3, 3, 1, 1, 2, 2, 2, 2, DilationH: 2, DilationW: 2),
            new(1, 4, 9, 9, 4, 5, 5, 1, 1, 2, 2, 2, 2, Groups: 2),
            new(1, 2, 9, 9, 3, 9, 9, 1, 1, 4, 4, 4, 4),
        ];
        foreach (var g in refused)
        {
            Assert.False(CpuDevice.WeightGradientSupports(WeightGradientAlgorithm.DirectKxK, g));
            var e = Assert.Throws<ArgumentException>(() => CpuWeightGradient(new CpuDevice(1), WeightGradientAlgorithm.DirectKxK, g,
                new float[g.InputLength], new float[g.OutputLength], new float[g.WeightLength], new float[g.OutChannels], GemmKernel.Vector256));
            Assert.Contains("DirectKxK", e.Message);
        }
    }
}
