using System.Runtime.Intrinsics;
using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The weight gradient as a GEMM over implicit im2col columns (<see cref="WeightGradientImplicitGemm"/>) against a
/// double-precision reference of dW[o, c, kh, kw] = sum over n, oh, ow of dy[n, o, oh, ow] * x[n, c, oh*sh+kh-padTop,
/// ow*sw+kw-padLeft] and db = sum of dy, and against im2col + GEMM, on odd shapes: odd channel counts and planes, padding
/// 0, 1 and asymmetric, strides 1 and 2 (also mixed), kernels 1 to 5 wide and up to 5 high, batches 1 and 3, output
/// channels in 1 to 4 vectors and in uneven strips, tap rows that leave a short last group, several chunks of samples. dW and db
/// accumulate; the sums are the same bit for bit on 1 and 2 threads and from run to run.
/// </summary>
public sealed class ConvWeightGradientImplicitGemmTests
{
    private static readonly Conv2dGeometry[] s_shapes =
    [
        new(3, 16, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1),         // ResNet-20's first stage (batch 3): 8 tap rows x 3 columns, one vector
        new(1, 16, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1),         // its stride-2 3x3 layer, batch 1: 4 rows x 3 x 2 vectors
        new(3, 32, 14, 14, 64, 1, 1, 2, 2, 0, 0, 0, 0),         // its stride-2 1x1 projection: x read in place, 6 rows x 4 vectors
        new(3, 5, 9, 13, 7, 3, 3, 1, 1, 1, 1, 1, 1),            // odd plane, fewer channels than a vector, 15 tap rows: a short last group
        new(3, 3, 11, 9, 33, 3, 3, 2, 2, 1, 1, 1, 1),           // odd plane at stride 2, 33 channels: 3 vectors, 2 rows
        new(1, 7, 10, 12, 70, 3, 3, 1, 1, 0, 1, 2, 0),          // asymmetric padding; 70 channels: strips of 2 + 3 vectors
        new(3, 6, 9, 9, 20, 3, 3, 2, 1, 0, 0, 0, 0),            // stride 2 down, 1 across, no padding (x in place)
        new(3, 9, 7, 7, 12, 1, 1, 1, 1, 0, 0, 0, 0),            // 1x1 stride 1: 8 rows of one column, then 1
        new(3, 4, 9, 8, 24, 5, 3, 1, 2, 2, 1, 2, 1),            // a 5x3 kernel, stride 2 across
        new(3, 5, 8, 9, 17, 3, 2, 1, 1, 1, 0, 1, 1),            // a 3x2 kernel, uneven padding
        new(3, 3, 13, 11, 40, 3, 1, 2, 2, 1, 0, 1, 0),          // a 3x1 kernel
        new(3, 64, 30, 30, 64, 3, 3, 1, 1, 1, 1, 1, 1),         // one sample per chunk of L2: three chunks
        new(1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1),             // a plane smaller than the kernel's reach
        new(3, 1, 28, 28, 32, 5, 5, 1, 1, 2, 2, 2, 2),          // TwoConv's 1-channel 5x5 stem: 2 tap rows x 5 columns x 2 vectors, 3 groups
        new(3, 32, 14, 14, 64, 5, 5, 1, 1, 2, 2, 2, 2),         // its 32-channel 5x5 layer: 1 row x 5 x 4 vectors
        new(3, 10, 12, 12, 20, 5, 5, 1, 1, 0, 0, 0, 0),         // MnistNet's unpadded 5x5 layer (x in place), 20 channels in 2 vectors
        new(1, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 0, 0),          // LeNet-5's: 4 rows x 5 x 1 vector, 30 tap rows
        new(3, 3, 11, 10, 9, 4, 4, 2, 1, 1, 2, 2, 1),           // a 4x4 kernel, stride 2 down, asymmetric padding
        new(3, 2, 9, 13, 18, 3, 5, 1, 2, 1, 2, 1, 2),           // a 3x5 kernel, stride 2 across
    ];

    public static TheoryData<int> Shapes()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < s_shapes.Length; i++)
        {
            data.Add(i);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Implicit_gemm_weight_gradient_matches_the_double_reference_and_im2col(int shape)
    {
        var g = s_shapes[shape];
        Assert.Equal(Vector512.IsHardwareAccelerated, CpuDevice.WeightGradientSupports(WeightGradientAlgorithm.ImplicitGemm, g));
        if (!Vector512.IsHardwareAccelerated)
        {
            return;
        }
        var random = new Random(shape * 37 + 5);
        var x = Uniform(random, (int)g.InputLength);
        var dy = Uniform(random, (int)g.OutputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);
        var db0 = Uniform(random, g.OutChannels);

        var gemm = CpuWeightGradient(new CpuDevice(2), WeightGradientAlgorithm.ImplicitGemm, g, x, dy, dw0, db0, GemmKernel.Vector512);
        var (refDw, refDb) = WeightGradientReference(g, Widen(x), Widen(dy));
        AssertClose(Plus(refDw, dw0), gemm.Dw, 1e-4, 1e-4, $"implicit GEMM dW of {g}");
        AssertClose(Plus(refDb, db0), gemm.Db, 1e-4, 1e-4, $"implicit GEMM db of {g}");

        var im2col = CpuWeightGradient(new CpuDevice(2), WeightGradientAlgorithm.Im2ColGemm, g, x, dy, dw0, db0, GemmKernel.Vector512);
        AssertClose(Widen(im2col.Dw), gemm.Dw, 1e-4, 1e-4, $"implicit GEMM against im2col dW of {g}");

        var oneThread = CpuWeightGradient(new CpuDevice(1), WeightGradientAlgorithm.ImplicitGemm, g, x, dy, dw0, db0, GemmKernel.Vector512);
        Assert.Equal(oneThread.Dw, gemm.Dw);
        Assert.Equal(oneThread.Db, gemm.Db);
        var again = CpuWeightGradient(new CpuDevice(2), WeightGradientAlgorithm.ImplicitGemm, g, x, dy, dw0, db0, GemmKernel.Vector512);
        Assert.Equal(gemm.Dw, again.Dw);
        Assert.Equal(gemm.Db, again.Db);
    }

    [Fact]
    public void The_shapes_reach_the_tiles_strips_and_passes_they_are_meant_to()
    {
        var first = new WeightGradientImplicitGemm.Layout(s_shapes[0]);
        Assert.Equal((1, 8, 6), (first.Strips, first.RowsPerItem, first.Items));
        var down = new WeightGradientImplicitGemm.Layout(s_shapes[1]);
        Assert.Equal((1, 4, 30), (down.Strips, down.RowsPerItem, down.S));
        var proj = new WeightGradientImplicitGemm.Layout(s_shapes[2]);
        Assert.Equal((false, 6, 6, 0L), (proj.CopiesX, proj.RowsPerItem, proj.Items, proj.PaddedXLength));
        Assert.Equal((15, 2), (new WeightGradientImplicitGemm.Layout(s_shapes[3]).TapRows, new WeightGradientImplicitGemm.Layout(s_shapes[3]).Groups));
        Assert.Equal(2, new WeightGradientImplicitGemm.Layout(s_shapes[4]).RowsPerItem);
        var wide = new WeightGradientImplicitGemm.Layout(s_shapes[5]);
        Assert.Equal((2, 2, 2), (wide.Strips, wide.StripStart(1), wide.RowsPerItem));
        Assert.Equal(8, new WeightGradientImplicitGemm.Layout(s_shapes[7]).RowsPerItem);
        var big = new WeightGradientImplicitGemm.Layout(s_shapes[11]);
        Assert.Equal((1, 3), (big.ChunkSamples, big.Chunks));
        var resnet = new WeightGradientImplicitGemm.Layout(s_shapes[0] with { Batch = 64 });
        Assert.Equal((4, 16), (resnet.ChunkSamples, resnet.Chunks));
        var last = new WeightGradientImplicitGemm.Layout(s_shapes[3] with { Batch = 21 });
        Assert.Equal((3, 7), (last.ChunkSamples, last.Chunks)); // no even split of 21 within 2-3 samples a chunk
        // TwoConv's 5x5 layer: 5 samples fit in L2, but 13 chunks split 7/6 over two threads; 16 of 4 split evenly.
        var twoConv = new WeightGradientImplicitGemm.Layout(s_shapes[14] with { Batch = 64 });
        Assert.Equal((4, 16), (twoConv.ChunkSamples, twoConv.Chunks));
        var stem5 = new WeightGradientImplicitGemm.Layout(s_shapes[13]);
        Assert.Equal((1, 2, 5, 3), (stem5.Strips, stem5.RowsPerItem, stem5.TapRows, stem5.Groups)); // 20 accumulators
        var wide5 = new WeightGradientImplicitGemm.Layout(s_shapes[14]);
        Assert.Equal((1, 1, 160), (wide5.Strips, wide5.RowsPerItem, wide5.Groups));
        Assert.Equal(4, new WeightGradientImplicitGemm.Layout(s_shapes[16]).RowsPerItem);
    }

    [Fact]
    public void An_empty_batch_leaves_the_gradients_as_they_were()
    {
        var g = new Conv2dGeometry(0, 3, 8, 8, 5, 3, 3, 2, 2, 1, 1, 1, 1);
        var dw0 = Uniform(new Random(3), (int)g.WeightLength);
        var db0 = Uniform(new Random(4), g.OutChannels);
        if (!Vector512.IsHardwareAccelerated)
        {
            return;
        }
        var r = CpuWeightGradient(new CpuDevice(2), WeightGradientAlgorithm.ImplicitGemm, g, [], [], dw0, db0, GemmKernel.Vector512);
        Assert.Equal(dw0, r.Dw);
        Assert.Equal(db0, r.Db);
    }

    [Fact]
    public void Dilated_grouped_and_wider_kernels_are_refused_by_name()
    {
        Conv2dGeometry[] refused =
        [
            new(1, 2, 9, 9, 3, 3, 3, 1, 1, 2, 2, 2, 2, DilationH: 2, DilationW: 2),
            new(1, 4, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, Groups: 2),
            new(1, 2, 11, 11, 3, 7, 7, 1, 1, 3, 3, 3, 3),
        ];
        foreach (var g in refused)
        {
            Assert.False(CpuDevice.WeightGradientSupports(WeightGradientAlgorithm.ImplicitGemm, g));
            var e = Assert.Throws<ArgumentException>(() => CpuWeightGradient(new CpuDevice(1), WeightGradientAlgorithm.ImplicitGemm, g,
                new float[g.InputLength], new float[g.OutputLength], new float[g.WeightLength], new float[g.OutChannels], GemmKernel.Vector512));
            Assert.Contains("ImplicitGemm", e.Message);
        }
    }
}
