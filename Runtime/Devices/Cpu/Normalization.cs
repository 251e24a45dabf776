using System.Numerics;
using System.Numerics.Tensors;
using Dsl.Devices.Cpu.Convolution;

namespace Dsl.Devices.Cpu;

// Batch normalisation (Ioffe & Szegedy 2015; PyTorch's nn.BatchNorm2d semantics): x is [N, C, S], each channel
// owns N segments of S contiguous elements, and channels are independent, so the work is split over channels.
// Per-channel reductions add float segment sums into doubles; the variance is two-pass (no E[x^2]-E[x]^2 cancellation).
public sealed partial class CpuDevice
{
    protected override void BatchNormCore(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps)
        => Normalize(x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, y, batch, channels, spatial, training, momentum, eps, relu: false);

    protected override void BatchNormReluCore(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps)
        => Normalize(x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, y, batch, channels, spatial, training, momentum, eps, relu: true);

    protected override void BatchNormBackwardCore(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx)
        => NormalizeBackward(x, gamma, saveMean, saveInvStd, dy, null, dx, dgamma, dbeta, batch, channels, spatial, training, accumulateDx);

    protected override void BatchNormReluBackwardCore(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy, Tensor y,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx)
        => NormalizeBackward(x, gamma, saveMean, saveInvStd, dy, y, dx, dgamma, dbeta, batch, channels, spatial, training, accumulateDx);

    private void Normalize(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps, bool relu)
    {
        const string op = nameof(BatchNorm);
        long count = (long)batch * spatial;
        var job = new NormalizeJob
        {
            X = HostBuffers.Floats(x, op, out int xo), XO = xo,
            Y = HostBuffers.Floats(y, op, out int yo), YO = yo,
            Gamma = HostBuffers.Floats(gamma, op, out int go), GO = go,
            Beta = HostBuffers.Floats(beta, op, out int bo), BO = bo,
            RunningMean = HostBuffers.Floats(runningMean, op, out int rmo), RMO = rmo,
            RunningVar = HostBuffers.Floats(runningVar, op, out int rvo), RVO = rvo,
            SaveMean = HostBuffers.Floats(saveMean, op, out int smo), SMO = smo,
            SaveInvStd = HostBuffers.Floats(saveInvStd, op, out int sio), SIO = sio,
            Batch = batch, Channels = channels, Spatial = spatial, Training = training, Momentum = momentum, Eps = eps, Relu = relu,
        };
        // A struct job, not a lambda: a training step allocates nothing.
        ParallelRange(channels, Math.Max(1, (int)(32768 / Math.Max(1, count))), ref job);
    }

    private struct NormalizeJob : IRangeJob
    {
        public float[] X, Y, Gamma, Beta, RunningMean, RunningVar, SaveMean, SaveInvStd;
        public int XO, YO, GO, BO, RMO, RVO, SMO, SIO, Batch, Channels, Spatial;
        public bool Training, Relu;
        public float Momentum, Eps;

        public readonly void Run(int s, int e)
        {
            int batch = Batch, spatial = Spatial, stride = Channels * spatial;
            long count = (long)batch * spatial;
            for (int c = s; c < e; c++)
            {
                float mean;
                float invStd;
                if (Training)
                {
                    double sum = 0;
                    for (int n = 0; n < batch; n++)
                    {
                        sum += TensorPrimitives.Sum(X.AsSpan(XO + n * stride + c * spatial, spatial));
                    }
                    double m = sum / count;
                    double squares = 0;
                    for (int n = 0; n < batch; n++)
                    {
                        squares += SumOfSquaredDeviations(X.AsSpan(XO + n * stride + c * spatial, spatial), (float)m);
                    }
                    double variance = squares / count;
                    mean = (float)m;
                    invStd = (float)(1.0 / Math.Sqrt(variance + Eps));
                    RunningMean[RMO + c] = (float)((1.0 - Momentum) * RunningMean[RMO + c] + Momentum * m);
                    RunningVar[RVO + c] = (float)((1.0 - Momentum) * RunningVar[RVO + c] + Momentum * (squares / (count - 1)));
                }
                else
                {
                    mean = RunningMean[RMO + c];
                    invStd = (float)(1.0 / Math.Sqrt(RunningVar[RVO + c] + (double)Eps));
                }
                SaveMean[SMO + c] = mean;
                SaveInvStd[SIO + c] = invStd;
                // y = (x - mean) * invStd * gamma + beta, folded into one multiply-add per element (and the fused ReLU).
                float scale = invStd * Gamma[GO + c];
                float shift = Beta[BO + c] - mean * scale;
                for (int n = 0; n < batch; n++)
                {
                    int at = n * stride + c * spatial;
                    var ys = Y.AsSpan(YO + at, spatial);
                    TensorPrimitives.Multiply(X.AsSpan(XO + at, spatial), scale, ys);
                    TensorPrimitives.Add(ys, shift, ys);
                    if (Relu)
                    {
                        TensorPrimitives.Max(ys, 0f, ys);
                    }
                }
            }
        }
    }

    /// <summary>The backward; with <paramref name="relu"/> (the fused output), dy counts only where it is positive.</summary>
    private void NormalizeBackward(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy, Tensor? relu,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx)
    {
        const string op = nameof(BatchNormBackward);
        var job = new NormalizeBackwardJob
        {
            X = HostBuffers.Floats(x, op, out int xo), XO = xo,
            Dy = HostBuffers.Floats(dy, op, out int dyo), DyO = dyo,
            Dx = HostBuffers.Floats(dx, op, out int dxo), DxO = dxo,
            Gamma = HostBuffers.Floats(gamma, op, out int go), GO = go,
            SaveMean = HostBuffers.Floats(saveMean, op, out int smo), SMO = smo,
            SaveInvStd = HostBuffers.Floats(saveInvStd, op, out int sio), SIO = sio,
            DGamma = HostBuffers.Floats(dgamma, op, out int dgo), DGO = dgo,
            DBeta = HostBuffers.Floats(dbeta, op, out int dbo), DBO = dbo,
            Batch = batch, Channels = channels, Spatial = spatial, Training = training, Accumulate = accumulateDx,
        };
        if (relu is not null)
        {
            job.Mask = HostBuffers.Floats(relu, op, out job.MaskO);
        }
        long count = (long)batch * spatial;
        ParallelRange(channels, Math.Max(1, (int)(32768 / Math.Max(1, count))), ref job);
    }

    private struct NormalizeBackwardJob : IRangeJob
    {
        public float[] X, Dy, Dx, Gamma, SaveMean, SaveInvStd, DGamma, DBeta;
        public float[]? Mask;
        public int XO, DyO, DxO, GO, SMO, SIO, DGO, DBO, MaskO, Batch, Channels, Spatial;
        public bool Training, Accumulate;

        public readonly void Run(int s, int e)
        {
            int batch = Batch, spatial = Spatial, stride = Channels * spatial;
            long count = (long)batch * spatial;
            var mask = Mask;
            for (int c = s; c < e; c++)
            {
                float mean = SaveMean[SMO + c];
                float invStd = SaveInvStd[SIO + c];
                double sumDy = 0;
                double sumDyCentered = 0;
                for (int n = 0; n < batch; n++)
                {
                    int at = n * stride + c * spatial;
                    var g = Dy.AsSpan(DyO + at, spatial);
                    if (mask is null)
                    {
                        sumDy += TensorPrimitives.Sum(g);
                        sumDyCentered += SumOfProductsWithDeviation(g, X.AsSpan(XO + at, spatial), mean);
                    }
                    else
                    {
                        var (masked, centered) = MaskedSums(g, mask.AsSpan(MaskO + at, spatial), X.AsSpan(XO + at, spatial), mean);
                        sumDy += masked;
                        sumDyCentered += centered;
                    }
                }
                DBeta[DBO + c] += (float)sumDy;
                DGamma[DGO + c] += (float)(sumDyCentered * invStd);

                // Training: dx = gamma*invStd * (dy - mean(dy) - xhat * mean(dy*xhat)) = a*dy + b*x + k.
                // Evaluation: the statistics are constants, dx = gamma*invStd*dy.
                double a = (double)Gamma[GO + c] * invStd;
                double b = Training ? -a * invStd * invStd * sumDyCentered / count : 0.0;
                double k = Training ? -a * sumDy / count - b * mean : 0.0;
                float af = (float)a, bf = (float)b, kf = (float)k;
                for (int n = 0; n < batch; n++)
                {
                    int at = n * stride + c * spatial;
                    var g = Dy.AsSpan(DyO + at, spatial);
                    var d = Dx.AsSpan(DxO + at, spatial);
                    var xs = X.AsSpan(XO + at, spatial);
                    if (mask is not null)
                    {
                        MaskedScale(g, mask.AsSpan(MaskO + at, spatial), af, d, Accumulate);
                    }
                    else if (!Accumulate)
                    {
                        TensorPrimitives.Multiply(g, af, d);
                    }
                    else
                    {
                        TensorPrimitives.MultiplyAdd(g, af, d, d);
                    }
                    if (Training)
                    {
                        TensorPrimitives.MultiplyAdd(xs, bf, d, d);
                        TensorPrimitives.Add(d, kf, d);
                    }
                }
            }
        }
    }

    /// <summary>sum(dy) and sum(dy * (x - mean)) over the elements where the fused output <paramref name="y"/> is positive.</summary>
    private static (double Dy, double Centered) MaskedSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> y, ReadOnlySpan<float> x, float mean)
    {
        int i = 0;
        double sum = 0, centered = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var m = new Vector<float>(mean);
            var accDy = Vector<float>.Zero;
            var accCentered = Vector<float>.Zero;
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var g = Vector.ConditionalSelect(Vector.GreaterThan(new Vector<float>(y[i..]), Vector<float>.Zero), new Vector<float>(dy[i..]), Vector<float>.Zero);
                accDy += g;
                accCentered += g * (new Vector<float>(x[i..]) - m);
            }
            sum = Vector.Sum(accDy);
            centered = Vector.Sum(accCentered);
        }
        for (; i < x.Length; i++)
        {
            if (y[i] > 0f)
            {
                sum += dy[i];
                centered += dy[i] * (x[i] - mean);
            }
        }
        return (sum, centered);
    }

    /// <summary>d (+)= a * dy where the fused output <paramref name="y"/> is positive (0 elsewhere).</summary>
    private static void MaskedScale(ReadOnlySpan<float> dy, ReadOnlySpan<float> y, float a, Span<float> d, bool accumulate)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && d.Length >= Vector<float>.Count)
        {
            var av = new Vector<float>(a);
            for (; i <= d.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var g = Vector.ConditionalSelect(Vector.GreaterThan(new Vector<float>(y[i..]), Vector<float>.Zero), new Vector<float>(dy[i..]), Vector<float>.Zero) * av;
                (accumulate ? new Vector<float>(d[i..]) + g : g).CopyTo(d[i..]);
            }
        }
        for (; i < d.Length; i++)
        {
            float g = y[i] > 0f ? dy[i] * a : 0f;
            d[i] = accumulate ? d[i] + g : g;
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

    /// <summary>Sum of dy * (x - mean) in float lanes, returned as a double.</summary>
    private static double SumOfProductsWithDeviation(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float mean)
    {
        int i = 0;
        double total = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var m = new Vector<float>(mean);
            var acc = Vector<float>.Zero;
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                acc += new Vector<float>(dy[i..]) * (new Vector<float>(x[i..]) - m);
            }
            total = Vector.Sum(acc);
        }
        for (; i < x.Length; i++)
        {
            total += dy[i] * (x[i] - mean);
        }
        return total;
    }
}
