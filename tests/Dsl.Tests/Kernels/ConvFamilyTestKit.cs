using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Gemm;
using Xunit.Sdk;

namespace Dsl.Tests.Kernels;

/// <summary>
/// Shared pieces of the convolution, pooling and batch-norm kernel tests: random data, central finite differences
/// of a double-precision reference, and a closeness check that names the worst element.
/// </summary>
internal static class ConvFamilyTestKit
{
    /// <summary>Uniform floats in [lo, hi).</summary>
    public static float[] Uniform(Random random, int count, float lo = -1f, float hi = 1f)
    {
        var a = new float[count];
        for (int i = 0; i < count; i++)
        {
            a[i] = lo + (hi - lo) * random.NextSingle();
        }
        return a;
    }

    /// <summary>The same values widened to double, so a double reference sees exactly what the float kernel sees.</summary>
    public static double[] Widen(float[] a) => Array.ConvertAll(a, v => (double)v);

    public static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }
        return s;
    }

    /// <summary>d loss / d p[i] for every i by central differences (loss - its value with p[i] -/+ h) / 2h, restoring p.</summary>
    public static double[] CentralDifferences(double[] p, Func<double> loss, double h)
    {
        var grad = new double[p.Length];
        for (int i = 0; i < p.Length; i++)
        {
            double saved = p[i];
            p[i] = saved + h;
            double up = loss();
            p[i] = saved - h;
            double down = loss();
            p[i] = saved;
            grad[i] = (up - down) / (2 * h);
        }
        return grad;
    }

    /// <summary>Adds <paramref name="b"/> to <paramref name="a"/> elementwise (expected = initial value + gradient for accumulating outputs).</summary>
    public static double[] Plus(double[] a, float[] b)
    {
        var r = new double[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            r[i] = a[i] + b[i];
        }
        return r;
    }

    /// <summary>Fails unless |actual - expected| &lt;= atol + rtol*|expected| everywhere; the message names the worst element.</summary>
    public static void AssertClose(double[] expected, float[] actual, double atol, double rtol, string what)
    {
        if (expected.Length != actual.Length)
        {
            throw new XunitException($"{what}: expected {expected.Length} values, got {actual.Length}.");
        }
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            double excess = err - (atol + rtol * Math.Abs(expected[i]));
            if (excess > worstExcess || double.IsNaN(actual[i]))
            {
                worstExcess = double.IsNaN(actual[i]) ? double.PositiveInfinity : excess;
                worst = i;
            }
        }
        if (worst >= 0)
        {
            throw new XunitException(
                $"{what}: element {worst} is {actual[worst]:R}, expected {expected[worst]:R} (atol {atol}, rtol {rtol}).");
        }
    }

    /// <summary>
    /// dx and dW of one CPU convolution backward with the forward algorithm, the GEMM kernel and the thread count forced,
    /// written over (or, with <paramref name="accumulate"/>, added to) copies of <paramref name="dx0"/> and <paramref name="dw0"/>.
    /// </summary>
    public static (float[] Dx, float[] Dw) CpuConvBackward(Conv2dGeometry g, ConvAlgorithm algorithm, string kernel, int threads,
        float[] x, float[] w, float[] dy, float[] dx0, float[] dw0, bool accumulate)
    {
        var d = new CpuDevice(threads) { ConvAlgorithmOverride = algorithm };
        var dx = Tensor.From(dx0, d, (int)g.InputLength);
        var dw = Tensor.From(dw0, d, (int)g.WeightLength);
        CpuGemm.KernelOverride = Enum.Parse<GemmKernel>(kernel);
        try
        {
            d.Conv2dBackward(Tensor.From(x, d, (int)g.InputLength), Tensor.From(w, d, (int)g.WeightLength),
                Tensor.From(dy, d, (int)g.OutputLength), dx, dw, null, g, accumulate);
        }
        finally
        {
            CpuGemm.KernelOverride = null;
        }
        return (dx.ToArray(), dw.ToArray());
    }

    /// <summary>
    /// dW and db of one CPU convolution backward without dx, with the weight-gradient algorithm and the GEMM kernel forced,
    /// added to copies of <paramref name="dw0"/> and <paramref name="db0"/>.
    /// </summary>
    public static (float[] Dw, float[] Db) CpuWeightGradient(CpuDevice d, WeightGradientAlgorithm algorithm, in Conv2dGeometry g,
        float[] x, float[] dy, float[] dw0, float[] db0, GemmKernel kind)
    {
        d.WeightGradientOverride = algorithm;
        int wc = g.InChannels / g.Groups;
        var wt = Tensor.From(new float[g.WeightLength], d, g.OutChannels, wc, g.KernelH, g.KernelW);
        var dw = Tensor.From((float[])dw0.Clone(), d, g.OutChannels, wc, g.KernelH, g.KernelW);
        var db = Tensor.From((float[])db0.Clone(), d, g.OutChannels);
        CpuGemm.KernelOverride = kind;
        try
        {
            d.Conv2dBackward(Tensor.From(x, d, g.Batch, g.InChannels, g.Height, g.Width), wt,
                Tensor.From(dy, d, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth), null, dw, db, g, accumulateDx: false);
        }
        finally
        {
            CpuGemm.KernelOverride = null;
        }
        return (dw.ToArray(), db.ToArray());
    }

    /// <summary>
    /// dW and db of a one-group convolution (any stride and dilation) in double precision, straight from the definition:
    /// dW[o, c, kh, kw] = sum over n, oh, ow of dy[n, o, oh, ow] * x[n, c, oh*sh + kh*dh - padTop, ow*sw + kw*dw - padLeft].
    /// </summary>
    public static (double[] Dw, double[] Db) WeightGradientReference(in Conv2dGeometry g, double[] x, double[] dy)
    {
        int c = g.InChannels, h = g.Height, w = g.Width, o = g.OutChannels, oh = g.OutHeight, ow = g.OutWidth, kh0 = g.KernelH, kw0 = g.KernelW;
        var dw = new double[o * c * kh0 * kw0];
        var db = new double[o];
        for (int s = 0; s < g.Batch; s++)
        {
            for (int oc = 0; oc < o; oc++)
            {
                for (int r = 0; r < oh; r++)
                {
                    for (int q = 0; q < ow; q++)
                    {
                        double d = dy[((s * o + oc) * oh + r) * ow + q];
                        db[oc] += d;
                        for (int ic = 0; ic < c; ic++)
                        {
                            for (int kh = 0; kh < kh0; kh++)
                            {
                                int xr = r * g.StrideH + kh * g.DilationH - g.PadTop;
                                if (xr < 0 || xr >= h)
                                {
                                    continue;
                                }
                                for (int kw = 0; kw < kw0; kw++)
                                {
                                    int xq = q * g.StrideW + kw * g.DilationW - g.PadLeft;
                                    if (xq >= 0 && xq < w)
                                    {
                                        dw[((oc * c + ic) * kh0 + kh) * kw0 + kw] += d * x[((s * c + ic) * h + xr) * w + xq];
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

    /// <summary>
    /// One conv2d.json case (nn.Conv2d's output and gradients) with <paramref name="algorithm"/> forced, two threads:
    /// y, dx and dW against PyTorch's at the reduction tolerance.
    /// </summary>
    public static void AssertForcedMatchesPyTorch(Fixtures.FixtureCase c, in Conv2dGeometry g, ConvAlgorithm algorithm)
    {
        var d = new CpuDevice(2) { ConvAlgorithmOverride = algorithm };
        var x = c.Input("x").ToTensor(d);
        var w = c.Input("weight").ToTensor(d);
        var y = Tensor.Full(d, float.NaN, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        d.Conv2d(x, w, c.Bool("bias") ? c.Input("bias").ToTensor(d) : null, y, g);
        Fixtures.Tolerance.Reduction.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y ({algorithm})");
        var dx = Tensor.Full(d, float.NaN, c.Input("x").Shape);
        var dw = Tensor.Zeros(d, c.Input("weight").Shape);
        d.Conv2dBackward(x, w, c.Input("dy").ToTensor(d), dx, dw, null, g, accumulateDx: false);
        Fixtures.Tolerance.Reduction.AssertClose(c.Expected("dx").Data, dx.ToArray(), $"{c} dx ({algorithm})");
        Fixtures.Tolerance.Reduction.AssertClose(c.Expected("dweight").Data, dw.ToArray(), $"{c} dweight ({algorithm})");
    }
}
