using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Reductions along one dimension of x seen as [outer, size, inner]: one thread group per output, its threads striding
/// over the reduced dimension and combining their partials with the group reductions of <c>Reduce.cs</c> (a fixed
/// tree, so the result does not change from run to run).
/// </summary>
public sealed partial class GpuDevice
{
    protected override void ReduceCore(ReduceOp op, Tensor x, int outer, int size, int inner, Tensor values, Tensor? indices)
    {
        string name = nameof(Reduce);
        var launch = RowLaunch(values.Length, size, name);
        switch (op)
        {
            case ReduceOp.Sum:
            case ReduceOp.Mean:
                Kernel(nameof(SumAlongKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int>(SumAlongKernel))(
                    launch, F(x, name), F(values, name), size, inner, op == ReduceOp.Mean ? 1 : 0);
                break;
            case ReduceOp.Max:
                var iv = indices is null ? (_noLengths ??= Accelerator.Allocate1D<long>(1)).View : L(indices, name);
                Kernel(nameof(MaxAlongKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<long>, int, int, int>(MaxAlongKernel))(
                    launch, F(x, name), F(values, name), iv, size, inner, indices is null ? 0 : 1);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), $"{name}: unknown reduction {op}.");
        }
    }

    /// <summary>values[o*inner + j] = sum (or mean) over s of x[(o*size + s)*inner + j]; one group per output.</summary>
    internal static void SumAlongKernel(ArrayView<float> x, ArrayView<float> values, int size, int inner, int mean)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int i = Grid.IdxX;
        int o = i / inner, j = i - o * inner;
        long at = (long)o * size * inner + j;
        float sum = 0f;
        for (int s = Group.IdxX; s < size; s += Group.DimX)
        {
            sum += x[at + (long)s * inner];
        }
        sum = GroupSum(shared, sum);
        if (Group.IdxX == 0)
        {
            values[i] = mean != 0 ? sum / size : sum;
        }
    }

    /// <summary>
    /// values[o*inner + j] = the maximum over s (NaN wins) and, when <paramref name="hasIndices"/>, the position of its
    /// first occurrence; one group per output.
    /// </summary>
    internal static void MaxAlongKernel(ArrayView<float> x, ArrayView<float> values, ArrayView<long> indices, int size, int inner, int hasIndices)
    {
        var sharedValues = SharedMemory.Allocate<float>(MaxReduceGroup);
        var sharedIndices = SharedMemory.Allocate<int>(MaxReduceGroup);
        int i = Grid.IdxX;
        int o = i / inner, j = i - o * inner;
        long at = (long)o * size * inner + j;
        float best = 0f;
        int where = -1;
        for (int s = Group.IdxX; s < size; s += Group.DimX)
        {
            float value = x[at + (long)s * inner];
            if (where < 0 || ArgMaxBeats(value, s, best, where))
            {
                best = value;
                where = s;
            }
        }
        where = GroupArgMax(sharedValues, sharedIndices, best, where);
        if (Group.IdxX == 0)
        {
            values[i] = x[at + (long)where * inner];
            if (hasIndices != 0)
            {
                indices[i] = where;
            }
        }
    }
}
