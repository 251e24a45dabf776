using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Layer normalisation (PyTorch's <c>nn.LayerNorm</c>): one thread group per row for the statistics, the normalisation
/// and the input gradient, and one group per feature for the parameter gradients, each sum combined in shared memory
/// (<see cref="GroupSum"/>), so no atomics and results independent of scheduling.
/// </summary>
public sealed partial class GpuDevice
{
    protected override void LayerNormCore(Tensor x, Tensor? gamma, Tensor? beta, Tensor saveMean, Tensor saveInvStd, Tensor y, int rows, int features, float eps)
    {
        const string op = nameof(LayerNorm);
        var (xv, yv, mv, sv) = (F(x, op), F(y, op), F(saveMean, op), F(saveInvStd, op));
        // A missing affine parameter is flagged and a bound view stands in for it (never read).
        var gv = gamma is null ? xv : F(gamma, op);
        var bv = beta is null ? xv : F(beta, op);
        var args = new LayerNormArgs(features, eps, gamma is null ? 0 : 1, beta is null ? 0 : 1, 0);
        if (rows == 0 || features == 0)
        {
            return;
        }
        Kernel(nameof(LayerNormKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerNormArgs>(LayerNormKernel))(
            new KernelConfig(rows, RowGroup(features)), xv, gv, bv, mv, sv, yv, args);
    }

    protected override void LayerNormBackwardCore(Tensor x, Tensor? gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy,
        Tensor? dx, Tensor? dgamma, Tensor? dbeta, int rows, int features, bool accumulateDx)
    {
        const string op = nameof(LayerNormBackward);
        var (xv, mv, sv, g) = (F(x, op), F(saveMean, op), F(saveInvStd, op), F(dy, op));
        var gv = gamma is null ? xv : F(gamma, op);
        var args = new LayerNormArgs(features, 0f, gamma is null ? 0 : 1, 0, accumulateDx ? 1 : 0);
        if (rows == 0 || features == 0)
        {
            return;
        }
        if (dx is not null)
        {
            Kernel(nameof(LayerNormBackwardKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerNormArgs>(LayerNormBackwardKernel))(
                new KernelConfig(rows, RowGroup(features)), xv, gv, mv, sv, g, F(dx, op), args);
        }
        if (dgamma is not null || dbeta is not null)
        {
            var dgv = dgamma is null ? g : F(dgamma, op);
            var dbv = dbeta is null ? g : F(dbeta, op);
            Kernel(nameof(LayerNormParamGradKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(LayerNormParamGradKernel))(
                new KernelConfig(features, RowGroup(rows)), xv, mv, sv, g, dgv, dbv, rows, features, dgamma is null ? 0 : 1, dbeta is null ? 0 : 1);
        }
    }

    internal readonly record struct LayerNormArgs(int D, float Eps, int HasGamma, int HasBeta, int Accumulate);

    /// <summary>Group per row: mean and biased variance (two passes, each summed in shared memory), saved; then y = (x - mean) * invStd (* gamma + beta).</summary>
    internal static void LayerNormKernel(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> saveMean, ArrayView<float> saveInvStd, ArrayView<float> y, LayerNormArgs a)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int r = Grid.IdxX;
        long start = (long)r * a.D;
        float sum = 0f;
        for (int j = Group.IdxX; j < a.D; j += Group.DimX)
        {
            sum += x[start + j];
        }
        float mean = GroupSum(shared, sum) / a.D;
        float squares = 0f;
        for (int j = Group.IdxX; j < a.D; j += Group.DimX)
        {
            float d = x[start + j] - mean;
            squares += d * d;
        }
        float invStd = 1f / MathF.Sqrt(GroupSum(shared, squares) / a.D + a.Eps);
        if (Group.IdxX == 0)
        {
            saveMean[r] = mean;
            saveInvStd[r] = invStd;
        }
        for (int j = Group.IdxX; j < a.D; j += Group.DimX)
        {
            float v = (x[start + j] - mean) * invStd;
            if (a.HasGamma != 0)
            {
                v *= gamma[j];
            }
            if (a.HasBeta != 0)
            {
                v += beta[j];
            }
            y[start + j] = v;
        }
    }

    /// <summary>Group per row: dx (+)= invStd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma, the means summed in shared memory.</summary>
    internal static void LayerNormBackwardKernel(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> saveMean,
        ArrayView<float> saveInvStd, ArrayView<float> dy, ArrayView<float> dx, LayerNormArgs a)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int r = Grid.IdxX;
        long start = (long)r * a.D;
        float mean = saveMean[r];
        float invStd = saveInvStd[r];
        float sumG = 0f;
        float sumGXhat = 0f;
        for (int j = Group.IdxX; j < a.D; j += Group.DimX)
        {
            float g = a.HasGamma != 0 ? dy[start + j] * gamma[j] : dy[start + j];
            sumG += g;
            sumGXhat += g * ((x[start + j] - mean) * invStd);
        }
        float meanG = GroupSum(shared, sumG) / a.D;
        float meanGXhat = GroupSum(shared, sumGXhat) / a.D;
        for (int j = Group.IdxX; j < a.D; j += Group.DimX)
        {
            float g = a.HasGamma != 0 ? dy[start + j] * gamma[j] : dy[start + j];
            float xhat = (x[start + j] - mean) * invStd;
            float v = invStd * (g - meanG - xhat * meanGXhat);
            dx[start + j] = a.Accumulate != 0 ? dx[start + j] + v : v;
        }
    }

    /// <summary>Group per feature j: dgamma[j] += sum over rows of dy * xhat, dbeta[j] += sum over rows of dy, summed in shared memory.</summary>
    internal static void LayerNormParamGradKernel(ArrayView<float> x, ArrayView<float> saveMean, ArrayView<float> saveInvStd,
        ArrayView<float> dy, ArrayView<float> dgamma, ArrayView<float> dbeta, int rows, int features, int hasDgamma, int hasDbeta)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int j = Grid.IdxX;
        float sg = 0f;
        float sb = 0f;
        for (int r = Group.IdxX; r < rows; r += Group.DimX)
        {
            long at = (long)r * features + j;
            float g = dy[at];
            sb += g;
            sg += g * ((x[at] - saveMean[r]) * saveInvStd[r]);
        }
        sg = GroupSum(shared, sg);
        sb = GroupSum(shared, sb);
        if (Group.IdxX == 0)
        {
            if (hasDgamma != 0)
            {
                dgamma[j] += sg;
            }
            if (hasDbeta != 0)
            {
                dbeta[j] += sb;
            }
        }
    }
}
