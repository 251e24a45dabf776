using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu;

// Batch normalisation (Ioffe & Szegedy 2015; PyTorch's nn.BatchNorm2d semantics): x is [N, C, S], each channel
// owns N segments of S contiguous elements, and channels are independent, so the work is split over channels.
// Per-channel reductions add float partial sums (a segment's, or a 512-bit lane's over a segment) into doubles; each
// segment is read from memory once per pass over the tensor (NormalizationRows), 512-bit where the GEMM kernels are (the
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

    private void Normalize(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps, bool relu,
        Tensor? residual = null)
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
            Wide = CpuGemm.CurrentKernel == GemmKernel.Vector512,
        };
        if (residual is not null)
        {
            job.Residual = HostBuffers.Floats(residual, op, out job.RO);
        }
        // A struct job, not a lambda: a training step allocates nothing.
        ParallelRange(channels, Math.Max(1, (int)(32768 / Math.Max(1, count))), ref job);
    }

    private unsafe struct NormalizeJob : IRangeJob
    {
        public float[] X, Y, Gamma, Beta, RunningMean, RunningVar, SaveMean, SaveInvStd;
        /// <summary>Null, or the sum's other operand, added before the ReLU (<see cref="Device.BatchNorm"/>'s residual).</summary>
        public float[]? Residual;
        public int XO, YO, GO, BO, RMO, RVO, SMO, SIO, RO, Batch, Channels, Spatial;
        public bool Training, Relu, Wide;
        public float Momentum, Eps;

        public readonly void Run(int s, int e)
        {
            int batch = Batch, spatial = Spatial, stride = Channels * spatial;
            long count = (long)batch * spatial;
            fixed (float* px = &X[XO], py = &Y[YO], pr = Residual)
            {
                float* residual = Residual is null ? null : pr + RO;
                for (int c = s; c < e; c++)
                {
                    float mean;
                    float invStd;
                    if (Training)
                    {
                        // One read of each segment from memory: its sum and its squared deviations from its own mean (the
                        // segment is in L1 for the second), combined over the batch with Chan et al.'s formula in double,
                        // so the variance has no E[x^2]-E[x]^2 cancellation.
                        double sum = 0, squares = 0, sumOfMeans = 0, sumOfSquaredMeans = 0;
                        for (int n = 0; n < batch; n++)
                        {
                            var (segmentSum, segmentSquares) = NormalizationRows.Moments(px + n * stride + c * spatial, spatial, Wide);
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
                    // y = (x - mean) * invStd * gamma + beta as one multiply-add per element (then the residual and the fused ReLU), one pass.
                    float scale = invStd * Gamma[GO + c];
                    float shift = Beta[BO + c] - mean * scale;
                    for (int n = 0; n < batch; n++)
                    {
                        int at = n * stride + c * spatial;
                        NormalizationRows.ScaleShift(px + at, residual == null ? null : residual + at, py + at, spatial, scale, shift, Relu, Wide);
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
            Wide = CpuGemm.CurrentKernel == GemmKernel.Vector512,
        };
        if (relu is not null)
        {
            job.Mask = HostBuffers.Floats(relu, op, out job.MaskO);
        }
        long count = (long)batch * spatial;
        ParallelRange(channels, Math.Max(1, (int)(32768 / Math.Max(1, count))), ref job);
    }

    private unsafe struct NormalizeBackwardJob : IRangeJob
    {
        public float[] X, Dy, Dx, Gamma, SaveMean, SaveInvStd, DGamma, DBeta;
        public float[]? Mask;
        public int XO, DyO, DxO, GO, SMO, SIO, DGO, DBO, MaskO, Batch, Channels, Spatial;
        public bool Training, Accumulate, Wide;

        public readonly void Run(int s, int e)
        {
            int batch = Batch, spatial = Spatial, stride = Channels * spatial;
            long count = (long)batch * spatial;
            fixed (float* px = &X[XO], pdy = &Dy[DyO], pdx = &Dx[DxO], pm = Mask)
            {
                // The fused ReLU's output, or null: dy counts only where it is positive.
                float* mask = Mask is null ? null : pm + MaskO;
                for (int c = s; c < e; c++)
                {
                    float mean = SaveMean[SMO + c];
                    float invStd = SaveInvStd[SIO + c];
                    int at = c * spatial;
                    float* channelMask = mask == null ? null : mask + at;
                    var (sumDy, sumDyCentered) = NormalizationRows.GradientSums(pdy + at, channelMask, px + at, mean, spatial, batch, stride, Wide);
                    DBeta[DBO + c] += (float)sumDy;
                    DGamma[DGO + c] += (float)(sumDyCentered * invStd);

                    // Training: dx = gamma*invStd * (dy - mean(dy) - xhat * mean(dy*xhat)) = a*dy + b*x + k, one pass.
                    // Evaluation: the statistics are constants, dx = gamma*invStd*dy.
                    double a = (double)Gamma[GO + c] * invStd;
                    double b = Training ? -a * invStd * invStd * sumDyCentered / count : 0.0;
                    double k = Training ? -a * sumDy / count - b * mean : 0.0;
                    NormalizationRows.InputGradient(pdy + at, channelMask, px + at, pdx + at, spatial, batch, stride,
                        (float)a, (float)b, (float)k, Accumulate, Wide);
                }
            }
        }
    }
}
