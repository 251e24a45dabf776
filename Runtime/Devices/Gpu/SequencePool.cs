using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    protected override void MaxOverTimeCore(Tensor x, Tensor? lengths, Tensor y, Tensor argmax, int batch, int channels, int time)
    {
        const string op = nameof(MaxOverTime);
        var lv = LengthsView(lengths, op, out int has);
        Kernel(nameof(MaxOverTimeKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<int>, int, int, int>(MaxOverTimeKernel))(
            batch * channels, F(x, op), lv, F(y, op), I(argmax, op), channels, time, has);
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
        Kernel(nameof(MeanOverTimeKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, int, int, int>(MeanOverTimeKernel))(
            batch * channels, F(x, op), lv, F(y, op), channels, time, has);
    }

    protected override void MeanOverTimeBackwardCore(Tensor dy, Tensor? lengths, Tensor dx, int batch, int channels, int time, bool accumulate)
    {
        const string op = nameof(MeanOverTimeBackward);
        var lv = LengthsView(lengths, op, out int has);
        Kernel(nameof(MeanOverTimeBackwardKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, int, int, int, int>(MeanOverTimeBackwardKernel))(
            Checked((long)batch * channels * time, op), F(dy, op), lv, F(dx, op), channels, time, has, accumulate ? 1 : 0);
    }

    /// <summary>One thread per (n, c): the first maximum over the valid steps wins, NaN wins and stops the scan (as the CPU).</summary>
    internal static void MaxOverTimeKernel(Index1D row, ArrayView<float> x, ArrayView<long> lengths, ArrayView<float> y, ArrayView<int> argmax, int channels, int time, int has)
    {
        int len = KernelLength(lengths, has, row / channels, time);
        int start = row * time;
        int best = len > 0 ? 0 : -1;
        for (int t = 1; t < len; t++)
        {
            float v = x[start + t];
            if (PoolMath.MaxReplaces(v, x[start + best]))
            {
                best = t;
#pragma warning disable CS1718 // Comparison made to same variable: the NaN test.
                if (v != v)
#pragma warning restore CS1718
                {
                    break;
                }
            }
        }
        y[row] = best < 0 ? 0f : x[start + best];
        argmax[row] = best;
    }

    internal static void MaxOverTimeBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<int> argmax, ArrayView<float> dx, int time, int accumulate)
    {
        int row = i / time;
        int t = i - row * time;
        float v = argmax[row] == t ? dy[row] : 0f;
        dx[i] = accumulate != 0 ? dx[i] + v : v;
    }

    internal static void MeanOverTimeKernel(Index1D row, ArrayView<float> x, ArrayView<long> lengths, ArrayView<float> y, int channels, int time, int has)
    {
        int len = KernelLength(lengths, has, row / channels, time);
        float sum = 0f;
        for (int t = 0; t < len; t++)
        {
            sum += x[row * time + t];
        }
        y[row] = len == 0 ? 0f : sum / len;
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

    protected override long MaskLengthsCore(Tensor mask, Tensor lengths, int batch, int time, int shift)
    {
        const string op = nameof(MaskLengths);
        // Allocated once: later calls allocate nothing.
        var status = _maskStatus ??= Allocate(DType.Int32, 1);
        Span<int> word = stackalloc int[1];
        word[0] = int.MaxValue;
        Upload(word, status);
        if (batch > 0)
        {
            Kernel(nameof(MaskLengthsKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<int>, int, int>(MaskLengthsKernel))(
                batch, F(mask, op), L(lengths, op), I(status, op), time, shift);
        }
        Download(status, word);
        return word[0] == int.MaxValue ? -1 : word[0];
    }

    /// <summary>
    /// One thread per row: the leading 1s are the length; the first later element that is not 0 lowers status[0] to its
    /// flat index (the smallest over rows wins, as the CPU's scan finds it first).
    /// </summary>
    internal static void MaskLengthsKernel(Index1D row, ArrayView<float> mask, ArrayView<long> lengths, ArrayView<int> status, int time, int shift)
    {
        int start = row * time;
        int t = 0;
        while (t < time && mask[start + t] == 1f)
        {
            t++;
        }
        lengths[row] = t + shift > 0 ? t + shift : 0;
        for (int u = t; u < time; u++)
        {
            if (mask[start + u] != 0f)
            {
                Atomic.Min(ref status[0], start + u);
                return;
            }
        }
    }
}
