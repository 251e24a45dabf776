using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    protected override void AttentionPoolCore(Tensor x, Tensor context, Tensor? lengths, Tensor weights, Tensor y, int batch, int time, int dim)
    {
        const string op = nameof(AttentionPool);
        var (xv, cv, av, yv) = (F(x, op), F(context, op), F(weights, op), F(y, op));
        var lv = LengthsView(lengths, op, out int has);
        Kernel(nameof(AttentionScoresKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<long>, ArrayView<float>, int, int, int>(AttentionScoresKernel))(
            RowLaunch(batch, time, op), xv, cv, lv, av, time, dim, has);
        Kernel(nameof(AttentionOutputKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(AttentionOutputKernel))(
            Checked((long)batch * dim, op), xv, av, yv, time, dim);
    }

    protected override void AttentionPoolBackwardCore(Tensor x, Tensor context, Tensor weights, Tensor dy, Tensor dx, Tensor dcontext, int batch, int time, int dim, bool accumulateDx)
    {
        const string op = nameof(AttentionPoolBackward);
        var (xv, cv, av, g, dxv, dcv) = (F(x, op), F(context, op), F(weights, op), F(dy, op), F(dx, op), F(dcontext, op));
        var di = SequenceScratch((long)batch * time);
        Kernel(nameof(AttentionImportanceGradKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(AttentionImportanceGradKernel))(
            RowLaunch(batch, time, op), xv, av, g, di, time, dim);
        Kernel(nameof(AttentionInputGradKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(AttentionInputGradKernel))(
            Checked((long)batch * time * dim, op), cv, av, g, di, dxv, time, dim, accumulateDx ? 1 : 0);
        if (dim > 0)
        {
            Kernel(nameof(AttentionContextGradKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(AttentionContextGradKernel))(
                RowLaunch(dim, batch * time, op), xv, di, dcv, batch * time, dim);
        }
    }

    /// <summary>
    /// One group per sample: the threads take the steps strided, each writing its importances x_t . c over the valid
    /// steps; the maximum and the sum of exponentials are group reductions; padding gets 0.
    /// </summary>
    internal static void AttentionScoresKernel(ArrayView<float> x, ArrayView<float> c, ArrayView<long> lengths, ArrayView<float> a, int time, int dim, int has)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int n = Grid.IdxX;
        int len = KernelLength(lengths, has, n, time);
        float max = float.NegativeInfinity;
        for (int t = Group.IdxX; t < len; t += Group.DimX)
        {
            float s = 0f;
            for (int d = 0; d < dim; d++)
            {
                s += x[(n * time + t) * dim + d] * c[d];
            }
            max = MathF.Max(max, s);
            a[n * time + t] = s;
        }
        max = GroupMax(shared, max);
        float sum = 0f;
        for (int t = Group.IdxX; t < len; t += Group.DimX)
        {
            float e = MathF.Exp(a[n * time + t] - max);
            a[n * time + t] = e;
            sum += e;
        }
        sum = GroupSum(shared, sum);
        // Each thread rewrites only the steps it wrote, so no barrier is needed between the passes.
        for (int t = Group.IdxX; t < time; t += Group.DimX)
        {
            a[n * time + t] = t < len ? a[n * time + t] / sum : 0f;
        }
    }

    /// <summary>
    /// y[n, d] = sum over t of a[n, t] x[n, t, d]: one thread per output, consecutive threads reading consecutive d (a
    /// batched vector-matrix product, parallel over N x dim; not a reduction of one thread over a row).
    /// </summary>
    internal static void AttentionOutputKernel(Index1D i, ArrayView<float> x, ArrayView<float> a, ArrayView<float> y, int time, int dim)
    {
        int n = i / dim;
        int d = i - n * dim;
        float s = 0f;
        for (int t = 0; t < time; t++)
        {
            s += a[n * time + t] * x[(n * time + t) * dim + d];
        }
        y[i] = s;
    }

    /// <summary>di_t = a_t (dy . x_t - sum_s a_s dy . x_s): one group per sample, the sum over the steps a group reduction.</summary>
    internal static void AttentionImportanceGradKernel(ArrayView<float> x, ArrayView<float> a, ArrayView<float> dy, ArrayView<float> di, int time, int dim)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int n = Grid.IdxX;
        float total = 0f;
        for (int t = Group.IdxX; t < time; t += Group.DimX)
        {
            float s = 0f;
            for (int d = 0; d < dim; d++)
            {
                s += dy[n * dim + d] * x[(n * time + t) * dim + d];
            }
            di[n * time + t] = s;
            total += a[n * time + t] * s;
        }
        total = GroupSum(shared, total);
        for (int t = Group.IdxX; t < time; t += Group.DimX)
        {
            di[n * time + t] = a[n * time + t] * (di[n * time + t] - total);
        }
    }

    internal static void AttentionInputGradKernel(Index1D i, ArrayView<float> c, ArrayView<float> a, ArrayView<float> dy, ArrayView<float> di, ArrayView<float> dx, int time, int dim, int accumulate)
    {
        int nt = i / dim;
        int d = i - nt * dim;
        int n = nt / time;
        float v = a[nt] * dy[n * dim + d] + di[nt] * c[d];
        dx[i] = accumulate != 0 ? dx[i] + v : v;
    }

    /// <summary>dc[d] += sum over (n, t) of di[n, t] x[n, t, d]: one group per d, a group reduction over the N x T steps.</summary>
    internal static void AttentionContextGradKernel(ArrayView<float> x, ArrayView<float> di, ArrayView<float> dc, int steps, int dim)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int d = Grid.IdxX;
        float s = 0f;
        for (int nt = Group.IdxX; nt < steps; nt += Group.DimX)
        {
            s += di[nt] * x[nt * dim + d];
        }
        s = GroupSum(shared, s);
        if (Group.IdxX == 0)
        {
            dc[d] += s;
        }
    }
}
