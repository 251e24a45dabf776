using Dsl.Devices.Cpu;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

// How the gradients are checked: a naive direct convolution written in double precision (Reference below, independent
// of im2col and GEMM) is the oracle. The scalar loss is L = sum(R .* conv(x, w, b)) for a random projection R, so the
// analytic backward runs with dy = R. dL/dx, dL/dw and dL/db come from central finite differences of the double
// reference (step 1e-3; L is bilinear in (x, w, b), so the difference quotient is exact up to double rounding), and the
// float kernels must match them within atol 1e-4 + rtol 1e-4 (float accumulation error of sums of ~100 terms).
public class CpuConvTests
{
    private const double Atol = 1e-4;
    private const double Rtol = 1e-4;

    private readonly CpuDevice _device = new(2);

    public static TheoryData<int, string, int, string, string> Grid()
    {
        var data = new TheoryData<int, string, int, string, string>();
        foreach (int stride in new[] { 1, 2 })
        {
            foreach (string padding in new[] { "none", "one", "asymmetric" })
            {
                foreach (int dilation in new[] { 1, 2 })
                {
                    foreach (string groups in new[] { "1", "2", "depthwise" })
                    {
                        foreach (string kernel in new[] { "1x1", "3x3", "2x3" })
                        {
                            data.Add(stride, padding, dilation, groups, kernel);
                        }
                    }
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Grid))]
    public void Conv2d_forward_matches_naive_double_reference(int stride, string padding, int dilation, string groups, string kernel)
    {
        var (g, hasBias, _) = Case(stride, padding, dilation, groups, kernel);
        var random = new Random(StableHash($"{stride}{padding}{dilation}{groups}{kernel}"));
        var x = Uniform(random, (int)g.InputLength);
        var w = Uniform(random, (int)g.WeightLength);
        float[]? b = hasBias ? Uniform(random, g.OutChannels) : null;

        var y = Forward(g, x, w, b);

        var expected = Reference(g, Widen(x), Widen(w), b is null ? null : Widen(b));
        AssertClose(expected, y, Atol, Rtol, $"y of {g}");
    }

    [Theory]
    [MemberData(nameof(Grid))]
    public void Conv2d_backward_matches_finite_differences_of_double_reference(int stride, string padding, int dilation, string groups, string kernel)
    {
        var (g, hasBias, accumulateDx) = Case(stride, padding, dilation, groups, kernel);
        var random = new Random(StableHash($"{kernel}{groups}{dilation}{padding}{stride}backward"));
        CheckBackward(g, hasBias, accumulateDx, random, _device);
    }

    [Theory]
    [InlineData(1, 1, 1)]   // pointwise, one sample per chunk: GEMMs read x and write dx in place
    [InlineData(1, 1, 2)]   // pointwise, two samples then one
    [InlineData(3, 3, 1)]   // 3x3, one sample per chunk: GEMM output written straight into y
    [InlineData(3, 3, 2)]
    public void Conv2d_split_into_batch_chunks_matches_reference(int kh, int kw, int chunk)
    {
        var g = new Conv2dGeometry(3, 4, 5, 5, 6, kh, kw, PadTop: kh / 2, PadLeft: kw / 2, PadBottom: kh / 2, PadRight: kw / 2, Groups: 2);
        var device = new CpuDevice(2) { ConvColumnBudget = (long)chunk * 4 * kh * kw * g.OutHeight * g.OutWidth };
        CheckBackward(g, hasBias: true, accumulateDx: chunk == 2, new Random(kh * 10 + chunk), device);
        var random = new Random(5);
        var x = Uniform(random, (int)g.InputLength);
        var w = Uniform(random, (int)g.WeightLength);
        var b = Uniform(random, g.OutChannels);
        var y = Forward(g, x, w, b, device);
        AssertClose(Reference(g, Widen(x), Widen(w), Widen(b)), y, Atol, Rtol, $"y with chunks of {chunk}");
    }

    [Theory]
    [InlineData(12, 5, 2)]  // OW 8: one 256-bit run per output row (MnistNet's second layer)
    [InlineData(20, 5, 1)]  // OW 16: whole 256-bit runs
    [InlineData(14, 3, 2)]  // OW 12: a 256-bit run and a scalar tail
    public void Conv2d_dense_geometry_vector_runs_match_reference(int size, int kernel, int inChannels)
    {
        // Stride 1, no padding, no dilation: im2col and col2im copy whole rows with fixed-length vector moves.
        var g = new Conv2dGeometry(3, inChannels, size, size, 3, kernel, kernel);
        CheckBackward(g, hasBias: true, accumulateDx: size == 14, new Random(size * 31 + kernel), _device);
        var random = new Random(size);
        var x = Uniform(random, (int)g.InputLength);
        var w = Uniform(random, (int)g.WeightLength);
        var b = Uniform(random, g.OutChannels);
        AssertClose(Reference(g, Widen(x), Widen(w), Widen(b)), Forward(g, x, w, b), Atol, Rtol, $"y of {g}");
    }

    [Theory]
    [InlineData(28, 3, 1, 1, 1, 1, false)]  // OW 28: a whole 512-bit piece and a masked tail of 12 (ResNet-20's first stage)
    [InlineData(14, 3, 1, 1, 1, 1, true)]   // OW 14: one masked piece
    [InlineData(7, 3, 1, 1, 1, 1, false)]   // OW 7: 256-bit runs in im2col
    [InlineData(14, 5, 2, 2, 2, 2, true)]   // 5x5 "same" (the two-conv network's second layer)
    [InlineData(17, 3, 0, 1, 1, 0, false)]  // asymmetric padding, OW 16 of a 17-wide input: two pieces, the second of one lane
    [InlineData(5, 3, 0, 0, 1, 1, true)]    // OW 4, the narrowest row the padded path takes
    public void Conv2d_padded_unit_stride_whole_row_runs_match_reference(int size, int kernel, int top, int left, int bottom, int right, bool accumulateDx)
    {
        // Stride 1 with padding: im2col copies each plane into a zero-bordered buffer and moves whole rows with vectors;
        // col2im sums every kernel offset's runs into a dx row with masked loads.
        var g = new Conv2dGeometry(3, 2, size, size, 3, kernel, kernel, PadTop: top, PadLeft: left, PadBottom: bottom, PadRight: right);
        CheckBackward(g, hasBias: true, accumulateDx, new Random(size * 37 + kernel + top), _device);
        var random = new Random(size + kernel);
        var x = Uniform(random, (int)g.InputLength);
        var w = Uniform(random, (int)g.WeightLength);
        var b = Uniform(random, g.OutChannels);
        AssertClose(Reference(g, Widen(x), Widen(w), Widen(b)), Forward(g, x, w, b), Atol, Rtol, $"y of {g}");
    }

    [Fact]
    public void Conv2d_reads_and_writes_views_at_an_offset()
    {
        // x and y are batch slices of larger tensors, so their storage offsets are not zero.
        var g = new Conv2dGeometry(2, 3, 6, 6, 4, 3, 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1);
        var random = new Random(11);
        var xAll = Uniform(random, 4 * 3 * 6 * 6);
        var w = Uniform(random, (int)g.WeightLength);
        var xBig = Tensor.From(xAll, _device, 4, 3, 6, 6);
        var yBig = Tensor.Full(_device, 42f, 3, 4, g.OutHeight, g.OutWidth);
        _device.Conv2d(xBig.Narrow(1, 2), Tensor.From(w, _device, 4, 3, 3, 3), null, yBig.Narrow(1, 2), g);

        var y = yBig.ToArray();
        var expected = Reference(g, Widen(xAll.AsSpan(3 * 36, 2 * 3 * 36).ToArray()), Widen(w), null);
        int sample = 4 * g.OutHeight * g.OutWidth;
        AssertClose(expected, y.AsSpan(sample, 2 * sample).ToArray(), Atol, Rtol, "y slice");
        Assert.All(y.AsSpan(0, sample).ToArray(), v => Assert.Equal(42f, v));
    }

    [Fact]
    public void Conv2d_backward_without_dx_still_accumulates_parameter_gradients()
    {
        var g = new Conv2dGeometry(2, 2, 4, 4, 3, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1);
        var random = new Random(3);
        var x = Uniform(random, (int)g.InputLength);
        var w = Uniform(random, (int)g.WeightLength);
        var r = Uniform(random, (int)g.OutputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);
        var dwWith = Tensor.From(dw0, _device, (int)g.WeightLength);
        var dwWithout = Tensor.From(dw0, _device, (int)g.WeightLength);
        var dx = Tensor.Zeros(_device, (int)g.InputLength);
        var xt = Tensor.From(x, _device, (int)g.InputLength);
        var wt = Tensor.From(w, _device, (int)g.WeightLength);
        var dy = Tensor.From(r, _device, (int)g.OutputLength);

        _device.Conv2dBackward(xt, wt, dy, dx, dwWith, null, g, accumulateDx: false);
        _device.Conv2dBackward(xt, wt, dy, null, dwWithout, null, g, accumulateDx: false);

        Assert.Equal(dwWith.ToArray(), dwWithout.ToArray());
        Assert.NotEqual(dw0, dwWithout.ToArray());
    }

    [Fact]
    public void Conv2d_with_a_weight_of_the_wrong_size_names_the_expected_shape()
    {
        var g = new Conv2dGeometry(1, 3, 5, 5, 4, 3, 3);
        var x = Tensor.Zeros(_device, 1, 3, 5, 5);
        var w = Tensor.Zeros(_device, 4, 3, 2, 2);
        var y = Tensor.Zeros(_device, 1, 4, 3, 3);

        var e = Assert.Throws<ArgumentException>(() => _device.Conv2d(x, w, null, y, g));

        Assert.Contains("weight should be [4,3,3,3]", e.Message);
    }

    [Fact]
    public void Conv2d_with_groups_not_dividing_channels_is_rejected()
    {
        var g = new Conv2dGeometry(1, 3, 5, 5, 4, 3, 3, Groups: 2);
        var e = Assert.Throws<ArgumentException>(() =>
            _device.Conv2d(Tensor.Zeros(_device, 75), Tensor.Zeros(_device, 18), null, Tensor.Zeros(_device, 36), g));
        Assert.Contains("groups=2", e.Message);
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>
    /// The geometry for one grid point on x [2, 4, 5, 6]. Bias and accumulateDx alternate over the grid so both values
    /// of each meet every other setting many times.
    /// </summary>
    private static (Conv2dGeometry G, bool Bias, bool AccumulateDx) Case(int stride, string padding, int dilation, string groups, string kernel)
    {
        var (kh, kw) = kernel switch { "1x1" => (1, 1), "3x3" => (3, 3), _ => (2, 3) };
        var (top, left, bottom, right) = padding switch { "none" => (0, 0, 0, 0), "one" => (1, 1, 1, 1), _ => (0, 1, 2, 0) };
        var (outC, grp) = groups switch { "1" => (4, 1), "2" => (6, 2), _ => (8, 4) }; // depthwise: 4 groups of 1 input channel, 2 outputs each
        var g = new Conv2dGeometry(2, 4, 5, 6, outC, kh, kw, stride, stride, top, left, bottom, right, dilation, dilation, grp);
        int h = StableHash($"{stride}{padding}{dilation}{groups}{kernel}") & 3;
        return (g, (h & 1) == 0, (h & 2) != 0);
    }

    /// <summary>FNV-1a, so seeds and flag choices are the same in every run (string.GetHashCode is randomised per process).</summary>
    private static int StableHash(string s)
    {
        uint h = 2166136261;
        foreach (char ch in s)
        {
            h = (h ^ ch) * 16777619;
        }
        return (int)(h >> 1);
    }

    private float[] Forward(in Conv2dGeometry g, float[] x, float[] w, float[]? b, CpuDevice? device = null)
    {
        var d = device ?? _device;
        var y = Tensor.Full(d, float.NaN, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        d.Conv2d(
            Tensor.From(x, d, g.Batch, g.InChannels, g.Height, g.Width),
            Tensor.From(w, d, g.OutChannels, g.InChannels / g.Groups, g.KernelH, g.KernelW),
            b is null ? null : Tensor.From(b, d, g.OutChannels),
            y, g);
        return y.ToArray();
    }

    private static void CheckBackward(Conv2dGeometry g, bool hasBias, bool accumulateDx, Random random, CpuDevice device)
    {
        var x = Uniform(random, (int)g.InputLength);
        var w = Uniform(random, (int)g.WeightLength);
        var b = Uniform(random, g.OutChannels);
        var r = Uniform(random, (int)g.OutputLength);
        // Gradient buffers start from random values: dw and db must accumulate, dx must be overwritten unless accumulateDx.
        var dx0 = Uniform(random, (int)g.InputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);
        var db0 = Uniform(random, g.OutChannels);

        var dx = Tensor.From(dx0, device, (int)g.InputLength);
        var dw = Tensor.From(dw0, device, (int)g.WeightLength);
        var db = hasBias ? Tensor.From(db0, device, g.OutChannels) : null;
        device.Conv2dBackward(
            Tensor.From(x, device, (int)g.InputLength), Tensor.From(w, device, (int)g.WeightLength),
            Tensor.From(r, device, (int)g.OutputLength), dx, dw, db, g, accumulateDx);

        var xd = Widen(x);
        var wd = Widen(w);
        var bd = hasBias ? Widen(b) : null;
        var rd = Widen(r);
        double Loss() => Dot(Reference(g, xd, wd, bd), rd);
        const double h = 1e-3;
        var gx = CentralDifferences(xd, Loss, h);
        var gw = CentralDifferences(wd, Loss, h);

        AssertClose(accumulateDx ? Plus(gx, dx0) : gx, dx.ToArray(), Atol, Rtol, $"dx of {g}, accumulate {accumulateDx}");
        AssertClose(Plus(gw, dw0), dw.ToArray(), Atol, Rtol, $"dw of {g}");
        if (bd is not null)
        {
            var gb = CentralDifferences(bd, Loss, h);
            AssertClose(Plus(gb, db0), db!.ToArray(), Atol, Rtol, $"db of {g}");
        }
    }

    /// <summary>Direct cross-correlation in double: y[n,o,i,j] = b[o] + sum over the group's channels and taps, skipping padding.</summary>
    internal static double[] Reference(in Conv2dGeometry g, double[] x, double[] w, double[]? b)
    {
        int oh = g.OutHeight, ow = g.OutWidth;
        int cg = g.InChannels / g.Groups, og = g.OutChannels / g.Groups;
        var y = new double[g.Batch * g.OutChannels * oh * ow];
        for (int n = 0; n < g.Batch; n++)
        {
            for (int o = 0; o < g.OutChannels; o++)
            {
                int group = o / og;
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        double s = b?[o] ?? 0.0;
                        for (int ci = 0; ci < cg; ci++)
                        {
                            int c = group * cg + ci;
                            for (int u = 0; u < g.KernelH; u++)
                            {
                                int r = i * g.StrideH - g.PadTop + u * g.DilationH;
                                if (r < 0 || r >= g.Height)
                                {
                                    continue;
                                }
                                for (int v = 0; v < g.KernelW; v++)
                                {
                                    int col = j * g.StrideW - g.PadLeft + v * g.DilationW;
                                    if (col < 0 || col >= g.Width)
                                    {
                                        continue;
                                    }
                                    s += x[((n * g.InChannels + c) * g.Height + r) * g.Width + col]
                                        * w[((o * cg + ci) * g.KernelH + u) * g.KernelW + v];
                                }
                            }
                        }
                        y[((n * g.OutChannels + o) * oh + i) * ow + j] = s;
                    }
                }
            }
        }
        return y;
    }
}
