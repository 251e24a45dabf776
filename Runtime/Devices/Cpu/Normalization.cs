using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu;

// Batch normalisation (Ioffe & Szegedy 2015; PyTorch's nn.BatchNorm2d semantics): x is [N, C, S], each channel
// owns N segments of S contiguous elements. Each pass splits the batch's segments over the threads in memory order
// (below); a channel's statistics are float partial sums per segment (a segment's, or a 512-bit lane's over a segment),
// added into doubles in sample order on the calling thread between the passes, so the results do not depend on the
// threads. Each segment is read from memory once per pass (NormalizationRows), 512-bit where the GEMM kernels are (the
// width is read on the calling thread, so a test's override reaches the workers).
public sealed partial class CpuDevice
{
    protected override void BatchNormCore(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps)
        => Normalize(x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, y, batch, channels, spatial, training, momentum, eps, relu: false);

    protected override void BatchNormReluCore(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps)
        => Normalize(x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, y, batch, channels, spatial, training, momentum, eps, relu: true);

    protected override void BatchNormResidualCore(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor residual, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps, bool relu)
        => Normalize(x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, y, batch, channels, spatial, training, momentum, eps, relu, residual);

    protected override void BatchNormBackwardCore(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx)
        => NormalizeBackward(x, gamma, saveMean, saveInvStd, dy, null, dx, dgamma, dbeta, batch, channels, spatial, training, accumulateDx);

    protected override void BatchNormReluBackwardCore(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy, Tensor y,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx)
        => NormalizeBackward(x, gamma, saveMean, saveInvStd, dy, y, dx, dgamma, dbeta, batch, channels, spatial, training, accumulateDx);

    /// <summary>
    /// The per-call scratch of the batch norms (per-segment partial sums, then per-channel coefficients), the calling
    /// thread's: the parts of a fork write disjoint pieces of it, and concurrent callers (a split evaluation's row parts)
    /// have their own.
    /// </summary>
    [ThreadStatic] private static PackBuffer? t_normalizationScratch;

    /// <summary>Segments per part, at least: about 32K floats of each tensor read.</summary>
    private static int SegmentsPerPart(int spatial) => Math.Max(1, 32768 / Math.Max(1, spatial));

    private unsafe void Normalize(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps, bool relu,
        Tensor? residual = null)
    {
        const string op = nameof(BatchNorm);
        bool wide = CpuGemm.CurrentKernel == GemmKernel.Vector512;
        float[] xa = HostBuffers.Floats(x, op, out int xo), ya = HostBuffers.Floats(y, op, out int yo);
        float[] gammaA = HostBuffers.Floats(gamma, op, out int go), betaA = HostBuffers.Floats(beta, op, out int bo);
        float[] rm = HostBuffers.Floats(runningMean, op, out int rmo), rv = HostBuffers.Floats(runningVar, op, out int rvo);
        float[] sm = HostBuffers.Floats(saveMean, op, out int smo), si = HostBuffers.Floats(saveInvStd, op, out int sio);
        float[]? ra = HostBuffers.FloatsOrNull(residual, op, out int ro);
        int segments = batch * channels;
        // Scratch: each segment's sum and M2 (training), then each channel's scale and shift.
        float* scratch = (t_normalizationScratch ??= new PackBuffer()).Get(2 * segments + 2 * channels);
        float* moments = scratch, scale = scratch + 2 * segments, shift = scale + channels;
        fixed (float* px = &xa[xo], py = &ya[yo], pr = ra)
        {
            if (training)
            {
                var statistics = new MomentsJob { X = px, Moments = moments, Channels = channels, Spatial = spatial, Wide = wide };
                ParallelRange(segments, SegmentsPerPart(spatial), ref statistics);
            }
            long count = (long)batch * spatial;
            for (int c = 0; c < channels; c++)
            {
                float mean;
                float invStd;
                if (training)
                {
                    // Each segment's sum and squared deviations from its own mean (one read of it from memory), combined
                    // over the batch in order with Chan et al.'s formula in double, so the variance has no E[x^2]-E[x]^2
                    // cancellation and the result does not depend on the threads.
                    double sum = 0, squares = 0, sumOfMeans = 0, sumOfSquaredMeans = 0;
                    for (int n = 0; n < batch; n++)
                    {
                        float segmentSum = moments[2 * (n * channels + c)], segmentSquares = moments[2 * (n * channels + c) + 1];
                        double segmentMean = (double)segmentSum / spatial;
                        sum += segmentSum;
                        squares += segmentSquares;
                        sumOfMeans += segmentMean;
                        sumOfSquaredMeans += segmentMean * segmentMean;
                    }
                    double m = sum / count;
                    // sum over segments of spatial * (segmentMean - m)^2, expanded around the segment means' own sums.
                    squares += Math.Max(0.0, spatial * (sumOfSquaredMeans - 2 * m * sumOfMeans + batch * m * m));
                    double variance = squares / count;
                    mean = (float)m;
                    invStd = (float)(1.0 / Math.Sqrt(variance + eps));
                    rm[rmo + c] = (float)((1.0 - momentum) * rm[rmo + c] + momentum * m);
                    rv[rvo + c] = (float)((1.0 - momentum) * rv[rvo + c] + momentum * (squares / (count - 1)));
                }
                else
                {
                    mean = rm[rmo + c];
                    invStd = (float)(1.0 / Math.Sqrt(rv[rvo + c] + (double)eps));
                }
                sm[smo + c] = mean;
                si[sio + c] = invStd;
                // y = (x - mean) * invStd * gamma + beta as one multiply-add per element (then the residual and the fused ReLU).
                scale[c] = invStd * gammaA[go + c];
                shift[c] = betaA[bo + c] - mean * scale[c];
            }
            var apply = new ScaleShiftJob
            {
                X = px, Y = py, Residual = pr == null ? null : pr + ro, Scale = scale, Shift = shift,
                Channels = channels, Spatial = spatial, Relu = relu, Wide = wide,
            };
            ParallelRange(segments, SegmentsPerPart(spatial), ref apply);
        }
    }

    // The jobs below take items = the batch's segments, sample-major ((n, c) at n*C + c), so a part is a contiguous stretch
    // of the tensors, samples in order, as the convolutions' parts before and after are. Split over channels instead (one
    // pass a channel, its N segments C*S floats apart), the parts read segments the other core had just written: on
    // ResNet-20's 16-channel 28x28 shape (batch 64, two threads, a loop over 6 tensors of each) the forward took 0.22 ms,
    // and 0.28-0.32 ms after a write split over samples; split over segments it takes 0.14 and 0.23 ms. ResNet-20's
    // training steps: 1.16x and 1.16x the rate (both builds loaded in one process and alternated, 6 rounds, each first).

    /// <summary>Item = a segment: its sum and M2 (<see cref="NormalizationRows.Moments"/>) at Moments[2 * item].</summary>
    private unsafe struct MomentsJob : IRangeJob
    {
        public float* X, Moments;
        public int Channels, Spatial;
        public bool Wide;

        public readonly void Run(int s, int e)
        {
            for (int i = s; i < e; i++)
            {
                var (sum, m2) = NormalizationRows.Moments(X + (nint)i * Spatial, Spatial, Wide);
                Moments[2 * i] = sum;
                Moments[2 * i + 1] = m2;
            }
        }
    }

    /// <summary>Item = a segment: y = x * scale + shift of its channel, plus the residual, then the ReLU (<see cref="NormalizationRows.ScaleShift"/>).</summary>
    private unsafe struct ScaleShiftJob : IRangeJob
    {
        public float* X, Y, Residual, Scale, Shift;
        public int Channels, Spatial;
        public bool Relu, Wide;

        public readonly void Run(int s, int e)
        {
            for (int i = s; i < e; i++)
            {
                int c = i % Channels;
                nint at = (nint)i * Spatial;
                NormalizationRows.ScaleShift(X + at, Residual == null ? null : Residual + at, Y + at, Spatial, Scale[c], Shift[c], Relu, Wide);
            }
        }
    }

    /// <summary>The backward; with <paramref name="relu"/> (the fused output), dy counts only where it is positive.</summary>
    private unsafe void NormalizeBackward(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy, Tensor? relu,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx)
    {
        const string op = nameof(BatchNormBackward);
        bool wide = CpuGemm.CurrentKernel == GemmKernel.Vector512;
        float[] xa = HostBuffers.Floats(x, op, out int xo), dya = HostBuffers.Floats(dy, op, out int dyo), dxa = HostBuffers.Floats(dx, op, out int dxo);
        float[] gammaA = HostBuffers.Floats(gamma, op, out int go);
        float[] sm = HostBuffers.Floats(saveMean, op, out int smo), si = HostBuffers.Floats(saveInvStd, op, out int sio);
        float[] dg = HostBuffers.Floats(dgamma, op, out int dgo), db = HostBuffers.Floats(dbeta, op, out int dbo);
        float[]? ma = HostBuffers.FloatsOrNull(relu, op, out int mo);
        int segments = batch * channels, width = NormalizationRows.PartialSumsLength(wide);
        // Scratch: each segment's partial sums, then each channel's mean and dx's coefficients a, b and k.
        float* scratch = (t_normalizationScratch ??= new PackBuffer()).Get(width * segments + 4 * channels);
        float* partials = scratch, mean = scratch + (nint)width * segments, a = mean + channels, b = a + channels, k = b + channels;
        for (int c = 0; c < channels; c++)
        {
            mean[c] = sm[smo + c];
        }
        long count = (long)batch * spatial;
        fixed (float* px = &xa[xo], pdy = &dya[dyo], pdx = &dxa[dxo], pm = ma)
        {
            float* mask = pm == null ? null : pm + mo;
            var sums = new GradientSumsJob
            {
                X = px, Dy = pdy, Mask = mask, Mean = mean, Partials = partials, Channels = channels, Spatial = spatial, Wide = wide,
            };
            ParallelRange(segments, SegmentsPerPart(spatial), ref sums);
            for (int c = 0; c < channels; c++)
            {
                float invStd = si[sio + c];
                var (sumDy, sumDyCentered) = NormalizationRows.CombinePartialSums(partials + (nint)width * c, batch, (nint)width * channels, wide);
                db[dbo + c] += (float)sumDy;
                dg[dgo + c] += (float)(sumDyCentered * invStd);

                // Training: dx = gamma*invStd * (dy - mean(dy) - xhat * mean(dy*xhat)) = a*dy + b*x + k, one pass.
                // Evaluation: the statistics are constants, dx = gamma*invStd*dy.
                double ac = (double)gammaA[go + c] * invStd;
                double bc = training ? -ac * invStd * invStd * sumDyCentered / count : 0.0;
                a[c] = (float)ac;
                b[c] = (float)bc;
                k[c] = (float)(training ? -ac * sumDy / count - bc * mean[c] : 0.0);
            }
            var input = new InputGradientJob
            {
                X = px, Dy = pdy, Mask = mask, Dx = pdx, A = a, B = b, K = k, Channels = channels, Spatial = spatial,
                Accumulate = accumulateDx, Wide = wide,
            };
            ParallelRange(segments, SegmentsPerPart(spatial), ref input);
        }
    }

    /// <summary>Item = a segment: its partial sums of dy and dy * (x - mean) (<see cref="NormalizationRows.SegmentPartialSums"/>).</summary>
    private unsafe struct GradientSumsJob : IRangeJob
    {
        public float* X, Dy, Mask, Mean, Partials;
        public int Channels, Spatial;
        public bool Wide;

        public readonly void Run(int s, int e)
        {
            int width = NormalizationRows.PartialSumsLength(Wide);
            for (int i = s; i < e; i++)
            {
                nint at = (nint)i * Spatial;
                NormalizationRows.SegmentPartialSums(Dy + at, Mask == null ? null : Mask + at, X + at, Mean[i % Channels], Spatial, Wide,
                    Partials + (nint)i * width);
            }
        }
    }

    /// <summary>Item = a segment: dx (+)= a*g + b*x + k with its channel's coefficients (<see cref="NormalizationRows.InputGradient"/>).</summary>
    private unsafe struct InputGradientJob : IRangeJob
    {
        public float* X, Dy, Mask, Dx, A, B, K;
        public int Channels, Spatial;
        public bool Accumulate, Wide;

        public readonly void Run(int s, int e)
        {
            for (int i = s; i < e; i++)
            {
                int c = i % Channels;
                nint at = (nint)i * Spatial;
                NormalizationRows.InputGradient(Dy + at, Mask == null ? null : Mask + at, X + at, Dx + at, Spatial, A[c], B[c], K[c], Accumulate, Wide);
            }
        }
    }
}
