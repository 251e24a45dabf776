using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>Broadcasting element-wise operations and the scatter into a strided view: one thread per output (source) element.</summary>
public sealed partial class GpuDevice
{
    protected override void BroadcastCore(BinaryOp op, Tensor a, Tensor b, in BroadcastLayout layout, Tensor y)
    {
        string name = nameof(Broadcast);
        Kernel(nameof(BroadcastKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BroadcastLayout, int>(BroadcastKernel))(
            Checked(y.Length, name), ((GpuStorage)a.Storage).Floats!.View, ((GpuStorage)b.Storage).Floats!.View, F(y, name), layout, (int)op);
    }

    protected override void CopyToStridedCore(Tensor source, in StridedLayout layout, Tensor destination)
    {
        const string op = nameof(CopyToStrided);
        var storage = (GpuStorage)destination.Storage;
        int n = Checked(source.Length, op);
        switch (source.DType)
        {
            case DType.Float32:
                Kernel("ScatterKernel<float>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, StridedLayout>(ScatterKernel))(
                    n, F(source, op), storage.Floats!.View, layout);
                break;
            case DType.Int64:
                Kernel("ScatterKernel<long>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<long>, StridedLayout>(ScatterKernel))(
                    n, L(source, op), storage.Longs!.View, layout);
                break;
            case DType.Int32:
                Kernel("ScatterKernel<int>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, StridedLayout>(ScatterKernel))(
                    n, I(source, op), storage.Ints!.View, layout);
                break;
            default:
                throw new NotSupportedException($"{op}: no strided copy for {source.DType}.");
        }
    }

    /// <summary>y[i] = a[layout A(i)] (op) b[layout B(i)] over the whole storages of a and b; op was checked on the host.</summary>
    internal static void BroadcastKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, BroadcastLayout layout, int op)
        => y[i] = BroadcastMath.Apply((BinaryOp)op, a[BroadcastLayout.IndexA(layout, (int)i)], b[BroadcastLayout.IndexB(layout, (int)i)]);

    /// <summary>destination[<see cref="StridedLayout.SourceIndex"/>(i)] = source[i], over the whole storage of the destination.</summary>
    internal static void ScatterKernel<T>(Index1D i, ArrayView<T> source, ArrayView<T> destination, StridedLayout layout)
        where T : unmanaged
        => destination[StridedLayout.SourceIndex(layout, (int)i)] = source[i];
}
