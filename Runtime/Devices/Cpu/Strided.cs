namespace Dsl.Devices.Cpu;

// The gather behind Tensor.Contiguous() and SwapAxes: walks the destination in row-major order one innermost run at a
// time, the source index of each run advanced like an odometer (no divisions per element or per run). Size-1 dimensions
// are dropped and dimensions that continue each other merged first, so a transpose's run is its whole innermost axis
// (SwapAxes hands over layouts with size-1 runs). A run whose source stride is 1 is one span copy; any other run is a
// strided loop.
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
        if (destination.IsEmpty)
        {
            return;
        }
        Span<int> dims = stackalloc int[StridedLayout.MaxRank];
        Span<long> strides = stackalloc long[StridedLayout.MaxRank];
        ReadOnlySpan<int> allDims = [layout.D0, layout.D1, layout.D2, layout.D3, layout.D4, layout.D5];
        ReadOnlySpan<long> allStrides = [layout.S0, layout.S1, layout.S2, layout.S3, layout.S4, layout.S5];
        int rank = 0;
        for (int i = 0; i < StridedLayout.MaxRank; i++)
        {
            int size = allDims[i];
            if (size == 1)
            {
                continue;
            }
            if (rank > 0 && strides[rank - 1] == allStrides[i] * size)
            {
                dims[rank - 1] *= size;
                strides[rank - 1] = allStrides[i];
                continue;
            }
            dims[rank] = size;
            strides[rank] = allStrides[i];
            rank++;
        }
        long at = layout.Offset;
        if (rank == 0)
        {
            destination[0] = source[at];
            return;
        }
        int inner = dims[rank - 1];
        long innerStride = strides[rank - 1];
        Span<int> index = stackalloc int[StridedLayout.MaxRank];
        index.Clear();
        for (int start = 0; start < destination.Length; start += inner)
        {
            var to = destination.Slice(start, inner);
            if (innerStride == 1)
            {
                source.AsSpan((int)at, inner).CopyTo(to);
            }
            else
            {
                var from = source.AsSpan((int)at, (int)((inner - 1) * innerStride + 1));
                for (int j = 0; j < to.Length; j++)
                {
                    to[j] = from[(int)(j * innerStride)];
                }
            }
            // Advance the odometer over the outer dimensions.
            for (int d = rank - 2; d >= 0; d--)
            {
                at += strides[d];
                if (++index[d] < dims[d])
                {
                    break;
                }
                at -= strides[d] * dims[d];
                index[d] = 0;
            }
        }
    }
}
