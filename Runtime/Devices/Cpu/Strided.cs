namespace Dsl.Devices.Cpu;

// The gather behind Tensor.Contiguous(): walks the destination in row-major order one innermost run at a time. A run
// whose source stride is 1 is one span copy (vectorised by the runtime); any other run is a strided loop.
public sealed partial class CpuDevice
{
    protected override void CopyStridedCore(Tensor source, in StridedLayout layout, Tensor destination)
    {
        var storage = (CpuStorage)source.Storage;
        switch (source.DType)
        {
            case DType.Float32:
                Gather<float>(storage.Floats!, layout, F(destination, nameof(CopyStrided)));
                break;
            case DType.Int64:
                Gather<long>(storage.Longs!, layout, L(destination, nameof(CopyStrided)));
                break;
            case DType.Int32:
                Gather<int>(storage.Ints!, layout, I(destination, nameof(CopyStrided)));
                break;
            default:
                throw new NotSupportedException($"{nameof(CopyStrided)}: no strided copy for {source.DType}.");
        }
    }

    private static void Gather<T>(T[] source, in StridedLayout layout, Span<T> destination)
    {
        int inner = layout.Inner;
        long innerStride = layout.S5;
        for (int start = 0; start < destination.Length; start += inner)
        {
            // The source index of the run's first element; the rest of the run follows at innerStride.
            long at = StridedLayout.SourceIndex(layout, start);
            var to = destination.Slice(start, inner);
            if (innerStride == 1)
            {
                source.AsSpan((int)at, inner).CopyTo(to);
            }
            else
            {
                for (int j = 0; j < inner; j++)
                {
                    to[j] = source[at + j * innerStride];
                }
            }
        }
    }
}
