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
    {
        const string op = nameof(BatchNorm);
        long count = (long)batch * spatial;
        var xa = HostBuffers.Floats(x, op, out int xo);
        var ya = HostBuffers.Floats(y, op, out int yo);
        var ga = HostBuffers.Floats(gamma, op, out int go);
        var ba = HostBuffers.Floats(beta, op, out int bo);
        var rma = HostBuffers.Floats(runningMean, op, out int rmo);
        var rva = HostBuffers.Floats(runningVar, op, out int rvo);
        var sma = HostBuffers.Floats(saveMean, op, out int smo);
        var sia = HostBuffers.Floats(saveInvStd, op, out int sio);
        int stride = channels * spatial;
        ParallelRange(channels, Math.Max(1, (int)(32768 / Math.Max(1, count))), (s, e) =>
        {
            for (int c = s; c < e; c++)
            {
                float mean;
                float invStd;
                if (training)
                {
                    double sum = 0;
                    for (int n = 0; n < batch; n++)
                    {
                        sum += TensorPrimitives.Sum(xa.AsSpan(xo + n * stride + c * spatial, spatial));
                    }
                    double m = sum / count;
                    double squares = 0;
                    for (int n = 0; n < batch; n++)
                    {
                        squares += SumOfSquaredDeviations(xa.AsSpan(xo + n * stride + c * spatial, spatial), (float)m);
                    }
                    double variance = squares / count;
                    mean = (float)m;
                    invStd = (float)(1.0 / Math.Sqrt(variance + eps));
                    rma[rmo + c] = (float)((1.0 - momentum) * rma[rmo + c] + momentum * m);
                    rva[rvo + c] = (float)((1.0 - momentum) * rva[rvo + c] + momentum * (squares / (count - 1)));
                }
                else
                {
                    mean = rma[rmo + c];
                    invStd = (float)(1.0 / Math.Sqrt(rva[rvo + c] + (double)eps));
                }
                sma[smo + c] = mean;
                sia[sio + c] = invStd;
                // y = (x - mean) * invStd * gamma + beta, folded into one multiply-add per element.
                float scale = invStd * ga[go + c];
                float shift = ba[bo + c] - mean * scale;
                for (int n = 0; n < batch; n++)
                {
                    int at = n * stride + c * spatial;
                    var ys = ya.AsSpan(yo + at, spatial);
                    TensorPrimitives.Multiply(xa.AsSpan(xo + at, spatial), scale, ys);
                    TensorPrimitives.Add(ys, shift, ys);
                }
            }
        });
    }

    protected override void BatchNormBackwardCore(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx)
    {
        const string op = nameof(BatchNormBackward);
        var xa = HostBuffers.Floats(x, op, out int xo);
        var dya = HostBuffers.Floats(dy, op, out int dyo);
        var dxa = HostBuffers.Floats(dx, op, out int dxo);
        var ga = HostBuffers.Floats(gamma, op, out int go);
        var sma = HostBuffers.Floats(saveMean, op, out int smo);
        var sia = HostBuffers.Floats(saveInvStd, op, out int sio);
        var dga = HostBuffers.Floats(dgamma, op, out int dgo);
        var dba = HostBuffers.Floats(dbeta, op, out int dbo);
        long count = (long)batch * spatial;
        int stride = channels * spatial;
        ParallelRange(channels, Math.Max(1, (int)(32768 / Math.Max(1, count))), (s, e) =>
        {
            for (int c = s; c < e; c++)
            {
                float mean = sma[smo + c];
                float invStd = sia[sio + c];
                double sumDy = 0;
                double sumDyCentered = 0;
                for (int n = 0; n < batch; n++)
                {
                    int at = n * stride + c * spatial;
                    var g = dya.AsSpan(dyo + at, spatial);
                    sumDy += TensorPrimitives.Sum(g);
                    sumDyCentered += SumOfProductsWithDeviation(g, xa.AsSpan(xo + at, spatial), mean);
                }
                dba[dbo + c] += (float)sumDy;
                dga[dgo + c] += (float)(sumDyCentered * invStd);

                // Training: dx = gamma*invStd * (dy - mean(dy) - xhat * mean(dy*xhat)) = a*dy + b*x + k.
                // Evaluation: the statistics are constants, dx = gamma*invStd*dy.
                double a = (double)ga[go + c] * invStd;
                double b = training ? -a * invStd * invStd * sumDyCentered / count : 0.0;
                double k = training ? -a * sumDy / count - b * mean : 0.0;
                float af = (float)a, bf = (float)b, kf = (float)k;
                for (int n = 0; n < batch; n++)
                {
                    int at = n * stride + c * spatial;
                    var g = dya.AsSpan(dyo + at, spatial);
                    var d = dxa.AsSpan(dxo + at, spatial);
                    var xs = xa.AsSpan(xo + at, spatial);
                    if (!accumulateDx)
                    {
                        TensorPrimitives.Multiply(g, af, d);
                    }
                    else
                    {
                        TensorPrimitives.MultiplyAdd(g, af, d, d);
                    }
                    if (training)
                    {
                        TensorPrimitives.MultiplyAdd(xs, bf, d, d);
                        TensorPrimitives.Add(d, kf, d);
                    }
                }
            }
        });
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
