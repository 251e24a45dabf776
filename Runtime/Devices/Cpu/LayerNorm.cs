using System.Numerics;
using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu;

// Layer normalisation (Ba, Kiros and Hinton 2016; PyTorch's nn.LayerNorm): rows are independent, so forward and the
// input gradient split rows over threads; the parameter gradients sum over rows and run as one vectorised pass.
// Statistics use the same two-pass, double-accumulated sums as BatchNorm.
public sealed partial class CpuDevice
{
    protected override void LayerNormCore(Tensor x, Tensor? gamma, Tensor? beta, Tensor saveMean, Tensor saveInvStd, Tensor y, int rows, int features, float eps)
    {
        const string op = nameof(LayerNorm);
        var job = new LayerNormJob
        {
            X = Array(x, op, out int xo), XOffset = xo, Y = Array(y, op, out int yo), YOffset = yo,
            Gamma = gamma is null ? null : Array(gamma, op, out _), GammaOffset = (int)(gamma?.Offset ?? 0),
            Beta = beta is null ? null : Array(beta, op, out _), BetaOffset = (int)(beta?.Offset ?? 0),
            Mean = Array(saveMean, op, out int mo), MeanOffset = mo, InvStd = Array(saveInvStd, op, out int so), InvStdOffset = so,
            Features = features, Eps = eps,
        };
        ParallelRange(rows, Math.Max(1, 16384 / features), ref job);
    }

    protected override void LayerNormBackwardCore(Tensor x, Tensor? gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy,
        Tensor? dx, Tensor? dgamma, Tensor? dbeta, int rows, int features, bool accumulateDx)
    {
        const string op = nameof(LayerNormBackward);
        var xa = Array(x, op, out int xo);
        var dya = Array(dy, op, out int dyo);
        var ma = Array(saveMean, op, out int mo);
        var sa = Array(saveInvStd, op, out int so);
        if (dx is not null)
        {
            var job = new LayerNormBackwardJob
            {
                X = xa, XOffset = xo, Dy = dya, DyOffset = dyo, Dx = Array(dx, op, out int dxo), DxOffset = dxo,
                Gamma = gamma is null ? null : Array(gamma, op, out _), GammaOffset = (int)(gamma?.Offset ?? 0),
                Mean = ma, MeanOffset = mo, InvStd = sa, InvStdOffset = so, Features = features, Accumulate = accumulateDx,
            };
            ParallelRange(rows, Math.Max(1, 16384 / features), ref job);
        }
        var dg = dgamma is null ? Span<float>.Empty : F(dgamma, op);
        var db = dbeta is null ? Span<float>.Empty : F(dbeta, op);
        for (int r = 0; r < rows; r++)
        {
            var g = dya.AsSpan(dyo + r * features, features);
            if (!db.IsEmpty)
            {
                TensorPrimitives.Add(db, g, db);
            }
            if (!dg.IsEmpty)
            {
                // dgamma += dy * (x - mean) * invStd
                AddProductWithDeviation(g, xa.AsSpan(xo + r * features, features), ma[mo + r], sa[so + r], dg);
            }
        }
    }

    private static float[] Array(Tensor t, string op, out int offset)
    {
        _ = F(t, op);
        offset = (int)t.Offset;
        return ((CpuStorage)t.Storage).Floats!;
    }

    /// <summary>d[j] += g[j] * (x[j] - mean) * invStd.</summary>
    private static void AddProductWithDeviation(ReadOnlySpan<float> g, ReadOnlySpan<float> x, float mean, float invStd, Span<float> d)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var m = new Vector<float>(mean);
            var s = new Vector<float>(invStd);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(d[i..]) + new Vector<float>(g[i..]) * ((new Vector<float>(x[i..]) - m) * s);
                v.CopyTo(d[i..]);
            }
        }
        for (; i < x.Length; i++)
        {
            d[i] += g[i] * ((x[i] - mean) * invStd);
        }
    }

    private struct LayerNormJob : IRangeJob
    {
        public float[] X, Y, Mean, InvStd;
        public float[]? Gamma, Beta;
        public int XOffset, YOffset, GammaOffset, BetaOffset, MeanOffset, InvStdOffset, Features;
        public float Eps;

        public readonly void Run(int start, int end)
        {
            int d = Features;
            for (int r = start; r < end; r++)
            {
                var xs = X.AsSpan(XOffset + r * d, d);
                var ys = Y.AsSpan(YOffset + r * d, d);
                double mean = (double)TensorPrimitives.Sum(xs) / d;
                double variance = SumOfSquaredDeviations(xs, (float)mean) / d;
                float m = (float)mean;
                float invStd = (float)(1.0 / Math.Sqrt(variance + Eps));
                Mean[MeanOffset + r] = m;
                InvStd[InvStdOffset + r] = invStd;
                TensorPrimitives.Subtract(xs, m, ys);
                TensorPrimitives.Multiply(ys, invStd, ys);
                if (Gamma is not null)
                {
                    TensorPrimitives.Multiply(ys, Gamma.AsSpan(GammaOffset, d), ys);
                }
                if (Beta is not null)
                {
                    TensorPrimitives.Add(ys, Beta.AsSpan(BetaOffset, d), ys);
                }
            }
        }
    }

    /// <summary>dx = invStd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma, row by row.</summary>
    private struct LayerNormBackwardJob : IRangeJob
    {
        public float[] X, Dy, Dx, Mean, InvStd;
        public float[]? Gamma;
        public int XOffset, DyOffset, DxOffset, GammaOffset, MeanOffset, InvStdOffset, Features;
        public bool Accumulate;

        public readonly void Run(int start, int end)
        {
            int d = Features;
            ReadOnlySpan<float> gamma = Gamma is null ? default : Gamma.AsSpan(GammaOffset, d);
            for (int r = start; r < end; r++)
            {
                var xs = X.AsSpan(XOffset + r * d, d);
                var gs = Dy.AsSpan(DyOffset + r * d, d);
                var dxs = Dx.AsSpan(DxOffset + r * d, d);
                float mean = Mean[MeanOffset + r];
                float invStd = InvStd[InvStdOffset + r];
                double sumG = 0, sumGXhat = 0;
                for (int j = 0; j < d; j++)
                {
                    float g = gamma.IsEmpty ? gs[j] : gs[j] * gamma[j];
                    sumG += g;
                    sumGXhat += g * ((xs[j] - mean) * invStd);
                }
                float meanG = (float)(sumG / d);
                float meanGXhat = (float)(sumGXhat / d);
                int i = 0;
                if (Vector.IsHardwareAccelerated)
                {
                    var vm = new Vector<float>(mean);
                    var vs = new Vector<float>(invStd);
                    var vmg = new Vector<float>(meanG);
                    var vmgx = new Vector<float>(meanGXhat);
                    for (; i <= d - Vector<float>.Count; i += Vector<float>.Count)
                    {
                        var g = new Vector<float>(gs[i..]);
                        if (!gamma.IsEmpty)
                        {
                            g *= new Vector<float>(gamma[i..]);
                        }
                        var xhat = (new Vector<float>(xs[i..]) - vm) * vs;
                        var v = vs * (g - vmg - xhat * vmgx);
                        if (Accumulate)
                        {
                            v += new Vector<float>(dxs[i..]);
                        }
                        v.CopyTo(dxs[i..]);
                    }
                }
                for (; i < d; i++)
                {
                    float g = gamma.IsEmpty ? gs[i] : gs[i] * gamma[i];
                    float xhat = (xs[i] - mean) * invStd;
                    float v = invStd * (g - meanG - xhat * meanGXhat);
                    dxs[i] = Accumulate ? dxs[i] + v : v;
                }
            }
        }
    }

    /// <summary>Sum of (x - mean)^2 in float lanes, returned as a double.</summary>
    private static double SumOfSquaredDeviations(ReadOnlySpan<float> x, float mean)
    {
        int i = 0;
        double total = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var m = new Vector<float>(mean);
            var acc = Vector<float>.Zero;
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var d = new Vector<float>(x[i..]) - m;
                acc += d * d;
            }
            total = Vector.Sum(acc);
        }
        for (; i < x.Length; i++)
        {
            float d = x[i] - mean;
            total += d * d;
        }
        return total;
    }
}
