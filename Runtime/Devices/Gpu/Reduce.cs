using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Parallel reductions: one thread group cooperates on a row, a channel or a slice of a long vector, combining its
/// threads' partial results in a shared-memory tree (log2 of the group size steps) instead of one thread walking the
/// whole range. Used by the losses, the accuracy counter, batch-norm statistics, softmax and layer-norm rows, bias
/// gradients and the gradient norm of clipping (<c>Clipping.cs</c>).
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

    /// <summary>Most groups the first pass of a vector-long reduction launches; their partials are summed by one more group.</summary>
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

    /// <summary>
    /// The position of the first maximum over the group's candidates (<paramref name="value"/> at <paramref name="index"/>;
    /// an index below 0 is no candidate), a NaN winning over every number (the first NaN); -1 when no thread has one.
    /// Every thread of the group must call it. A thread's own candidate comes from a scan in increasing index with
    /// <see cref="ArgMaxBeats"/>, so the result is the sequential scan's.
    /// </summary>
    internal static int GroupArgMax(ArrayView<float> values, ArrayView<int> indices, float value, int index)
    {
        int t = Group.IdxX;
        values[t] = value;
        indices[t] = index;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s)
            {
                int j = indices[t + s];
                if (j >= 0 && (indices[t] < 0 || ArgMaxBeats(values[t + s], j, values[t], indices[t])))
                {
                    values[t] = values[t + s];
                    indices[t] = j;
                }
            }
            Group.Barrier();
        }
        int best = indices[0];
        Group.Barrier();
        return best;
    }

    /// <summary>Whether <paramref name="v"/> at <paramref name="j"/> replaces <paramref name="u"/> at <paramref name="i"/> as the first maximum (NaN wins).</summary>
    internal static bool ArgMaxBeats(float v, int j, float u, int i)
    {
        bool vNaN = float.IsNaN(v), uNaN = float.IsNaN(u);
        if (vNaN || uNaN)
        {
            return vNaN && (!uNaN || j < i);
        }
        return v > u || (v == u && j < i);
    }

    /// <summary>One group per row of <paramref name="length"/> elements, <paramref name="rows"/> rows.</summary>
    private KernelConfig RowLaunch(long rows, int length, string op) => new(Checked(rows, op), RowGroup(length));

    // ------------------------------------------------------------------ kernels
}
