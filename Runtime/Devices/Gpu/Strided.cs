using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>The gather behind <see cref="Tensor.Contiguous"/>: one thread per destination element reads its source through the layout.</summary>
public sealed partial class GpuDevice
{
    protected override void CopyStridedCore(Tensor source, in StridedLayout layout, Tensor destination)
    {
        const string op = nameof(CopyStrided);
        var storage = (GpuStorage)source.Storage;
        int n = Checked(destination.Length, op);
        switch (source.DType)
        {
            case DType.Float32:
                Kernel("StridedCopyKernel<float>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, StridedLayout>(StridedCopyKernel))(
                    n, storage.Floats!.View, F(destination, op), layout);
                break;
            case DType.Int64:
                Kernel("StridedCopyKernel<long>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<long>, StridedLayout>(StridedCopyKernel))(
                    n, storage.Longs!.View, L(destination, op), layout);
                break;
            case DType.Int32:
                Kernel("StridedCopyKernel<int>", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, StridedLayout>(StridedCopyKernel))(
                    n, storage.Ints!.View, I(destination, op), layout);
                break;
            default:
                throw new NotSupportedException($"{op}: no strided copy for {source.DType}.");
        }
    }

    /// <summary>destination[i] = source[<see cref="StridedLayout.SourceIndex"/>(i)], over the whole storage of the source.</summary>
    internal static void StridedCopyKernel<T>(Index1D i, ArrayView<T> source, ArrayView<T> destination, StridedLayout layout)
        where T : unmanaged
        => destination[i] = source[StridedLayout.SourceIndex(layout, (int)i)];
}
