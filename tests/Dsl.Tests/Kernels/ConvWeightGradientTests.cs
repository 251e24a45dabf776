using System.Runtime.Intrinsics;
using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The direct 3x3 weight gradient (<see cref="WeightGradient3x3"/>) against a double-precision reference of
/// dW[o, c, kh, kw] = sum over n, h, w of dy[n, o, h, w] * x[n, c, h+kh-1, w+kw-1] and db = sum of dy, and against im2col +
/// GEMM, on odd shapes: rows that are not whole 8- or 16-float chunks, a 1x1 image, batch 1, one input channel, output
/// channels that are not whole blocks of 3 (256-bit tiles) or 4 (512-bit tiles), several sample chunks and L2 passes,
/// with both tile widths. dW and db accumulate (parameter gradients add up, as in
/// PyTorch); dx, computed by the other path, is unchanged by the choice; the sums are the same bit for bit on 1 and 2
/// threads and from run to run.
/// </summary>
public sealed class ConvWeightGradientTests
{
    private static readonly (int Batch, int InC, int H, int W, int OutC)[] s_shapes =
    [
        (1, 1, 5, 5, 7),        // batch 1, one input channel, a row narrower than a chunk; blocks of 3 + 4 at 512 bits
        (2, 5, 1, 1, 4),        // a 1x1 image: only the centre tap sees data; 4 channels = blocks of 2 + 2, or one of 4
        (2, 3, 9, 17, 5),       // rows of 2 chunks and a column; blocks of 2 + 3
        (3, 4, 6, 32, 2),       // rows of whole chunks; one block of 2
        (2, 7, 11, 12, 1),      // one output channel
        (1, 16, 8, 8, 16),      // ResNet-20's last stage, batch 1
        (3, 2, 28, 28, 5),      // one sample per L1 chunk: three chunks of samples
        (11, 3, 12, 12, 3),     // 9 samples per L1 chunk: a whole chunk and a partial one
        (3, 40, 28, 28, 40),    // one sample per L2 pass: three passes
        (5, 30, 28, 28, 30),    // two samples per L2 pass: passes of 2, 2 and 1
    ];

    public static TheoryData<int, int, int, int, int, string> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, string>();
        foreach (string kernel in new[] { nameof(GemmKernel.Vector256), nameof(GemmKernel.Vector512) })
        {
            foreach (var (batch, inC, h, w, outC) in s_shapes)
            {
                data.Add(batch, inC, h, w, outC, kernel);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Direct_weight_gradient_matches_the_double_reference_and_im2col(int batch, int inC, int h, int w, int outC, string kernel)
    {
        var kind = Enum.Parse<GemmKernel>(kernel);
        var g = Geometry(batch, inC, h, w, outC);
        Assert.True(CpuDevice.WeightGradientSupports(WeightGradientAlgorithm.Direct3x3, g));
        var random = new Random(batch * 1000 + inC * 100 + h * 10 + w + outC);
        var x = Uniform(random, (int)g.InputLength);
        var dy = Uniform(random, (int)g.OutputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);
        var db0 = Uniform(random, outC);

        var direct = Backward(new CpuDevice(2), WeightGradientAlgorithm.Direct3x3, null, g, x, dy, dw0, db0, withDx: false, kind: kind);
        var (refDw, refDb) = Reference(g, Widen(x), Widen(dy));
        AssertClose(Plus(refDw, dw0), direct.Dw, 1e-4, 1e-4, $"direct dW of {g} ({kernel})");
        AssertClose(Plus(refDb, db0), direct.Db, 1e-4, 1e-4, $"direct db of {g} ({kernel})");

        var im2col = Backward(new CpuDevice(2), WeightGradientAlgorithm.Im2ColGemm, null, g, x, dy, dw0, db0, withDx: false, kind: kind);
        AssertClose(Array.ConvertAll(im2col.Dw, v => (double)v), direct.Dw, 1e-4, 1e-4, $"direct against im2col dW of {g} ({kernel})");
        AssertClose(Array.ConvertAll(im2col.Db, v => (double)v), direct.Db, 1e-5, 1e-5, $"direct against im2col db of {g} ({kernel})");

        var oneThread = Backward(new CpuDevice(1), WeightGradientAlgorithm.Direct3x3, null, g, x, dy, dw0, db0, withDx: false, kind: kind);
        Assert.Equal(oneThread.Dw, direct.Dw);
        Assert.Equal(oneThread.Db, direct.Db);
        var again = Backward(new CpuDevice(2), WeightGradientAlgorithm.Direct3x3, null, g, x, dy, dw0, db0, withDx: false, kind: kind);
        Assert.Equal(direct.Dw, again.Dw);
        Assert.Equal(direct.Db, again.Db);
    }

    [Fact]
    public void The_shapes_reach_the_tiles_and_passes_they_are_meant_to()
    {
        Assert.Equal(Vector512.IsHardwareAccelerated, new WeightGradient3x3.Layout(Geometry(1, 1, 5, 5, 7), GemmKernel.Vector512).Wide);
        Assert.False(new WeightGradient3x3.Layout(Geometry(1, 1, 5, 5, 7), GemmKernel.Vector256).Wide);
        foreach (var kind in new[] { GemmKernel.Vector256, GemmKernel.Vector512 })
        {
            Assert.Equal(1, new WeightGradient3x3.Layout(Geometry(3, 40, 28, 28, 40), kind).PassSamples);
            Assert.Equal(2, new WeightGradient3x3.Layout(Geometry(5, 30, 28, 28, 30), kind).PassSamples);
            Assert.Equal(1, new WeightGradient3x3.Layout(Geometry(3, 2, 28, 28, 5), kind).ChunkSamples);
        }
    }

    [Theory]
    [InlineData(ConvAlgorithm.Im2ColGemm, false)]
    [InlineData(ConvAlgorithm.Im2ColGemm, true)]
    [InlineData(ConvAlgorithm.Direct3x3, false)]
    [InlineData(ConvAlgorithm.Direct3x3, true)]
    public void The_input_gradient_does_not_depend_on_the_weight_gradient_path(ConvAlgorithm forward, bool accumulateDx)
    {
        var g = Geometry(3, 5, 9, 13, 7);
        var random = new Random(12);
        var x = Uniform(random, (int)g.InputLength);
        var dy = Uniform(random, (int)g.OutputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);
        var db0 = Uniform(random, g.OutChannels);
        var dx0 = Uniform(random, (int)g.InputLength);

        var direct = Backward(new CpuDevice(2), WeightGradientAlgorithm.Direct3x3, forward, g, x, dy, dw0, db0, withDx: true, dx0, accumulateDx);
        var im2col = Backward(new CpuDevice(2), WeightGradientAlgorithm.Im2ColGemm, forward, g, x, dy, dw0, db0, withDx: true, dx0, accumulateDx);
        Assert.Equal(im2col.Dx, direct.Dx);
        Assert.NotEqual(dx0, direct.Dx);
        var (refDw, refDb) = Reference(g, Widen(x), Widen(dy));
        AssertClose(Plus(refDw, dw0), direct.Dw, 1e-4, 1e-4, $"direct dW of {g} with dx");
        AssertClose(Plus(refDb, db0), direct.Db, 1e-4, 1e-4, $"direct db of {g} with dx");
        AssertClose(Plus(refDw, dw0), im2col.Dw, 1e-4, 1e-4, $"im2col dW of {g} with dx");
    }

    [Fact]
    public void The_plan_takes_the_direct_weight_gradient_with_256_bit_kernels_and_the_implicit_gemm_with_512_bit_ones()
    {
        var same = Geometry(64, 16, 28, 28, 16);
        Assert.Equal(WeightGradientAlgorithm.Direct3x3, ConvPlan.ChooseWeightGradient(same, GemmKernel.Vector256));
        Assert.Equal(WeightGradientAlgorithm.Direct3x3, ConvPlan.ChooseWeightGradient(Geometry(64, 1, 28, 28, 24), GemmKernel.Vector256));
        Assert.Equal(WeightGradientAlgorithm.Direct3x3, ConvPlan.ChooseWeightGradient(Geometry(64, 32, 14, 14, 32), GemmKernel.Vector256));
        Assert.Equal(WeightGradientAlgorithm.ImplicitGemm, ConvPlan.ChooseWeightGradient(same, GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.ImplicitGemm, ConvPlan.ChooseWeightGradient(Geometry(64, 48, 7, 7, 12), GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.ImplicitGemm, ConvPlan.ChooseWeightGradient(Geometry(64, 64, 7, 7, 64), GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.ImplicitGemm, ConvPlan.ChooseWeightGradient(strided(), GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.ImplicitGemm, ConvPlan.ChooseWeightGradient(new(64, 32, 14, 14, 64, 1, 1, 2, 2, 0, 0, 0, 0), GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.ImplicitGemm, ConvPlan.ChooseWeightGradient(Geometry(64, 1, 28, 28, 24), GemmKernel.Vector512)); // 1-channel stems too
        Assert.Equal(WeightGradientAlgorithm.ImplicitGemm, ConvPlan.ChooseWeightGradient(Geometry(64, 7, 28, 28, 24), GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.Im2ColGemm, ConvPlan.ChooseWeightGradient(strided() with { DilationH = 2, DilationW = 2 }, GemmKernel.Vector512));
        Assert.Equal(WeightGradientAlgorithm.Im2ColGemm, ConvPlan.ChooseWeightGradient(same, GemmKernel.Scalar));
        Assert.Equal(WeightGradientAlgorithm.Im2ColGemm, ConvPlan.ChooseWeightGradient(strided(), GemmKernel.Vector256));
        var grouped = new Conv2dGeometry(64, 16, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, Groups: 2);
        Assert.Equal(WeightGradientAlgorithm.Im2ColGemm, ConvPlan.ChooseWeightGradient(grouped, GemmKernel.Vector256));
        Assert.Equal(WeightGradientAlgorithm.Im2ColGemm, ConvPlan.ChooseWeightGradient(grouped, GemmKernel.Vector512));

        static Conv2dGeometry strided() => new(64, 16, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1);
    }

    [Fact]
    public void A_forced_weight_gradient_that_cannot_compute_the_geometry_is_refused_by_name()
    {
        var g = new Conv2dGeometry(1, 2, 5, 5, 3, 3, 3, 2, 2, 1, 1, 1, 1);
        var e = Assert.Throws<ArgumentException>(() => Backward(new CpuDevice(1), WeightGradientAlgorithm.Direct3x3, null, g,
            new float[g.InputLength], new float[g.OutputLength], new float[g.WeightLength], new float[3], withDx: false));
        Assert.Contains("Direct3x3", e.Message);
    }

    private static Conv2dGeometry Geometry(int batch, int inC, int h, int w, int outC) => new(batch, inC, h, w, outC, 3, 3, 1, 1, 1, 1, 1, 1);

    private static (float[] Dw, float[] Db, float[]? Dx) Backward(CpuDevice d, WeightGradientAlgorithm algorithm, ConvAlgorithm? forward,
        in Conv2dGeometry g, float[] x, float[] dy, float[] dw0, float[] db0, bool withDx, float[]? dx0 = null, bool accumulateDx = false,
        GemmKernel kind = GemmKernel.Vector256)
    {
        d.WeightGradientOverride = algorithm;
        d.ConvAlgorithmOverride = forward;
        var wt = Tensor.From(new float[g.WeightLength], d, g.OutChannels, g.InChannels, 3, 3);
        if (withDx)
        {
            // The weights matter for dx only; any fixed values do.
            wt = Tensor.From(Uniform(new Random(7), (int)g.WeightLength), d, g.OutChannels, g.InChannels, 3, 3);
        }
        var dw = Tensor.From(dw0, d, g.OutChannels, g.InChannels, 3, 3);
        var db = Tensor.From(db0, d, g.OutChannels);
        var dx = withDx ? Tensor.From(dx0 ?? new float[g.InputLength], d, g.Batch, g.InChannels, g.Height, g.Width) : null;
        CpuGemm.KernelOverride = kind;
        try
        {
            d.Conv2dBackward(Tensor.From(x, d, g.Batch, g.InChannels, g.Height, g.Width), wt,
                Tensor.From(dy, d, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth), dx, dw, db, g, accumulateDx);
        }
        finally
        {
            CpuGemm.KernelOverride = null;
        }
        return (dw.ToArray(), db.ToArray(), dx?.ToArray());
    }

    /// <summary>dW and db of a 3x3 stride-1 padding-1 convolution in double precision, straight from the definition.</summary>
    private static (double[] Dw, double[] Db) Reference(in Conv2dGeometry g, double[] x, double[] dy)
    {
        int n = g.Batch, c = g.InChannels, h = g.Height, w = g.Width, o = g.OutChannels;
        var dw = new double[o * c * 9];
        var db = new double[o];
        for (int s = 0; s < n; s++)
        {
            for (int oc = 0; oc < o; oc++)
            {
                for (int r = 0; r < h; r++)
                {
                    for (int q = 0; q < w; q++)
                    {
                        double d = dy[((s * o + oc) * h + r) * w + q];
                        db[oc] += d;
                        for (int ic = 0; ic < c; ic++)
                        {
                            for (int kh = 0; kh < 3; kh++)
                            {
                                int xr = r + kh - 1;
                                if (xr < 0 || xr >= h)
                                {
                                    continue;
                                }
                                for (int kw = 0; kw < 3; kw++)
                                {
                                    int xq = q + kw - 1;
                                    if (xq >= 0 && xq < w)
                                    {
                                        dw[(oc * c + ic) * 9 + kh * 3 + kw] += d * x[((s * c + ic) * h + xr) * w + xq];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dw, db);
    }
}
