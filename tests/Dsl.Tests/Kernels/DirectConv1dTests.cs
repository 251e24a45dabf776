using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;
using Xunit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The direct stride-1 convolution along one axis (<see cref="DirectConv1d"/>: the batch's columns side by side, one GEMM
/// per kernel tap) against the naive double-precision reference, on odd shapes: padding (symmetric and, through the 2-D
/// entry point, asymmetric), dilation, groups, no bias, a length shorter than the kernel's reach plus padding, one sample,
/// more samples than a chunk holds, accumulated and overwritten input gradients, every micro-kernel kind, and both thread
/// counts (whose weight gradients must be bit-identical: each element is summed by one thread over the whole batch).
/// </summary>
public class DirectConv1dTests
{
    /// <summary>Float sums of a few hundred products of uniform [-1, 1) values against the double reference.</summary>
    private const double Atol = 1e-4;
    private const double Rtol = 1e-4;

    public static TheoryData<string, string> Cases() => new()
    {
        // name, "batch in length out kernel padLeft padRight dilation groups bias"
        { "kim-like", "5 16 11 13 3 0 0 1 1 1" },
        { "widest tap", "3 8 9 7 5 0 0 1 1 1" },
        { "padded", "4 6 7 5 3 1 1 1 1 1" },
        { "asymmetric padding", "3 5 6 4 4 2 1 1 1 0" },
        { "dilated", "3 4 13 6 3 0 0 2 1 1" },
        { "dilated and padded", "2 3 5 4 3 2 2 3 1 1" },
        { "groups", "3 6 10 9 3 1 1 1 3 1" },
        { "depthwise", "2 4 8 4 2 0 1 1 4 0" },
        { "one sample", "1 7 6 3 2 0 0 1 1 1" },
        { "length equals kernel", "4 5 3 6 3 0 0 1 1 1" },
        { "pointwise", "3 9 5 14 1 0 0 1 1 1" },
        { "more samples than a chunk", "70 3 9 5 3 1 0 1 1 1" },
        { "more output channels than two strips", "3 5 12 37 2 0 0 1 1 1" },
        { "more channels than a gradient block", "2 41 6 45 3 0 0 1 1 1" },
        // Input channels past two 64-wide weight-gradient blocks (a partial block, a partial panel) in two groups.
        { "more input channels than two gradient blocks, in groups", "3 146 7 12 3 1 0 1 2 1" },
        // Kim's CNN's channels with more columns than one KC chunk of the weight gradient's reduction.
        { "kim's channels, columns past a chunk", "9 128 45 100 5 0 0 1 1 1" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Direct_conv1d_matches_the_double_reference_on_one_and_two_threads(string name, string sizes)
    {
        int[] v = sizes.Split(' ').Select(int.Parse).ToArray();
        int batch = v[0], inChannels = v[1], length = v[2], outChannels = v[3], kernel = v[4], padLeft = v[5], padRight = v[6], dilation = v[7], groups = v[8];
        bool bias = v[9] == 1;
        var g = new Conv2dGeometry(batch, inChannels, 1, length, outChannels, 1, kernel, PadLeft: padLeft, PadRight: padRight,
            DilationW: dilation, Groups: groups);
        Assert.True(DirectConv1d.Applies(g), $"{name}: {g} should take the direct path");
        var random = new Random(name.Length * 7919 + batch);
        var x = Uniform(random, (int)g.InputLength);
        var w = Uniform(random, (int)g.WeightLength);
        float[]? b = bias ? Uniform(random, outChannels) : null;
        var dy = Uniform(random, (int)g.OutputLength);
        var dxStart = Uniform(random, (int)g.InputLength);
        var expectedY = NaiveReference.Conv2d(x, w, b, g);
        var (expectedDx, expectedDw, expectedDb) = NaiveReference.Conv2dBackward(x, w, dy, g);

        foreach (GemmKernel? kind in new GemmKernel?[] { null, GemmKernel.Vector256, GemmKernel.Scalar })
        {
            CpuGemm.KernelOverride = kind;
            try
            {
                Check(name, g, x, w, b, dy, dxStart, expectedY, expectedDx, expectedDw, expectedDb, $"{kind?.ToString() ?? "detected"} kernels");
            }
            finally
            {
                CpuGemm.KernelOverride = null;
            }
        }
    }

    private static void Check(string name, Conv2dGeometry g, float[] x, float[] w, float[]? b, float[] dy, float[] dxStart,
        double[] expectedY, double[] expectedDx, double[] expectedDw, double[] expectedDb, string kernels)
    {
        bool bias = b is not null;
        int outChannels = g.OutChannels;
        name = $"{name} ({kernels})";
        float[]? dwOneThread = null;
        foreach (int threads in new[] { 1, 2 })
        {
            var device = new CpuDevice(threads);
            var xt = Tensor.From(x, device, (int)g.InputLength);
            var wt = Tensor.From(w, device, (int)g.WeightLength);
            var bt = b is null ? null : Tensor.From(b, device, outChannels);
            var y = Tensor.Full(device, float.NaN, (int)g.OutputLength);
            device.Conv2d(xt, wt, bt, y, g);
            AssertClose(expectedY, y.ToArray(), $"{name} y ({threads} threads)");

            // dw and db accumulate onto what they hold; dx is overwritten, then accumulated onto a start value.
            var dyt = Tensor.From(dy, device, (int)g.OutputLength);
            var dx = Tensor.Full(device, float.NaN, (int)g.InputLength);
            var dw = Tensor.Full(device, 0.5f, (int)g.WeightLength);
            var db = bias ? Tensor.Full(device, -0.25f, outChannels) : null;
            device.Conv2dBackward(xt, wt, dyt, dx, dw, db, g, accumulateDx: false);
            AssertClose(expectedDx, dx.ToArray(), $"{name} dx ({threads} threads)");
            AssertClose(expectedDw.Select(v => v + 0.5).ToArray(), dw.ToArray(), $"{name} dw ({threads} threads)");
            if (bias)
            {
                AssertClose(expectedDb.Select(v => v - 0.25).ToArray(), db!.ToArray(), $"{name} db ({threads} threads)");
            }
            var dxAccumulated = Tensor.From(dxStart, device, (int)g.InputLength);
            var dwOnly = Tensor.Zeros(device, (int)g.WeightLength);
            device.Conv2dBackward(xt, wt, dyt, dxAccumulated, dwOnly, null, g, accumulateDx: true);
            AssertClose(expectedDx.Select((v, i) => v + dxStart[i]).ToArray(), dxAccumulated.ToArray(), $"{name} accumulated dx ({threads} threads)");

            // Without dx: only the weight gradient.
            var dwNoDx = Tensor.Zeros(device, (int)g.WeightLength);
            device.Conv2dBackward(xt, wt, dyt, null, dwNoDx, null, g, accumulateDx: false);
            var dwArray = dwNoDx.ToArray();
            AssertClose(expectedDw, dwArray, $"{name} dw without dx ({threads} threads)");
            if (dwOneThread is null)
            {
                dwOneThread = dwArray;
            }
            else
            {
                Assert.Equal(dwOneThread, dwArray);
            }
        }
    }

    [Fact]
    public void Conv1d_through_the_sequence_entry_point_takes_the_direct_path_and_matches_the_reference()
    {
        // Kim's CNN's shape, reduced: [N, D, T] embedded words, several widths, T just above the widest kernel.
        var random = new Random(11);
        foreach (int kernel in new[] { 3, 4, 5 })
        {
            var g1 = new Conv1dGeometry(6, 12, 6, 10, kernel);
            var g = g1.To2d();
            Assert.True(DirectConv1d.Applies(g));
            var x = Uniform(random, (int)g.InputLength);
            var w = Uniform(random, (int)g.WeightLength);
            var b = Uniform(random, g.OutChannels);
            var device = new CpuDevice(2);
            var y = Tensor.Full(device, float.NaN, g1.Batch, g1.OutChannels, g1.OutLength);
            device.Conv1d(Tensor.From(x, device, 6, 12, 6), Tensor.From(w, device, 10, 12, kernel), Tensor.From(b, device, 10), y, g1);
            AssertClose(NaiveReference.Conv2d(x, w, b, g), y.ToArray(), $"kernel {kernel} y");
        }
    }

    [Theory]
    [InlineData(2, 0, 1)] // stride
    [InlineData(1, 1, 1)] // a kernel two high
    public void Geometries_outside_the_direct_path_are_refused_by_it(int stride, int extraKernelHeight, int height)
    {
        var g = new Conv2dGeometry(2, 3, height + extraKernelHeight, 8, 4, 1 + extraKernelHeight, 3, StrideW: stride);
        Assert.False(DirectConv1d.Applies(g));
    }

    [Theory]
    [InlineData(3, 7, 1, 5, 1)] // Kim's CNN's [N,T,D] -> [N,D,T]: runs of one element before the gather merged them
    [InlineData(2, 1, 3, 4, 2)] // a size-1 swapped axis
    [InlineData(1, 5, 2, 3, 3)] // an inner run and a middle axis
    [InlineData(4, 6, 1, 1, 1)]
    public void SwapAxes_matches_index_arithmetic(int outer, int a, int mid, int b, int inner)
    {
        var random = new Random(outer * 1000 + a * 100 + mid * 10 + b);
        int length = outer * a * mid * b * inner;
        var x = Uniform(random, length);
        var start = Uniform(random, length);
        var expected = new double[length];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < a; i++)
            {
                for (int m = 0; m < mid; m++)
                {
                    for (int j = 0; j < b; j++)
                    {
                        for (int k = 0; k < inner; k++)
                        {
                            expected[((((o * b + j) * mid + m) * a + i) * inner) + k] = x[((((o * a + i) * mid + m) * b + j) * inner) + k];
                        }
                    }
                }
            }
        }
        var device = new CpuDevice(1);
        // A view that starts past the storage's first element, as a slot's rows can.
        var storage = Tensor.From([.. new float[3], .. x], device, length + 3);
        var xt = storage.Narrow(0, 3, length);
        var y = Tensor.Full(device, float.NaN, length);
        device.SwapAxes(xt, y, outer, a, mid, b, inner, accumulate: false);
        AssertClose(expected, y.ToArray(), "swapped");
        var acc = Tensor.From(start, device, length);
        device.SwapAxes(xt, acc, outer, a, mid, b, inner, accumulate: true);
        AssertClose(expected.Select((v, i) => v + start[i]).ToArray(), acc.ToArray(), "accumulated");
    }

    private static float[] Uniform(Random random, int length)
    {
        var a = new float[length];
        for (int i = 0; i < length; i++)
        {
            a[i] = (float)(random.NextDouble() * 2 - 1);
        }
        return a;
    }

    private static void AssertClose(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = Atol + Rtol * Math.Abs(expected[i]);
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance))
            {
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (tolerance {tolerance:G3})");
            }
        }
    }
}
