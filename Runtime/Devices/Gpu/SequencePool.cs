using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    protected override void MaxOverTimeCore(Tensor x, Tensor? lengths, Tensor y, Tensor argmax, int batch, int channels, int time)
    {
        const string op = nameof(MaxOverTime);
        var lv = LengthsView(lengths, op, out int has);
        Kernel(nameof(MaxOverTimeKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<int>, int, int, int>(MaxOverTimeKernel))(
            RowLaunch((long)batch * channels, time, op), F(x, op), lv, F(y, op), I(argmax, op), channels, time, has);
    }

    protected override void MaxOverTimeBackwardCore(Tensor dy, Tensor argmax, Tensor dx, int batch, int channels, int time, bool accumulate)
    {
        const string op = nameof(MaxOverTimeBackward);
        Kernel(nameof(MaxOverTimeBackwardKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(MaxOverTimeBackwardKernel))(
            Checked((long)batch * channels * time, op), F(dy, op), I(argmax, op), F(dx, op), time, accumulate ? 1 : 0);
    }

    protected override void MeanOverTimeCore(Tensor x, Tensor? lengths, Tensor y, int batch, int channels, int time)
    {
        const string op = nameof(MeanOverTime);
        var lv = LengthsView(lengths, op, out int has);
        Kernel(nameof(MeanOverTimeKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<long>, ArrayView<float>, int, int, int>(MeanOverTimeKernel))(
            RowLaunch((long)batch * channels, time, op), F(x, op), lv, F(y, op), channels, time, has);
    }

    protected override void MeanOverTimeBackwardCore(Tensor dy, Tensor? lengths, Tensor dx, int batch, int channels, int time, bool accumulate)
    {
        const string op = nameof(MeanOverTimeBackward);
        var lv = LengthsView(lengths, op, out int has);
        Kernel(nameof(MeanOverTimeBackwardKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, int, int, int, int>(MeanOverTimeBackwardKernel))(
            Checked((long)batch * channels * time, op), F(dy, op), lv, F(dx, op), channels, time, has, accumulate ? 1 : 0);
    }

    /// <summary>
    /// One group per (n, c): the threads scan the valid steps strided and <see cref="GroupArgMax"/> picks the first
    /// maximum, a NaN winning (the first NaN), as the CPU's scan that stops at a NaN; no valid step gives 0 and -1.
    /// </summary>
    internal static void MaxOverTimeKernel(ArrayView<float> x, ArrayView<long> lengths, ArrayView<float> y, ArrayView<int> argmax, int channels, int time, int has)
    {
        var sharedValues = SharedMemory.Allocate<float>(MaxReduceGroup);
        var sharedIndices = SharedMemory.Allocate<int>(MaxReduceGroup);
        int row = Grid.IdxX;
        int len = KernelLength(lengths, has, row / channels, time);
        int start = row * time;
        float best = 0f;
        int where = -1;
        for (int t = Group.IdxX; t < len; t += Group.DimX)
        {
            float v = x[start + t];
            if (where < 0 || ArgMaxBeats(v, t, best, where))
            {
                best = v;
                where = t;
            }
        }
        where = GroupArgMax(sharedValues, sharedIndices, best, where);
        if (Group.IdxX == 0)
        {
            y[row] = where < 0 ? 0f : x[start + where];
            argmax[row] = where;
        }
    }

    internal static void MaxOverTimeBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<int> argmax, ArrayView<float> dx, int time, int accumulate)
    {
        int row = i / time;
        int t = i - row * time;
        float v = argmax[row] == t ? dy[row] : 0f;
        dx[i] = accumulate != 0 ? dx[i] + v : v;
    }

    /// <summary>One group per (n, c): the valid steps summed with <see cref="GroupSum"/>; no valid step gives 0.</summary>
    internal static void MeanOverTimeKernel(ArrayView<float> x, ArrayView<long> lengths, ArrayView<float> y, int channels, int time, int has)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int row = Grid.IdxX;
        int len = KernelLength(lengths, has, row / channels, time);
        float sum = 0f;
        for (int t = Group.IdxX; t < len; t += Group.DimX)
        {
            sum += x[row * time + t];
        }
        sum = GroupSum(shared, sum);
        if (Group.IdxX == 0)
        {
            y[row] = len == 0 ? 0f : sum / len;
        }
    }

    internal static void MeanOverTimeBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<long> lengths, ArrayView<float> dx, int channels, int time, int has, int accumulate)
    {
        int row = i / time;
        int t = i - row * time;
        int len = KernelLength(lengths, has, row / channels, time);
        float v = t < len ? dy[row] / len : 0f;
        dx[i] = accumulate != 0 ? dx[i] + v : v;
    }

    private Tensor? _maskStatus;

    /// <summary>
    /// Queues the lengths and the check without waiting: the first bad element lands in the input-fault record
    /// (<see cref="RecordMaskFault"/>), which the next read reports; returns -1.
    /// </summary>
    protected override long MaskLengthsCore(Tensor mask, Tensor lengths, int batch, int time, int shift, string owner)
    {
        const string op = nameof(MaskLengths);
        // Allocated once: later calls allocate nothing. The upload is queued behind the kernels that read the word before.
        var status = _maskStatus ??= Allocate(DType.Int32, 1);
        Span<int> word = stackalloc int[1];
        word[0] = int.MaxValue;
        Upload(word, status);
        if (batch > 0)
        {
            Kernel(nameof(MaskLengthsKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<long>, ArrayView<int>, int, int>(MaskLengthsKernel))(
                RowLaunch(batch, time, op), F(mask, op), L(lengths, op), I(status, op), time, shift);
            RecordMaskFault(I(status, op), F(mask, op), owner, time);
        }
        return -1;
    }

    /// <summary>
    /// One group per row: the length is the first position that is not 1 (a minimum over the group), and the first
    /// later position that is not 0 (another minimum) lowers status[0] to its flat index (the smallest over rows wins,
    /// as the CPU's scan finds it first).
    /// </summary>
    internal static void MaskLengthsKernel(ArrayView<float> mask, ArrayView<long> lengths, ArrayView<int> status, int time, int shift)
    {
        var shared = SharedMemory.Allocate<int>(MaxReduceGroup);
        int row = Grid.IdxX;
        int start = row * time;
        int first = time;
        for (int u = Group.IdxX; u < time; u += Group.DimX)
        {
            if (mask[start + u] != 1f)
            {
                first = u;
                break;
            }
        }
        int len = GroupInt(shared, first, 1);
        int bad = time;
        for (int u = len + Group.IdxX; u < time; u += Group.DimX)
        {
            if (mask[start + u] != 0f)
            {
                bad = u;
                break;
            }
        }
        bad = GroupInt(shared, bad, 1);
        if (Group.IdxX == 0)
        {
            lengths[row] = len + shift > 0 ? len + shift : 0;
            if (bad < time)
            {
                Atomic.Min(ref status[0], start + bad);
            }
        }
    }
}
