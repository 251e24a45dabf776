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
        Kernel(nameof(SoftmaxKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernel))(
            new KernelConfig(Checked(x.Length / c, nameof(Softmax)), RowGroup(c)), xv, yv, c, log ? 1 : 0);
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
        Kernel(nameof(SoftmaxBackwardKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(SoftmaxBackwardKernel))(
            new KernelConfig(Checked(y.Length / c, op), RowGroup(c)), yv, g, d, c, log ? 1 : 0, accumulate ? 1 : 0);
    }

    /// <summary>
    /// One group per row: the threads stride over the row, and the row maximum (subtracted first so exp cannot
    /// overflow) and the sum of exponentials are combined in shared memory.
    /// </summary>
    internal static void SoftmaxKernel(ArrayView<float> x, ArrayView<float> y, int c, int log)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int start = Grid.IdxX * c;
        float max = float.NegativeInfinity;
        for (int j = Group.IdxX; j < c; j += Group.DimX)
        {
            max = MathF.Max(max, x[start + j]);
        }
        max = GroupMax(shared, max);
        float sum = 0f;
        for (int j = Group.IdxX; j < c; j += Group.DimX)
        {
            sum += MathF.Exp(x[start + j] - max);
        }
        sum = GroupSum(shared, sum);
        if (log != 0)
        {
            float logSum = MathF.Log(sum);
            for (int j = Group.IdxX; j < c; j += Group.DimX)
            {
                y[start + j] = x[start + j] - max - logSum;
            }
        }
        else
        {
            float inv = 1f / sum;
            for (int j = Group.IdxX; j < c; j += Group.DimX)
            {
                y[start + j] = MathF.Exp(x[start + j] - max) * inv;
            }
        }
    }

    /// <summary>One group per row: sum(dy) or sum(dy * y) reduced in shared memory, then the row written in parallel.</summary>
    internal static void SoftmaxBackwardKernel(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int c, int log, int accumulate)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int start = Grid.IdxX * c;
        float s = 0f;
        for (int j = Group.IdxX; j < c; j += Group.DimX)
        {
            s += log != 0 ? dy[start + j] : dy[start + j] * y[start + j];
        }
        s = GroupSum(shared, s);
        for (int j = Group.IdxX; j < c; j += Group.DimX)
        {
            int at = start + j;
            float v = log != 0 ? dy[at] - MathF.Exp(y[at]) * s : y[at] * (dy[at] - s);
            dx[at] = accumulate != 0 ? dx[at] + v : v;
        }
    }
}
