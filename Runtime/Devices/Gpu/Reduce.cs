using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Parallel reductions: one thread group cooperates on a row, a channel or a slice of a long vector, combining its
/// threads' partial results in a shared-memory tree (log2 of the group size steps) instead of one thread walking the
/// whole range. Used by the losses, the accuracy counter, batch-norm statistics, softmax rows and bias gradients,
/// and exposed as <see cref="Sum"/> for whatever needs a device-side norm (gradient clipping).
/// </summary>
/// <remarks>
/// Every reduction here runs a fixed tree over a fixed partition, so results are deterministic run to run (no float
/// atomics). Group sizes are powers of two, at most <see cref="MaxReduceGroup"/>, which is also the size of the static
/// shared arrays the kernels allocate.
/// </remarks>
public sealed partial class GpuDevice
{
    /// <summary>Largest group a reduction launches; the shared arrays of the reduction kernels have this size.</summary>
    internal const int MaxReduceGroup = 256;

    /// <summary>Most groups the first pass of <see cref="Sum"/> launches; their partials are summed by one more group.</summary>
    private const int MaxReduceGroups = 1024;

    private int? _reduceGroup;

    /// <summary>The largest power of two that is at most <see cref="MaxReduceGroup"/> and fits one group of this accelerator.</summary>
    internal int ReduceGroup => _reduceGroup ??= FloorPowerOfTwo(Math.Min(MaxReduceGroup, Accelerator.MaxNumThreadsPerGroup));

    /// <summary>A group for rows of <paramref name="length"/> elements: the smallest power of two covering the row, capped.</summary>
    private int RowGroup(int length) => Math.Min(ReduceGroup, CeilPowerOfTwo(Math.Max(1, length)));

    private static int FloorPowerOfTwo(int v)
    {
        int p = 1;
        while (p * 2 <= v)
        {
            p *= 2;
        }
        return p;
    }

    private static int CeilPowerOfTwo(int v)
    {
        int p = 1;
        while (p < v)
        {
            p *= 2;
        }
        return p;
    }

    /// <summary>
    /// result[0] (+)= scale * the sum of x (of its squares when <paramref name="squares"/>), on the device without a
    /// download: the gradient norm for clipping is the square root of such a sum accumulated over the parameters.
    /// </summary>
    public void Sum(Tensor x, Tensor result, bool squares = false, float scale = 1f, bool accumulate = false)
    {
        const string op = nameof(Sum);
        RequireLength(result, 1, op, "result");
        var (xv, r) = (F(x, op), F(result, op));
        int count = Checked(x.Length, op);
        int group = ReduceGroup;
        int groups = Math.Clamp((count + group - 1) / group, 1, MaxReduceGroups);
        var partials = Scratch(FloatScratch.Partials, groups);
        Kernel(nameof(SumPartialsKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int>(SumPartialsKernel))(
            new KernelConfig(groups, group), xv, partials, count, squares ? 1 : 0);
        Kernel(nameof(SumFinishKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, float, int>(SumFinishKernel))(
            new KernelConfig(1, group), partials, r, groups, scale, accumulate ? 1 : 0);
    }

    // ------------------------------------------------------------------ group building blocks (called from kernels)

    /// <summary>The sum of <paramref name="value"/> over the group; every thread of the group must call it.</summary>
    internal static float GroupSum(ArrayView<float> shared, float value)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s)
            {
                shared[t] += shared[t + s];
            }
            Group.Barrier();
        }
        float total = shared[0];
        // The next reduction may reuse the array only after everyone has read the total.
        Group.Barrier();
        return total;
    }

    /// <summary>The maximum of <paramref name="value"/> over the group; every thread of the group must call it.</summary>
    internal static float GroupMax(ArrayView<float> shared, float value)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s)
            {
                shared[t] = MathF.Max(shared[t], shared[t + s]);
            }
            Group.Barrier();
        }
        float total = shared[0];
        Group.Barrier();
        return total;
    }

    /// <summary>The sum (<paramref name="min"/> 0) or minimum (1) of an integer over the group.</summary>
    internal static int GroupInt(ArrayView<int> shared, int value, int min)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s)
            {
                shared[t] = min != 0 ? Math.Min(shared[t], shared[t + s]) : shared[t] + shared[t + s];
            }
            Group.Barrier();
        }
        int total = shared[0];
        Group.Barrier();
        return total;
    }

    // ------------------------------------------------------------------ kernels

    /// <summary>Each group sums a grid-strided share of x (or of its squares) and writes one partial.</summary>
    internal static void SumPartialsKernel(ArrayView<float> x, ArrayView<float> partials, int count, int squares)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int stride = Grid.DimX * Group.DimX;
        float sum = 0f;
        for (int i = Grid.IdxX * Group.DimX + Group.IdxX; i < count; i += stride)
        {
            float v = x[i];
            sum += squares != 0 ? v * v : v;
        }
        float total = GroupSum(shared, sum);
        if (Group.IdxX == 0)
        {
            partials[Grid.IdxX] = total;
        }
    }

    /// <summary>One group: result[0] (+)= scale * the sum of the partials.</summary>
    internal static void SumFinishKernel(ArrayView<float> partials, ArrayView<float> result, int parts, float scale, int accumulate)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        float sum = 0f;
        for (int i = Group.IdxX; i < parts; i += Group.DimX)
        {
            sum += partials[i];
        }
        float total = GroupSum(shared, sum) * scale;
        if (Group.IdxX == 0)
        {
            result[0] = accumulate != 0 ? result[0] + total : total;
        }
    }
}
