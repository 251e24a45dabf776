using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu;

// Broadcasting element-wise operations and the scatter into a strided view. The output is walked one innermost run of
// the joint layout at a time; a run whose operands have stride 1 (or 0, a broadcast scalar) is one TensorPrimitives call.
public sealed partial class CpuDevice
{
    protected override void BroadcastCore(BinaryOp op, Tensor a, Tensor b, in BroadcastLayout layout, Tensor y)
    {
        var job = new BroadcastJob(op, ((CpuStorage)a.Storage).Floats!, ((CpuStorage)b.Storage).Floats!, layout, ((CpuStorage)y.Storage).Floats!, y.Offset);
        int runs = checked((int)(y.Length / layout.D5));
        ParallelRange(runs, Math.Max(1, 16384 / layout.D5), ref job);
    }

    private readonly struct BroadcastJob(BinaryOp op, float[] a, float[] b, BroadcastLayout layout, float[] y, long yOffset) : IRangeJob
    {
        public void Run(int start, int end)
        {
            int inner = layout.D5;
            for (int r = start; r < end; r++)
            {
                long i = (long)r * inner;
                long ia = BroadcastLayout.IndexA(layout, i), ib = BroadcastLayout.IndexB(layout, i);
                var to = y.AsSpan((int)(yOffset + i), inner);
                if (layout.A5 == 1 && layout.B5 == 1)
                {
                    Spans(op, a.AsSpan((int)ia, inner), b.AsSpan((int)ib, inner), to);
                }
                else if (layout.A5 == 1 && layout.B5 == 0)
                {
                    SpanScalar(op, a.AsSpan((int)ia, inner), b[ib], to);
                }
                else if (layout.A5 == 0 && layout.B5 == 1)
                {
                    ScalarSpan(op, a[ia], b.AsSpan((int)ib, inner), to);
                }
                else
                {
                    for (int j = 0; j < inner; j++)
                    {
                        to[j] = BroadcastMath.Apply(op, a[ia + j * layout.A5], b[ib + j * layout.B5]);
                    }
                }
            }
        }
    }

    private static void Spans(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), $"Unknown element-wise operation {op}.");
        }
    }

    private static void SpanScalar(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), $"Unknown element-wise operation {op}.");
        }
    }

    private static void ScalarSpan(BinaryOp op, float a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(b, a, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(b, a, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), $"Unknown element-wise operation {op}.");
        }
    }

    protected override void CopyToStridedCore(Tensor source, in StridedLayout layout, Tensor destination)
    {
        var storage = (CpuStorage)destination.Storage;
        switch (source.DType)
        {
            case DType.Float32:
                Scatter<float>(F(source, nameof(CopyToStrided)), layout, storage.Floats!);
                break;
            case DType.Int64:
                Scatter<long>(L(source, nameof(CopyToStrided)), layout, storage.Longs!);
                break;
            case DType.Int32:
                Scatter<int>(I(source, nameof(CopyToStrided)), layout, storage.Ints!);
                break;
            default:
                throw new NotSupportedException($"{nameof(CopyToStrided)}: no strided copy for {source.DType}.");
        }
    }

    private static void Scatter<T>(ReadOnlySpan<T> source, in StridedLayout layout, T[] destination)
    {
        int inner = layout.Inner;
        long innerStride = layout.S5;
        for (int start = 0; start < source.Length; start += inner)
        {
            long at = StridedLayout.SourceIndex(layout, start);
            var from = source.Slice(start, inner);
            if (innerStride == 1)
            {
                from.CopyTo(destination.AsSpan((int)at, inner));
            }
            else
            {
                for (int j = 0; j < inner; j++)
                {
                    destination[at + j * innerStride] = from[j];
                }
            }
        }
    }
}
