using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Batch normalisation (Ioffe and Szegedy, 2015; PyTorch's <c>nn.BatchNorm2d</c>). Per-channel statistics run one
/// group per channel, reduced in shared memory in a fixed tree; the elementwise passes run one thread per element.
/// </summary>
public sealed partial class GpuDevice
{
    protected override void BatchNormCore(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps)
        => BatchNormForward(x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, y, batch, channels, spatial, training, momentum, eps, relu: false);

    /// <summary>Batch norm's forward: the statistics per channel, then the normalisation, with the fused ReLU when <paramref name="relu"/> (Fused.cs).</summary>
    private void BatchNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps, bool relu)
    {
        const string op = nameof(BatchNorm);
        long total = (long)batch * channels * spatial;
        var (xv, gv, bv, rm, rv, sm, si, yv) = (F(x, op), F(gamma, op), F(beta, op), F(runningMean, op), F(runningVar, op), F(saveMean, op), F(saveInvStd, op), F(y, op));
        if (channels == 0)
        {
            return;
        }
        var args = new BatchNormArgs(batch, channels, spatial, training ? 1 : 0, momentum, eps, 0);
        Kernel(nameof(BatchNormStatsKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormArgs>(BatchNormStatsKernel))(
            new KernelConfig(channels, RowGroup(batch * spatial)), xv, rm, rv, sm, si, args);
        if (total > 0)
        {
            var normalize = relu
                ? Kernel(nameof(BatchNormReluKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormArgs>(BatchNormReluKernel))
                : Kernel(nameof(BatchNormNormalizeKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormArgs>(BatchNormNormalizeKernel));
            normalize(Checked(total, op), xv, gv, bv, sm, si, yv, args);
        }
    }

    protected override void BatchNormBackwardCore(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx)
    {
        const string op = nameof(BatchNormBackward);
        long total = (long)batch * channels * spatial;
        var (xv, gv, sm, si, g, d, dg, db) = (F(x, op), F(gamma, op), F(saveMean, op), F(saveInvStd, op), F(dy, op), F(dx, op), F(dgamma, op), F(dbeta, op));
        if (channels == 0)
        {
            return;
        }
        var sums = Scratch(FloatScratch.ChannelSums, 2L * channels);
        var args = new BatchNormArgs(batch, channels, spatial, training ? 1 : 0, 0f, 0f, accumulateDx ? 1 : 0);
        Kernel(nameof(BatchNormBackwardStatsKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormArgs>(BatchNormBackwardStatsKernel))(
            new KernelConfig(channels, RowGroup(batch * spatial)), xv, g, sm, si, dg, db, sums, args);
        if (total > 0)
        {
            Kernel(nameof(BatchNormBackwardKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormArgs>(BatchNormBackwardKernel))(
                Checked(total, op), xv, gv, sm, si, g, d, sums, args);
        }
    }

    internal readonly record struct BatchNormArgs(int N, int C, int S, int Training, float Momentum, float Eps, int Accumulate);

    // ------------------------------------------------------------------ kernels

    /// <summary>
    /// One group per channel. Training: mean and biased variance of the channel (two passes over the data, so the
    /// variance does not suffer the cancellation of E[x^2] - E[x]^2), saved for backward; the running statistics move
    /// by momentum towards the mean and the unbiased variance. Evaluation: the running statistics are saved.
    /// </summary>
    internal static void BatchNormStatsKernel(ArrayView<float> x, ArrayView<float> runningMean, ArrayView<float> runningVar,
        ArrayView<float> saveMean, ArrayView<float> saveInvStd, BatchNormArgs a)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int c = Grid.IdxX;
        if (a.Training == 0)
        {
            if (Group.IdxX == 0)
            {
                saveMean[c] = runningMean[c];
                saveInvStd[c] = 1f / MathF.Sqrt(runningVar[c] + a.Eps);
            }
            return;
        }
        int count = a.N * a.S;
        float sum = 0f;
        for (int j = Group.IdxX; j < count; j += Group.DimX)
        {
            int n = j / a.S;
            sum += x[(n * a.C + c) * a.S + (j - n * a.S)];
        }
        float mean = GroupSum(shared, sum) / count;
        sum = 0f;
        for (int j = Group.IdxX; j < count; j += Group.DimX)
        {
            int n = j / a.S;
            float d = x[(n * a.C + c) * a.S + (j - n * a.S)] - mean;
            sum += d * d;
        }
        sum = GroupSum(shared, sum);
        if (Group.IdxX == 0)
        {
            float variance = sum / count;
            float unbiased = count > 1 ? sum / (count - 1) : variance;
            saveMean[c] = mean;
            saveInvStd[c] = 1f / MathF.Sqrt(variance + a.Eps);
            runningMean[c] = (1f - a.Momentum) * runningMean[c] + a.Momentum * mean;
            runningVar[c] = (1f - a.Momentum) * runningVar[c] + a.Momentum * unbiased;
        }
    }

    internal static void BatchNormNormalizeKernel(Index1D i, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> saveMean, ArrayView<float> saveInvStd, ArrayView<float> y, BatchNormArgs a)
    {
        int c = (i / a.S) % a.C;
        y[i] = (x[i] - saveMean[c]) * saveInvStd[c] * gamma[c] + beta[c];
    }

    /// <summary>sum(dy) and sum(dy * xhat) per channel (one group each): the parameter gradients, kept for the dx pass.</summary>
    internal static void BatchNormBackwardStatsKernel(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> saveMean,
        ArrayView<float> saveInvStd, ArrayView<float> dgamma, ArrayView<float> dbeta, ArrayView<float> sums, BatchNormArgs a)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int c = Grid.IdxX;
        float mean = saveMean[c];
        float invStd = saveInvStd[c];
        int count = a.N * a.S;
        float sumDy = 0f;
        float sumDyXhat = 0f;
        for (int j = Group.IdxX; j < count; j += Group.DimX)
        {
            int n = j / a.S;
            int at = (n * a.C + c) * a.S + (j - n * a.S);
            float g = dy[at];
            sumDy += g;
            sumDyXhat += g * (x[at] - mean) * invStd;
        }
        sumDy = GroupSum(shared, sumDy);
        sumDyXhat = GroupSum(shared, sumDyXhat);
        if (Group.IdxX == 0)
        {
            dgamma[c] += sumDyXhat;
            dbeta[c] += sumDy;
            sums[c] = sumDy;
            sums[a.C + c] = sumDyXhat;
        }
    }

    /// <summary>
    /// Training: dx = gamma * invstd / M * (M dy - sum(dy) - xhat sum(dy xhat)), the batch statistics' own gradient
    /// included; evaluation: dx = dy * gamma * invstd.
    /// </summary>
    internal static void BatchNormBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> saveMean,
        ArrayView<float> saveInvStd, ArrayView<float> dy, ArrayView<float> dx, ArrayView<float> sums, BatchNormArgs a)
    {
        int c = (i / a.S) % a.C;
        float invStd = saveInvStd[c];
        float scale = gamma[c] * invStd;
        float v;
        if (a.Training != 0)
        {
            float m = a.N * a.S;
            float xhat = (x[i] - saveMean[c]) * invStd;
            v = scale / m * (m * dy[i] - sums[c] - xhat * sums[a.C + c]);
        }
        else
        {
            v = dy[i] * scale;
        }
        dx[i] = a.Accumulate != 0 ? dx[i] + v : v;
    }
}
