using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Layer normalisation (PyTorch's <c>nn.LayerNorm</c>), the simple parallel version: one thread per row for the
/// statistics, the normalisation and the input gradient (each row in a fixed order), one thread per feature for the
/// parameter gradients (summing rows in order), so no atomics and results independent of scheduling.
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
        Kernel(nameof(LayerNormKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerNormArgs>(LayerNormKernel))(
            rows, xv, gv, bv, mv, sv, yv, args);
    }

    protected override void LayerNormBackwardCore(Tensor x, Tensor? gamma, Tensor saveMean, Tensor saveInvStd, Tensor dy,
        Tensor? dx, Tensor? dgamma, Tensor? dbeta, int rows, int features, bool accumulateDx)
    {
        const string op = nameof(LayerNormBackward);
        var (xv, mv, sv, g) = (F(x, op), F(saveMean, op), F(saveInvStd, op), F(dy, op));
        var gv = gamma is null ? xv : F(gamma, op);
        var args = new LayerNormArgs(features, 0f, gamma is null ? 0 : 1, 0, accumulateDx ? 1 : 0);
        if (dx is not null)
        {
            Kernel(nameof(LayerNormBackwardKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerNormArgs>(LayerNormBackwardKernel))(
                rows, xv, gv, mv, sv, g, F(dx, op), args);
        }
        if (dgamma is not null || dbeta is not null)
        {
            var dgv = dgamma is null ? g : F(dgamma, op);
            var dbv = dbeta is null ? g : F(dbeta, op);
            Kernel(nameof(LayerNormParamGradKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(LayerNormParamGradKernel))(
                features, xv, mv, sv, g, dgv, dbv, rows, features, dgamma is null ? 0 : 1, dbeta is null ? 0 : 1);
        }
    }

    internal readonly record struct LayerNormArgs(int D, float Eps, int HasGamma, int HasBeta, int Accumulate);

    /// <summary>Row r: mean and biased variance (two passes), saved; then y = (x - mean) * invStd (* gamma + beta).</summary>
    internal static void LayerNormKernel(Index1D r, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> saveMean, ArrayView<float> saveInvStd, ArrayView<float> y, LayerNormArgs a)
    {
        long start = (long)(int)r * a.D;
        float sum = 0f;
        for (int j = 0; j < a.D; j++)
        {
            sum += x[start + j];
        }
        float mean = sum / a.D;
        float squares = 0f;
        for (int j = 0; j < a.D; j++)
        {
            float d = x[start + j] - mean;
            squares += d * d;
        }
        float invStd = 1f / MathF.Sqrt(squares / a.D + a.Eps);
        saveMean[r] = mean;
        saveInvStd[r] = invStd;
        for (int j = 0; j < a.D; j++)
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

    /// <summary>Row r: dx (+)= invStd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma.</summary>
    internal static void LayerNormBackwardKernel(Index1D r, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> saveMean,
        ArrayView<float> saveInvStd, ArrayView<float> dy, ArrayView<float> dx, LayerNormArgs a)
    {
        long start = (long)(int)r * a.D;
        float mean = saveMean[r];
        float invStd = saveInvStd[r];
        float sumG = 0f;
        float sumGXhat = 0f;
        for (int j = 0; j < a.D; j++)
        {
            float g = a.HasGamma != 0 ? dy[start + j] * gamma[j] : dy[start + j];
            sumG += g;
            sumGXhat += g * ((x[start + j] - mean) * invStd);
        }
        float meanG = sumG / a.D;
        float meanGXhat = sumGXhat / a.D;
        for (int j = 0; j < a.D; j++)
        {
            float g = a.HasGamma != 0 ? dy[start + j] * gamma[j] : dy[start + j];
            float xhat = (x[start + j] - mean) * invStd;
            float v = invStd * (g - meanG - xhat * meanGXhat);
            dx[start + j] = a.Accumulate != 0 ? dx[start + j] + v : v;
        }
    }

    /// <summary>Feature j: dgamma[j] += sum over rows of dy * xhat, dbeta[j] += sum over rows of dy.</summary>
    internal static void LayerNormParamGradKernel(Index1D j, ArrayView<float> x, ArrayView<float> saveMean, ArrayView<float> saveInvStd,
        ArrayView<float> dy, ArrayView<float> dgamma, ArrayView<float> dbeta, int rows, int features, int hasDgamma, int hasDbeta)
    {
        float sg = 0f;
        float sb = 0f;
        for (int r = 0; r < rows; r++)
        {
            long at = (long)r * features + j;
            float g = dy[at];
            sb += g;
            sg += g * ((x[at] - saveMean[r]) * saveInvStd[r]);
        }
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
