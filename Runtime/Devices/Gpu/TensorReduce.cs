using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Reductions along one dimension of x seen as [outer, size, inner]: one thread per output walks its column in order, so
/// the result does not depend on the launch (simple and deterministic; the tree reductions of <c>Reduce.cs</c> serve the
/// training kernels).
/// </summary>
public sealed partial class GpuDevice
{
    protected override void ReduceCore(ReduceOp op, Tensor x, int outer, int size, int inner, Tensor values, Tensor? indices)
    {
        string name = nameof(Reduce);
        int n = Checked(values.Length, name);
        switch (op)
        {
            case ReduceOp.Sum:
            case ReduceOp.Mean:
                Kernel(nameof(SumAlongKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(SumAlongKernel))(
                    n, F(x, name), F(values, name), size, inner, op == ReduceOp.Mean ? 1 : 0);
                break;
            case ReduceOp.Max when indices is null:
                Kernel(nameof(MaxAlongKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(MaxAlongKernel))(
                    n, F(x, name), F(values, name), size, inner);
                break;
            case ReduceOp.Max:
                Kernel(nameof(MaxIndexAlongKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<long>, int, int>(MaxIndexAlongKernel))(
                    n, F(x, name), F(values, name), L(indices, name), size, inner);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), $"{name}: unknown reduction {op}.");
        }
    }

    /// <summary>values[o*inner + j] = sum (or mean) over s of x[(o*size + s)*inner + j].</summary>
    internal static void SumAlongKernel(Index1D i, ArrayView<float> x, ArrayView<float> values, int size, int inner, int mean)
    {
        int o = i / inner, j = i - o * inner;
        long at = (long)o * size * inner + j;
        float sum = 0f;
        for (int s = 0; s < size; s++)
        {
            sum += x[at + (long)s * inner];
        }
        values[i] = mean != 0 ? sum / size : sum;
    }

    /// <summary>values[o*inner + j] = the maximum over s (NaN wins).</summary>
    internal static void MaxAlongKernel(Index1D i, ArrayView<float> x, ArrayView<float> values, int size, int inner)
    {
        int o = i / inner, j = i - o * inner;
        long at = (long)o * size * inner + j;
        float best = x[at];
        for (int s = 1; s < size; s++)
        {
            float value = x[at + (long)s * inner];
            if (!float.IsNaN(best) && (value > best || float.IsNaN(value)))
            {
                best = value;
            }
        }
        values[i] = best;
    }

    /// <summary>The maximum and the position of its first occurrence (NaN wins).</summary>
    internal static void MaxIndexAlongKernel(Index1D i, ArrayView<float> x, ArrayView<float> values, ArrayView<long> indices, int size, int inner)
    {
        int o = i / inner, j = i - o * inner;
        long at = (long)o * size * inner + j;
        float best = x[at];
        long where = 0;
        for (int s = 1; s < size; s++)
        {
            float value = x[at + (long)s * inner];
            if (!float.IsNaN(best) && (value > best || float.IsNaN(value)))
            {
                best = value;
                where = s;
            }
        }
        values[i] = best;
        indices[i] = where;
    }
}
