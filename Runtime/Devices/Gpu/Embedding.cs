using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    protected override void EmbeddingCore(Tensor ids, Tensor weight, Tensor y, Tensor status, int num, int dim)
    {
        const string op = nameof(Embedding);
        var (idv, wv, yv, sv) = (L(ids, op), F(weight, op), F(y, op), I(status, op));
        int count = Checked(ids.Length, op);
        Kernel(nameof(EmbeddingCheckKernel), a => a.LoadStreamKernel<ArrayView<long>, ArrayView<int>, int, int>(EmbeddingCheckKernel))(
            RowLaunch(1, count, op), idv, sv, count, num);
        if (!Empty((long)count * dim))
        {
            Kernel(nameof(EmbeddingGatherKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<float>, ArrayView<float>, int, int>(EmbeddingGatherKernel))(
                Checked((long)count * dim, op), idv, wv, yv, num, dim);
        }
    }

    protected override void EmbeddingBackwardCore(Tensor ids, Tensor dy, Tensor dweight, int num, int dim, int paddingIdx)
    {
        const string op = nameof(EmbeddingBackward);
        var (idv, g, dw) = (L(ids, op), F(dy, op), F(dweight, op));
        long total = ids.Length * dim;
        if (!Empty(total))
        {
            Kernel(nameof(EmbeddingScatterKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<float>, ArrayView<float>, int, int, int>(EmbeddingScatterKernel))(
                Checked(total, op), idv, g, dw, num, dim, paddingIdx);
        }
    }

    /// <summary>
    /// One group: status[0] = 1 + the first position whose id is outside [0, num), 0 when none (as <see cref="LossFinishKernel"/>);
    /// each thread finds its first bad position striding over the ids, and the group takes the minimum.
    /// </summary>
    internal static void EmbeddingCheckKernel(ArrayView<long> ids, ArrayView<int> status, int count, int num)
    {
        var shared = SharedMemory.Allocate<int>(MaxReduceGroup);
        int first = int.MaxValue;
        for (int p = Group.IdxX; p < count; p += Group.DimX)
        {
            if (ids[p] < 0 || ids[p] >= num)
            {
                first = p;
                break;
            }
        }
        first = GroupInt(shared, first, 1);
        if (Group.IdxX == 0)
        {
            status[0] = first == int.MaxValue ? 0 : first + 1;
        }
    }

    /// <summary>One thread per output element; a bad id gives 0 (and was flagged).</summary>
    internal static void EmbeddingGatherKernel(Index1D i, ArrayView<long> ids, ArrayView<float> weight, ArrayView<float> y, int num, int dim)
    {
        int p = i / dim;
        int j = i - p * dim;
        long id = ids[p];
        y[i] = id >= 0 && id < num ? weight[(int)id * dim + j] : 0f;
    }

    /// <summary>One thread per dy element, added atomically: repeated ids may meet in one launch.</summary>
    internal static void EmbeddingScatterKernel(Index1D i, ArrayView<long> ids, ArrayView<float> dy, ArrayView<float> dweight, int num, int dim, int paddingIdx)
    {
        int p = i / dim;
        int j = i - p * dim;
        long id = ids[p];
        if (id >= 0 && id < num && id != paddingIdx)
        {
            Atomic.Add(ref dweight[(int)id * dim + j], dy[i]);
        }
    }
}
