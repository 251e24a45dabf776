namespace Dsl;

/// <summary>The reductions of <see cref="Device.Reduce"/>.</summary>
public enum ReduceOp
{
    Sum,
    Mean,
    /// <summary>The largest value and, when indices are asked for, the position of its first occurrence (NaN counts as largest, as in PyTorch).</summary>
    Max,
}

/// <summary>
/// The kernels behind the eager tensor operations (<c>Tensor.Ops.cs</c>): element-wise operations with broadcasting over
/// strided operands, a copy into a strided view, GEMM over broadcast batch dimensions, and reductions along a dimension.
/// Validated here once for both devices.
/// </summary>
public abstract partial class Device
{
    // ------------------------------------------------------------------ broadcasting element-wise (Broadcast.cs)

    /// <summary>
    /// y = a (op) b with PyTorch's broadcasting: <paramref name="a"/> and <paramref name="b"/> may be any strided views
    /// (transposes, slices, stride-0 expansions) whose shapes broadcast to <paramref name="y"/>'s, which must be contiguous.
    /// A mismatch names both shapes and the rule (<see cref="BroadcastMath.Shape"/>).
    /// </summary>
    public void Broadcast(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        const string name = nameof(Broadcast);
        BroadcastMath.Require(op, name);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        OnThisDevice(a, name, "a");
        OnThisDevice(b, name, "b");
        RequireFloat(a, name, "a");
        RequireFloat(b, name, "b");
        Operand(y, name, "y", DType.Float32);
        if (!BroadcastMath.IsShapeOf(y.Dims, a.Dims, b.Dims))
        {
            // Only the failing path builds the shape (and the message): a training step's call allocates nothing.
            var shape = BroadcastMath.Shape(a.Dims, b.Dims, name);
            throw new ArgumentException($"{name}: the result of {Tensor.FormatShape(a.Dims)} and {Tensor.FormatShape(b.Dims)} is {Tensor.FormatShape(shape)}, but y is {Tensor.FormatShape(y.Dims)}.");
        }
        if (y.Length == 0)
        {
            return;
        }
        BroadcastCore(op, a, b, BroadcastLayout.From(a, b, y.Dims, name), y);
    }

    /// <summary>
    /// destination = source where <paramref name="destination"/> may be any strided view whose elements do not overlap
    /// (a slice of a larger tensor: <c>Cat</c> writes each part this way) and <paramref name="source"/> is contiguous
    /// with the same shape: the scatter that is the reverse of <see cref="CopyStrided"/>.
    /// </summary>
    public void CopyToStrided(Tensor source, Tensor destination)
    {
        const string op = nameof(CopyToStrided);
        ArgumentNullException.ThrowIfNull(destination);
        Operand(source, op, "source", source.DType);
        OnThisDevice(destination, op, "destination");
        if (destination.DType != source.DType)
        {
            throw new ArgumentException($"{op}: source {source} and destination {destination} differ in element type.");
        }
        SameShape(source, destination, op, "source", "destination");
        for (int i = 0; i < destination.Rank; i++)
        {
            if (destination.Dims[i] > 1 && destination.StrideSpan[i] == 0)
            {
                throw new ArgumentException($"{op}: destination {destination} repeats elements (stride 0 in dimension {i}); it cannot be written.");
            }
        }
        if (source.Length == 0)
        {
            return;
        }
        CopyToStridedCore(source, StridedLayout.From(destination, op), destination);
    }

    protected abstract void BroadcastCore(BinaryOp op, Tensor a, Tensor b, in BroadcastLayout layout, Tensor y);

    /// <summary>Scatters contiguous <paramref name="source"/> into the storage of <paramref name="destination"/> described by <paramref name="layout"/>.</summary>
    protected abstract void CopyToStridedCore(Tensor source, in StridedLayout layout, Tensor destination);

    // ------------------------------------------------------------------ batched matrix product

    /// <summary>
    /// c[..., m, n] = alpha * op(a)[..., m, k] * op(b)[..., k, n] for every index of the batch dimensions, which broadcast as
    /// in <c>torch.matmul</c> (compared from the right: equal, 1 or missing); op(a) is a[..., m, k] or, when
    /// <paramref name="transA"/>, a[..., k, m] transposed, and likewise for b. Operands are contiguous; a batch that is
    /// broadcast is read in place, not copied. Each batch is one <see cref="Gemm"/> of the backend.
    /// </summary>
    public void BatchedMatMul(bool transA, bool transB, Tensor a, Tensor b, Tensor c, float alpha = 1f)
    {
        const string op = nameof(BatchedMatMul);
        Operand(a, op, "a", DType.Float32);
        Operand(b, op, "b", DType.Float32);
        Operand(c, op, "c", DType.Float32);
        if (a.Rank < 2 || b.Rank < 2)
        {
            throw new ArgumentException($"{op}: needs matrices or batches of them, got {Tensor.FormatShape(a.Dims)} and {Tensor.FormatShape(b.Dims)}.");
        }
        int m = transA ? a.Dims[^1] : a.Dims[^2], k = transA ? a.Dims[^2] : a.Dims[^1];
        int kb = transB ? b.Dims[^1] : b.Dims[^2], n = transB ? b.Dims[^2] : b.Dims[^1];
        if (k != kb)
        {
            throw new ArgumentException(
                $"{op}: {Tensor.FormatShape(a.Dims)}{(transA ? "^T" : "")} and {Tensor.FormatShape(b.Dims)}{(transB ? "^T" : "")} cannot be multiplied: "
                + $"the first has {k} columns but the second {kb} rows (the inner dimensions must be equal).");
        }
        ReadOnlySpan<int> batchA = a.Dims[..^2], batchB = b.Dims[..^2];
        // Checked without allocating (a training step calls this every batch); only the error path builds shapes.
        if (c.Rank < 2 || c.Dims[^2] != m || c.Dims[^1] != n || !BroadcastMath.IsShapeOf(c.Dims[..^2], batchA, batchB))
        {
            var batch = BroadcastMath.Shape(batchA, batchB, op);
            var expected = new int[batch.Length + 2];
            batch.CopyTo(expected, 0);
            expected[^2] = m;
            expected[^1] = n;
            throw new ArgumentException($"{op}: the product of {Tensor.FormatShape(a.Dims)} and {Tensor.FormatShape(b.Dims)} is {Tensor.FormatShape(expected)}, but c is {Tensor.FormatShape(c.Dims)}.");
        }
        if (c.Length == 0)
        {
            return;
        }
        MatMulBatches(transA, transB, m, n, k, alpha, a, batchA, b, batchB, c, c.Dims[..^2]);
    }

    /// <summary>
    /// The loop of <see cref="BatchedMatMul"/> on checked operands: one GEMM per index of <paramref name="batchC"/>, the
    /// batches of a and b right-aligned to it (a size-1 or missing dimension read at 0). Allocates nothing.
    /// </summary>
    private void MatMulBatches(bool transA, bool transB, int m, int n, int k, float alpha,
        Tensor a, ReadOnlySpan<int> batchA, Tensor b, ReadOnlySpan<int> batchB, Tensor c, ReadOnlySpan<int> batchC)
    {
        if (k == 0)
        {
            FillCore(c, 0f);
            return;
        }
        long count = 1;
        foreach (int d in batchC)
        {
            count *= d;
        }
        long sizeA = (long)m * k, sizeB = (long)k * n, sizeC = (long)m * n;
        // An operand whose batch is c's or absent (all 1s) steps by a constant: one strided-batched GEMM.
        bool fullA = batchA.SequenceEqual(batchC), fullB = batchB.SequenceEqual(batchC);
        if ((fullA || AllOnes(batchA)) && (fullB || AllOnes(batchB)))
        {
            GemmStridedCore(transA, transB, m, n, k, alpha, a, fullA ? sizeA : 0, b, fullB ? sizeB : 0, c, count);
            return;
        }
        Span<int> index = stackalloc int[batchC.Length];
        for (long i = 0; i < count; i++)
        {
            // The batch offsets of a and b: a batch dimension of size 1 (or missing) stays at 0.
            long ia = 0, ib = 0, ra = 1, rb = 1;
            for (int d = batchC.Length - 1; d >= 0; d--)
            {
                int j = d - (batchC.Length - batchA.Length);
                if (j >= 0)
                {
                    int size = batchA[j];
                    ia += (size == 1 ? 0 : index[d]) * ra;
                    ra *= size;
                }
                j = d - (batchC.Length - batchB.Length);
                if (j >= 0)
                {
                    int size = batchB[j];
                    ib += (size == 1 ? 0 : index[d]) * rb;
                    rb *= size;
                }
            }
            GemmAtCore(transA, transB, m, n, k, alpha, a, ia * sizeA, b, ib * sizeB, c, i * sizeC);
            for (int d = batchC.Length - 1; d >= 0; d--)
            {
                if (++index[d] < batchC[d])
                {
                    break;
                }
                index[d] = 0;
            }
        }
    }

    private static bool AllOnes(ReadOnlySpan<int> dims)
    {
        foreach (int d in dims)
        {
            if (d != 1)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// <paramref name="count"/> products C_i = alpha op(A_i) op(B_i), A_i starting i * <paramref name="strideA"/> elements
    /// into a (0: every product reads the same matrix), likewise B_i, and C_i at i * m * n. One <see cref="GemmAtCore"/>
    /// per product unless a backend launches them together.
    /// </summary>
    protected virtual void GemmStridedCore(bool transA, bool transB, int m, int n, int k, float alpha,
        Tensor a, long strideA, Tensor b, long strideB, Tensor c, long count)
    {
        for (long i = 0; i < count; i++)
        {
            GemmAtCore(transA, transB, m, n, k, alpha, a, i * strideA, b, i * strideB, c, i * m * n);
        }
    }

    /// <summary>
    /// C = alpha op(A) op(B) on the matrices that start <paramref name="offsetA"/>, <paramref name="offsetB"/> and
    /// <paramref name="offsetC"/> elements into the contiguous tensors (one entry of a batch): no view is made, so a
    /// batched product allocates nothing.
    /// </summary>
    protected abstract void GemmAtCore(bool transA, bool transB, int m, int n, int k, float alpha,
        Tensor a, long offsetA, Tensor b, long offsetB, Tensor c, long offsetC);

    // ------------------------------------------------------------------ reductions along a dimension (TensorReduce.cs)

    /// <summary>
    /// Reduces contiguous <paramref name="x"/> along dimension <paramref name="dim"/>: <paramref name="values"/> holds one
    /// result per position of the other dimensions (in order), and for <see cref="ReduceOp.Max"/> an optional int64
    /// <paramref name="indices"/> the position of the first maximum along the dimension. Sum of nothing is 0, mean NaN,
    /// and a maximum of nothing is an error, as in PyTorch.
    /// </summary>
    public void Reduce(ReduceOp op, Tensor x, int dim, Tensor values, Tensor? indices)
    {
        const string name = nameof(Reduce);
        if (op is not (ReduceOp.Sum or ReduceOp.Mean or ReduceOp.Max))
        {
            throw new ArgumentOutOfRangeException(nameof(op), $"{nameof(Reduce)}: unknown reduction {(int)op}.");
        }
        Operand(x, name, "x", DType.Float32);
        Operand(values, name, "values", DType.Float32);
        if (x.Rank == 0)
        {
            throw new ArgumentException($"{name}: a scalar has no dimension to reduce; view it as [1].");
        }
        int d = Tensor.NormalizeDim(dim, x.Rank);
        int size = x.Dims[d];
        long outer = 1, inner = 1;
        for (int i = 0; i < d; i++)
        {
            outer *= x.Dims[i];
        }
        for (int i = d + 1; i < x.Rank; i++)
        {
            inner *= x.Dims[i];
        }
        Expect(values, outer * inner, name, "values", [checked((int)outer), checked((int)inner)]);
        if (indices is not null)
        {
            if (op != ReduceOp.Max)
            {
                throw new ArgumentException($"{name}: only Max returns indices.");
            }
            Operand(indices, name, "indices", DType.Int64);
            SameLength(values, indices, name);
        }
        if (values.Length == 0)
        {
            return;
        }
        if (size == 0)
        {
            if (op == ReduceOp.Max)
            {
                throw new ArgumentException($"{name}: dimension {d} of {Tensor.FormatShape(x.Dims)} is empty, and the maximum of no elements is undefined.");
            }
            FillCore(values, op == ReduceOp.Sum ? 0f : float.NaN);
            return;
        }
        ReduceCore(op, x, checked((int)outer), size, checked((int)inner), values, indices);
    }

    /// <summary>Reduces x seen as [outer, size, inner] along its middle dimension (size at least 1).</summary>
    protected abstract void ReduceCore(ReduceOp op, Tensor x, int outer, int size, int inner, Tensor values, Tensor? indices);

    private static void RequireFloat(Tensor t, string op, string what)
    {
        if (t.DType != DType.Float32)
        {
            throw new ArgumentException($"{op}: {what} needs a {DType.Float32} tensor, got {t}.");
        }
    }
}
