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

    /// <summary>
    /// y (+)= x with axes a and b swapped, x [outer, a, mid, b, inner]: for each (outer, mid) an [a, b] matrix of inner-long
    /// runs is transposed in 32 x 32 tiles (rows of x read in order, runs of y written in cache-sized blocks), the pairs
    /// split over the cores.
    /// </summary>
    protected override void SwapAxesCore(Tensor x, Tensor y, int outer, int a, int mid, int b, int inner, bool accumulate)
    {
        var job = new SwapAxesJob
        {
            X = ((CpuStorage)x.Storage).Floats!, XOffset = x.Offset, Y = ((CpuStorage)y.Storage).Floats!, YOffset = y.Offset,
            A = a, Mid = mid, B = b, Inner = inner, Accumulate = accumulate,
        };
        ParallelRange(outer * mid, Math.Max(1, 16384 / Math.Max(1, a * b * inner)), ref job);
    }

    private struct SwapAxesJob : IRangeJob
    {
        private const int Tile = 32;
        public float[] X, Y;
        public long XOffset, YOffset;
        public int A, Mid, B, Inner;
        public bool Accumulate;

        public readonly void Run(int start, int end)
        {
            int a = A, mid = Mid, b = B, inner = Inner;
            for (int p = start; p < end; p++)
            {
                int o = p / mid, m = p - o * mid;
                // x[o, i, m, j, :] at ((o*a + i)*mid + m)*b + j; y[o, j, m, i, :] at ((o*b + j)*mid + m)*a + i (times inner).
                long xBase = XOffset + ((long)o * a * mid + m) * b * inner, xRow = (long)mid * b * inner;
                long yBase = YOffset + ((long)o * b * mid + m) * a * inner, yRow = (long)mid * a * inner;
                for (int i0 = 0; i0 < a; i0 += Tile)
                {
                    int i1 = Math.Min(a, i0 + Tile);
                    for (int j0 = 0; j0 < b; j0 += Tile)
                    {
                        int j1 = Math.Min(b, j0 + Tile);
                        if (inner == 1)
                        {
                            // Embeddings into Conv1d: [T, D] -> [D, T], one float per run.
                            for (int i = i0; i < i1; i++)
                            {
                                long from = xBase + i * xRow;
                                for (int j = j0; j < j1; j++)
                                {
                                    long to = yBase + j * yRow + i;
                                    Y[to] = Accumulate ? Y[to] + X[from + j] : X[from + j];
                                }
                            }
                            continue;
                        }
                        for (int i = i0; i < i1; i++)
                        {
                            for (int j = j0; j < j1; j++)
                            {
                                var source = X.AsSpan((int)(xBase + i * xRow + (long)j * inner), inner);
                                var target = Y.AsSpan((int)(yBase + j * yRow + (long)i * inner), inner);
                                if (Accumulate)
                                {
                                    System.Numerics.Tensors.TensorPrimitives.Add(target, source, target);
                                }
                                else
                                {
                                    source.CopyTo(target);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
