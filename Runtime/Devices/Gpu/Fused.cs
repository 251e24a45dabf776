using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Kernels of the steps the generator fuses (<c>Generator/Emit/Fusion.cs</c>): batch norm + ReLU forward and backward (the
/// ReLU's mask read from the fused output, y &gt; 0) and the residual add + ReLU. The batch statistics are
/// <c>Normalization.cs</c>'s kernel; the passes here differ from the unfused ones only by the ReLU.
/// </summary>
public sealed partial class GpuDevice
{
    protected override void AddReluCore(Tensor a, Tensor b, Tensor y)
    {
        var (av, bv, yv) = (F(a, nameof(AddRelu)), F(b, nameof(AddRelu)), F(y, nameof(AddRelu)));
        if (Empty(a.Length))
        {
            return;
        }
        Kernel(nameof(AddReluKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(AddReluKernel))(
            Checked(a.Length, nameof(AddRelu)), av, bv, yv);
    }

    protected override void BatchNormReluCore(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        Tensor saveMean, Tensor saveInvStd, Tensor y, int batch, int channels, int spatial, bool training, float momentum, float eps)
        => BatchNormForward(x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, y, batch, channels, spatial, training, momentum, eps, relu: true);

    protected override void BatchNormReluBackwardCore(Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy, Tensor y,
        Tensor dx, Tensor dgamma, Tensor dbeta, int batch, int channels, int spatial, bool training, bool accumulateDx)
    {
        const string op = nameof(BatchNormBackward);
        long total = (long)batch * channels * spatial;
        var (xv, gv, sm, si, g, yv, d, dg, db) = (F(x, op), F(gamma, op), F(saveMean, op), F(saveInvStd, op), F(dy, op), F(y, op), F(dx, op), F(dgamma, op), F(dbeta, op));
        if (channels == 0)
        {
            return;
        }
        var sums = Scratch(FloatScratch.ChannelSums, 2L * channels);
        var args = new BatchNormArgs(batch, channels, spatial, training ? 1 : 0, 0f, 0f, accumulateDx ? 1 : 0);
        Kernel(nameof(BatchNormReluBackwardStatsKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormArgs>(BatchNormReluBackwardStatsKernel))(
            new KernelConfig(channels, RowGroup(batch * spatial)), xv, g, yv, sm, si, dg, db, sums, args);
        if (total > 0)
        {
            Kernel(nameof(BatchNormReluBackwardKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormArgs>(BatchNormReluBackwardKernel))(
                Checked(total, op), xv, gv, sm, si, g, yv, d, sums, args);
        }
    }

    // ------------------------------------------------------------------ kernels

    internal static void AddReluKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        y[i] = ActivationMath.Relu(a[i] + b[i]);
    }

    internal static void BatchNormReluKernel(Index1D i, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> saveMean, ArrayView<float> saveInvStd, ArrayView<float> y, BatchNormArgs a)
    {
        int c = (i / a.S) % a.C;
        float v = (x[i] - saveMean[c]) * saveInvStd[c] * gamma[c] + beta[c];
        y[i] = ActivationMath.Relu(v);
    }

    /// <summary>sum(dy) and sum(dy * xhat) per channel over the elements where the fused output is positive.</summary>
    internal static void BatchNormReluBackwardStatsKernel(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> y, ArrayView<float> saveMean,
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
            float g = y[at] > 0f ? dy[at] : 0f;
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

    /// <summary><c>BatchNormBackwardKernel</c> with dy masked where the fused output is not positive.</summary>
    internal static void BatchNormReluBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> saveMean,
        ArrayView<float> saveInvStd, ArrayView<float> dy, ArrayView<float> y, ArrayView<float> dx, ArrayView<float> sums, BatchNormArgs a)
    {
        int c = (i / a.S) % a.C;
        float invStd = saveInvStd[c];
        float scale = gamma[c] * invStd;
        float g = y[i] > 0f ? dy[i] : 0f;
        float v;
        if (a.Training != 0)
        {
            float m = a.N * a.S;
            float xhat = (x[i] - saveMean[c]) * invStd;
            v = scale / m * (m * g - sums[c] - xhat * sums[a.C + c]);
        }
        else
        {
            v = g * scale;
        }
        dx[i] = a.Accumulate != 0 ? dx[i] + v : v;
    }
}
