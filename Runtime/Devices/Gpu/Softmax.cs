using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    protected override void SoftmaxCore(Tensor x, Tensor y, bool log)
    {
        var (xv, yv) = (F(x, nameof(Softmax)), F(y, nameof(Softmax)));
        int c = x.Rank == 0 ? 1 : x.Dims[^1];
        if (Empty(x.Length) || c == 0)
        {
            return;
        }
        Kernel(nameof(SoftmaxKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernel))(
            Checked(x.Length / c, nameof(Softmax)), xv, yv, c, log ? 1 : 0);
    }

    protected override void SoftmaxBackwardCore(Tensor y, Tensor dy, Tensor dx, bool log, bool accumulate)
    {
        var op = nameof(SoftmaxBackward);
        var (yv, g, d) = (F(y, op), F(dy, op), F(dx, op));
        int c = y.Rank == 0 ? 1 : y.Dims[^1];
        if (Empty(y.Length) || c == 0)
        {
            return;
        }
        Kernel(nameof(SoftmaxBackwardKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(SoftmaxBackwardKernel))(
            Checked(y.Length / c, op), yv, g, d, c, log ? 1 : 0, accumulate ? 1 : 0);
    }

    /// <summary>One thread per row; the row maximum is subtracted first so exp cannot overflow.</summary>
    internal static void SoftmaxKernel(Index1D r, ArrayView<float> x, ArrayView<float> y, int c, int log)
    {
        int start = r * c;
        float max = x[start];
        for (int j = 1; j < c; j++)
        {
            max = MathF.Max(max, x[start + j]);
        }
        float sum = 0f;
        for (int j = 0; j < c; j++)
        {
            sum += MathF.Exp(x[start + j] - max);
        }
        if (log != 0)
        {
            float logSum = MathF.Log(sum);
            for (int j = 0; j < c; j++)
            {
                y[start + j] = x[start + j] - max - logSum;
            }
        }
        else
        {
            float inv = 1f / sum;
            for (int j = 0; j < c; j++)
            {
                y[start + j] = MathF.Exp(x[start + j] - max) * inv;
            }
        }
    }

    internal static void SoftmaxBackwardKernel(Index1D r, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int c, int log, int accumulate)
    {
        int start = r * c;
        float s = 0f;
        for (int j = 0; j < c; j++)
        {
            s += log != 0 ? dy[start + j] : dy[start + j] * y[start + j];
        }
        for (int j = 0; j < c; j++)
        {
            int at = start + j;
            float v = log != 0 ? dy[at] - MathF.Exp(y[at]) * s : y[at] * (dy[at] - s);
            dx[at] = accumulate != 0 ? dx[at] + v : v;
        }
    }
}
