using System.Runtime.Intrinsics;
using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Gemm;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// 1x1 stride-1 unpadded convolutions of few positions multiply each sample's input in place (no column copy) unless the sample lacks the
/// slack the micro-kernels' whole-panel reads need past its last plane, which then takes the gathered path. Checked
/// against the double reference on positions that are not whole panels, grouped and not, every kernel width the machine
/// runs, one and two threads; the in-place and gathered samples must give the same bits, whatever the thread count.
/// </summary>
public sealed class PointwiseConvTests
{
    private static readonly Dictionary<string, Conv2dGeometry> s_shapes = new()
    {
        ["7x7, 49 positions"] = new(3, 5, 7, 7, 9, 1, 1),
        ["5x11, 55 positions"] = new(2, 3, 5, 11, 17, 1, 1),
        ["4x4, half a panel"] = new(4, 16, 4, 4, 7, 1, 1),
        ["8x4, one panel"] = new(3, 4, 8, 4, 5, 1, 1),
        ["1x3, a short row"] = new(5, 6, 1, 3, 13, 1, 1, 1, 1, 0, 0, 0, 0),
        ["grouped 6x6"] = new(2, 8, 6, 6, 6, 1, 1, 1, 1, 0, 0, 0, 0, Groups: 2),
        ["densenet-like 14x14"] = new(2, 72, 14, 14, 48, 1, 1),
        ["17x17, gathered (past the in-place bound)"] = new(2, 5, 17, 17, 7, 1, 1),
    };

    public static TheoryData<string, string, int> Cases()
    {
        var data = new TheoryData<string, string, int>();
        var kernels = new List<string> { nameof(GemmKernel.Scalar), nameof(GemmKernel.Vector256) };
        if (Vector512.IsHardwareAccelerated)
        {
            kernels.Add(nameof(GemmKernel.Vector512));
        }
        foreach (string kernel in kernels)
        {
            foreach (string shape in s_shapes.Keys)
            {
                foreach (int threads in new[] { 1, 2 })
                {
                    data.Add(kernel, shape, threads);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void In_place_and_gathered_samples_match_the_double_reference_and_each_other(string kernel, string shape, int threads)
    {
        var g = s_shapes[shape];
        var random = new Random(shape.Length * 17 + g.OutChannels);
        int sample = g.InChannels * g.Height * g.Width;
        var x = Uniform(random, (int)g.InputLength);
        var w = Uniform(random, (int)g.WeightLength);
        var b = Uniform(random, g.OutChannels);
        var expected = CpuConvTests.Reference(g, Widen(x), Widen(w), Widen(b));

        // x with a sample's worth of slack after it (every sample in place), and x at the end of its array (the last
        // sample gathered).
        var slack = new float[x.Length + sample];
        x.CopyTo(slack, 0);
        var tight = new float[x.Length + sample];
        x.CopyTo(tight, sample);
        float[] withSlack = Forward(g, slack, w, b, kernel, threads, first: 0);
        float[] atEnd = Forward(g, tight, w, b, kernel, threads, first: 1);
        float[] oneThread = Forward(g, tight, w, b, kernel, 1, first: 1);

        AssertClose(expected, withSlack, 1e-4, 1e-4, $"y of {g}, in place");
        AssertClose(expected, atEnd, 1e-4, 1e-4, $"y of {g}, last sample gathered");
        Assert.Equal(withSlack, atEnd);
        Assert.Equal(oneThread, atEnd);
    }

    /// <summary>y of the samples [first, first + N) of a batch of N + 1 held in <paramref name="batch"/>, im2col + GEMM forced.</summary>
    private static float[] Forward(Conv2dGeometry g, float[] batch, float[] w, float[] b, string kernel, int threads, int first)
    {
        var d = new CpuDevice(threads) { ConvAlgorithmOverride = ConvAlgorithm.Im2ColGemm };
        var all = Tensor.From(batch, d, g.Batch + 1, g.InChannels, g.Height, g.Width);
        var x = all.Slice(0, first, first + g.Batch);
        var y = Tensor.Zeros(d, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        CpuGemm.KernelOverride = Enum.Parse<GemmKernel>(kernel);
        try
        {
            d.Conv2d(x, Tensor.From(w, d, g.OutChannels, g.InChannels / g.Groups, 1, 1), Tensor.From(b, d, g.OutChannels), y, g);
        }
        finally
        {
            CpuGemm.KernelOverride = null;
        }
        return y.ToArray();
    }
}
