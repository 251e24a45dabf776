using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu;

// Reductions along one dimension of x seen as [outer, size, inner]. With inner 1 each output is one TensorPrimitives
// reduction of a contiguous row; otherwise rows of `inner` values are combined element-wise, so both stay vectorised.
public sealed partial class CpuDevice
{
    protected override void ReduceCore(ReduceOp op, Tensor x, int outer, int size, int inner, Tensor values, Tensor? indices)
    {
        var xs = F(x, nameof(Reduce));
        var v = F(values, nameof(Reduce));
        var ix = indices is null ? default : L(indices, nameof(Reduce));
        for (int o = 0; o < outer; o++)
        {
            var block = xs.Slice(o * size * inner, size * inner);
            var to = v.Slice(o * inner, inner);
            if (op == ReduceOp.Max)
            {
                var at = indices is null ? default : ix.Slice(o * inner, inner);
                MaxAlong(block, size, inner, to, at, indices is not null);
                continue;
            }
            if (inner == 1)
            {
                to[0] = TensorPrimitives.Sum(block);
            }
            else
            {
                block[..inner].CopyTo(to);
                for (int s = 1; s < size; s++)
                {
                    TensorPrimitives.Add(to, block.Slice(s * inner, inner), to);
                }
            }
            if (op == ReduceOp.Mean)
            {
                TensorPrimitives.Divide(to, size, to);
            }
            else if (op != ReduceOp.Sum)
            {
                throw new ArgumentOutOfRangeException(nameof(op), $"Unknown reduction {op}.");
            }
        }
    }

    /// <summary>The maximum of each column of block [size, inner] and the row of its first occurrence; NaN wins, as in PyTorch.</summary>
    private static void MaxAlong(ReadOnlySpan<float> block, int size, int inner, Span<float> to, Span<long> at, bool withIndices)
    {
        for (int i = 0; i < inner; i++)
        {
            float best = block[i];
            long where = 0;
            for (int s = 1; s < size && !float.IsNaN(best); s++)
            {
                float value = block[s * inner + i];
                if (value > best || float.IsNaN(value))
                {
                    best = value;
                    where = s;
                }
            }
            to[i] = best;
            if (withIndices)
            {
                at[i] = where;
            }
        }
    }
}
