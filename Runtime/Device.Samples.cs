namespace Dsl;

/// <summary>
/// The kernels behind the DSL's tensor operations on network values (<c>MatMul</c>, broadcasting <c>+ - * /</c>,
/// <c>Permute</c>, <c>MaskedFill</c> and the gradients that sum over broadcast dimensions). A network value is
/// [N, per-sample dims...]: the batch N is first in every operand (or 1 for a constant shared by the batch), and the
/// per-sample dimensions broadcast as in PyTorch, compared from the right (equal, 1 or missing). Layouts are computed on
/// the stack from the tensors' sizes, so no call makes a view or allocates: a training step stays allocation-free.
/// </summary>
public abstract partial class Device
{
    private const int MaxSampleRank = 8;

    /// <summary>
    /// y = a (op) b per sample: <paramref name="a"/> [N or 1, ...] and <paramref name="b"/> [N or 1, ...] broadcast to
    /// <paramref name="y"/> [N, ...] with their per-sample dimensions right-aligned (a constant operand is a [1] tensor).
    /// </summary>
    public void BroadcastSamples(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        const string name = nameof(BroadcastSamples);
        BroadcastMath.Require(op, name);
        Operand(a, name, "a", DType.Float32);
        Operand(b, name, "b", DType.Float32);
        Operand(y, name, "y", DType.Float32);
        int rank = y.Rank;
        Span<long> sa = stackalloc long[rank];
        Span<long> sb = stackalloc long[rank];
        AlignSample(a, y.Dims, sa, name, "a");
        AlignSample(b, y.Dims, sb, name, "b");
        if (y.Length == 0)
        {
            return;
        }
        BroadcastCore(op, a, b, BroadcastLayout.From(a.Offset, sa, b.Offset, sb, y.Dims, name), y);
    }

    /// <summary>
    /// y (+)= alpha * x summed over the dimensions where <paramref name="y"/> is broadcast: x [N, ...] and y [N, ...] with
    /// y's per-sample dimensions right-aligned to x's, each equal to x's or 1 (or missing). The gradient of an operand that
    /// was broadcast; without broadcast dimensions, a scaled copy.
    /// </summary>
    public void SumToSamples(Tensor x, Tensor y, float alpha, bool accumulate)
    {
        const string name = nameof(SumToSamples);
        Operand(x, name, "x", DType.Float32);
        Operand(y, name, "y", DType.Float32);
        Span<int> shape = stackalloc int[x.Rank];
        AlignedShape(y, x.Dims, shape, name, "y");
        SumTo(x, x.Dims, y, shape, alpha, accumulate, name);
    }

    /// <summary>
    /// c = a @ b per sample with <c>torch.matmul</c>'s rules on the per-sample dimensions: a vector [k] is a row [1, k] on
    /// the left and a column [k, 1] on the right (its dimension dropped from the result), matrices multiply, and the
    /// dimensions before the last two broadcast. A vector times a vector gives [N, 1].
    /// </summary>
    public void MatMulSamples(Tensor a, Tensor b, Tensor c)
    {
        const string name = nameof(MatMulSamples);
        Operand(a, name, "a", DType.Float32);
        Operand(b, name, "b", DType.Float32);
        Operand(c, name, "c", DType.Float32);
        var g = MatMulGeometry.Of(a, b, name);
        Span<int> ba = stackalloc int[g.BatchRank], bb = stackalloc int[g.BatchRank], bc = stackalloc int[g.BatchRank];
        g.Batches(a, b, ba, bb, bc, name);
        long count = Product(bc);
        if (c.Length != count * g.M * g.N)
        {
            throw new ArgumentException($"{name}: the product of {Tensor.FormatShape(a.Dims)} and {Tensor.FormatShape(b.Dims)} has {count * g.M * g.N} elements, but c is {Tensor.FormatShape(c.Dims)}.");
        }
        MatMulBatches(false, false, g.M, g.N, g.K, 1f, a, ba, b, bb, c, bc);
    }

    /// <summary>
    /// The gradients of <see cref="MatMulSamples"/>: da (+)= dc @ b^T and db (+)= a^T @ dc, each summed over the batch
    /// dimensions its operand was broadcast along. <paramref name="scratchA"/> and <paramref name="scratchB"/> hold the
    /// unreduced products (as many elements as the broadcast batch times the operand's matrix); a null gradient is skipped.
    /// </summary>
    public void MatMulSamplesBackward(Tensor a, Tensor b, Tensor dc, Tensor? da, Tensor? scratchA, bool accumulateA, Tensor? db, Tensor? scratchB, bool accumulateB)
    {
        const string name = nameof(MatMulSamplesBackward);
        Operand(a, name, "a", DType.Float32);
        Operand(b, name, "b", DType.Float32);
        Operand(dc, name, "dc", DType.Float32);
        var g = MatMulGeometry.Of(a, b, name);
        int r = g.BatchRank;
        Span<int> ba = stackalloc int[r], bb = stackalloc int[r], bc = stackalloc int[r];
        g.Batches(a, b, ba, bb, bc, name);
        long count = Product(bc);
        if (dc.Length != count * g.M * g.N)
        {
            throw new ArgumentException($"{name}: dc {Tensor.FormatShape(dc.Dims)} is not the size of the product of {Tensor.FormatShape(a.Dims)} and {Tensor.FormatShape(b.Dims)}.");
        }
        Span<int> full = stackalloc int[r + 2];
        Span<int> target = stackalloc int[r + 2];
        bc.CopyTo(full);
        if (da is not null)
        {
            Operand(da, name, "da", DType.Float32);
            SameShape(a, da, name, "a", "da");
            var s = scratchA ?? throw new ArgumentNullException(nameof(scratchA));
            Operand(s, name, "scratchA", DType.Float32);
            RequireLength(s, count * g.M * g.K, name, "scratchA");
            // dA [m, k] = dC [m, n] @ B^T, B being [k, n].
            MatMulBatches(false, true, g.M, g.K, g.N, 1f, dc, bc, b, bb, s, bc);
            full[r] = g.M;
            full[r + 1] = g.K;
            ba.CopyTo(target);
            target[r] = g.M;
            target[r + 1] = g.K;
            SumTo(s, full, da, target, 1f, accumulateA, name);
        }
        if (db is not null)
        {
            Operand(db, name, "db", DType.Float32);
            SameShape(b, db, name, "b", "db");
            var s = scratchB ?? throw new ArgumentNullException(nameof(scratchB));
            Operand(s, name, "scratchB", DType.Float32);
            RequireLength(s, count * g.K * g.N, name, "scratchB");
            if (g.VectorB)
            {
                // b is a column [k, 1]: its gradient is held as the row dC^T @ A ([1, m] @ [m, k]), the order of b's elements.
                MatMulBatches(true, false, 1, g.K, g.M, 1f, dc, bc, a, ba, s, bc);
            }
            else
            {
                // dB [k, n] = A^T @ dC, A being [m, k].
                MatMulBatches(true, false, g.K, g.N, g.M, 1f, a, ba, dc, bc, s, bc);
            }
            full[r] = g.VectorB ? 1 : g.K;
            full[r + 1] = g.VectorB ? g.K : g.N;
            bb.CopyTo(target);
            target[r] = full[r];
            target[r + 1] = full[r + 1];
            SumTo(s, full, db, target, 1f, accumulateB, name);
        }
    }

    /// <summary>
    /// y (+)= x with its per-sample dimensions permuted: y's per-sample dimension i is x's <paramref name="perm"/>[i] (the
    /// batch stays first). The inverse permutation moves the gradient back.
    /// </summary>
    public void PermuteSamples(Tensor x, ReadOnlySpan<int> perm, Tensor y, bool accumulate)
    {
        const string name = nameof(PermuteSamples);
        Operand(x, name, "x", x.DType);
        Operand(y, name, "y", x.DType);
        int rank = x.Rank;
        if (perm.Length != rank - 1 || y.Rank != rank)
        {
            throw new ArgumentException($"{name}: a permutation of {rank - 1} per-sample dimensions maps {Tensor.FormatShape(x.Dims)} to a tensor of the same rank, got {perm.Length} entries and y {Tensor.FormatShape(y.Dims)}.");
        }
        Span<long> contiguous = stackalloc long[rank];
        Span<long> strides = stackalloc long[rank];
        Span<bool> seen = stackalloc bool[rank];
        long stride = 1;
        for (int i = rank - 1; i >= 0; i--)
        {
            contiguous[i] = stride;
            stride *= x.Dims[i];
        }
        strides[0] = contiguous[0];
        if (y.Dims[0] != x.Dims[0])
        {
            throw new ArgumentException($"{name}: x {Tensor.FormatShape(x.Dims)} and y {Tensor.FormatShape(y.Dims)} differ in batch.");
        }
        for (int i = 0; i < perm.Length; i++)
        {
            int p = perm[i];
            if (p < 0 || p >= rank - 1 || seen[p + 1] || y.Dims[i + 1] != x.Dims[p + 1])
            {
                throw new ArgumentException($"{name}: ({string.Join(", ", perm.ToArray())}) does not permute {Tensor.FormatShape(x.Dims)} into {Tensor.FormatShape(y.Dims)}.");
            }
            seen[p + 1] = true;
            strides[i + 1] = contiguous[p + 1];
        }
        if (y.Length == 0)
        {
            return;
        }
        if (accumulate)
        {
            RequireFloat(x, name, "x");
            Span<long> own = stackalloc long[rank];
            stride = 1;
            for (int i = rank - 1; i >= 0; i--)
            {
                own[i] = stride;
                stride *= y.Dims[i];
            }
            BroadcastCore(BinaryOp.Add, y, x, BroadcastLayout.From(y.Offset, own, x.Offset, strides, y.Dims, name), y);
            return;
        }
        CopyStridedCore(x, StridedLayout.From(x.Offset, y.Dims, strides, name), y);
    }

    /// <summary>
    /// y (+)= x where the mask is 0 and <paramref name="value"/> where it is not (PyTorch's <c>masked_fill</c>):
    /// <paramref name="mask"/> [N or 1, ...] broadcasts per sample to x and y [N, ...]. The gradient is the same call on dy
    /// with value 0.
    /// </summary>
    public void MaskedFill(Tensor x, Tensor mask, float value, Tensor y, bool accumulate)
    {
        const string name = nameof(MaskedFill);
        Operand(x, name, "x", DType.Float32);
        Operand(mask, name, "mask", DType.Float32);
        Operand(y, name, "y", DType.Float32);
        SameShape(x, y, name, "x", "y");
        int rank = y.Rank;
        Span<long> sx = stackalloc long[rank];
        Span<long> sm = stackalloc long[rank];
        AlignSample(x, y.Dims, sx, name, "x");
        AlignSample(mask, y.Dims, sm, name, "mask");
        if (y.Length == 0)
        {
            return;
        }
        MaskedFillCore(x, mask, BroadcastLayout.From(x.Offset, sx, mask.Offset, sm, y.Dims, name), value, y, accumulate);
    }

    /// <summary>y[i] = (accumulate ? y[i] : 0) + (mask[B(i)] != 0 ? value : x[A(i)]) over contiguous y.</summary>
    protected abstract void MaskedFillCore(Tensor x, Tensor mask, in BroadcastLayout layout, float value, Tensor y, bool accumulate);

    /// <summary>
    /// y[i] = (accumulate ? y[i] : 0) + alpha * sum over r &lt; <paramref name="reduce"/> of x[layout(i * reduce + r)]: the layout
    /// lists y's dimensions first and the summed ones last.
    /// </summary>
    protected abstract void SumToCore(Tensor x, in StridedLayout layout, int reduce, Tensor y, float alpha, bool accumulate);

    /// <summary>y (+)= alpha * x summed to <paramref name="target"/> (x's rank, each size x's or 1), both contiguous.</summary>
    private void SumTo(Tensor x, ReadOnlySpan<int> shape, Tensor y, ReadOnlySpan<int> target, float alpha, bool accumulate, string name)
    {
        int rank = shape.Length;
        Span<int> dims = stackalloc int[rank];
        Span<long> strides = stackalloc long[rank];
        Span<long> contiguous = stackalloc long[rank];
        long stride = 1;
        for (int i = rank - 1; i >= 0; i--)
        {
            contiguous[i] = stride;
            stride *= shape[i];
        }
        if (stride > x.Length)
        {
            throw new ArgumentException($"{name}: x {Tensor.FormatShape(x.Dims)} is smaller than {Tensor.FormatShape(shape)}.");
        }
        int kept = 0;
        long outCount = 1, reduce = 1;
        for (int i = 0; i < rank; i++)
        {
            if (target[i] == shape[i])
            {
                dims[kept] = shape[i];
                strides[kept] = contiguous[i];
                outCount *= shape[i];
                kept++;
            }
            else if (target[i] != 1)
            {
                throw new ArgumentException($"{name}: {Tensor.FormatShape(target)} is not {Tensor.FormatShape(shape)} summed over some dimensions.");
            }
        }
        int at = kept;
        for (int i = 0; i < rank; i++)
        {
            if (target[i] != shape[i])
            {
                dims[at] = shape[i];
                strides[at] = contiguous[i];
                reduce *= shape[i];
                at++;
            }
        }
        if (y.Length != outCount)
        {
            throw new ArgumentException($"{name}: y {Tensor.FormatShape(y.Dims)} should hold {outCount} elements ({Tensor.FormatShape(target)}).");
        }
        if (outCount == 0)
        {
            return;
        }
        if (reduce == 0)
        {
            if (!accumulate)
            {
                FillCore(y, 0f);
            }
            return;
        }
        SumToCore(x, StridedLayout.From(x.Offset, dims, strides, name), checked((int)reduce), y, alpha, accumulate);
    }

    /// <summary>
    /// The strides of <paramref name="t"/> [N or 1, ...] seen with <paramref name="shape"/> [N, ...]: the batch first, the
    /// per-sample dimensions right-aligned, 0 where t is broadcast; throws naming both shapes and the rule otherwise.
    /// </summary>
    private static void AlignSample(Tensor t, ReadOnlySpan<int> shape, Span<long> strides, string op, string what)
    {
        Span<int> aligned = stackalloc int[shape.Length];
        AlignedShape(t, shape, aligned, op, what);
        long stride = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = aligned[i] == 1 ? 0 : stride;
            stride *= aligned[i];
        }
    }

    /// <summary><paramref name="t"/>'s sizes aligned to <paramref name="shape"/> as <see cref="AlignSample"/> describes.</summary>
    private static void AlignedShape(Tensor t, ReadOnlySpan<int> shape, Span<int> aligned, string op, string what)
    {
        int rank = shape.Length, own = t.Rank;
        bool fits = own >= 1 && own <= rank && (t.Dims[0] == shape[0] || t.Dims[0] == 1);
        aligned[0] = fits ? t.Dims[0] : 1;
        for (int i = 1; fits && i < rank; i++)
        {
            int j = i - (rank - own);
            int size = j < 1 ? 1 : t.Dims[j];
            fits = size == shape[i] || size == 1;
            aligned[i] = size;
        }
        if (!fits)
        {
            throw new ArgumentException(
                $"{op}: {what} {Tensor.FormatShape(t.Dims)} does not broadcast to {Tensor.FormatShape(shape)}: the batch must be equal (or 1) and the "
                + "other dimensions, compared from the right, equal, 1 or missing.");
        }
    }

    private static long Product(ReadOnlySpan<int> dims)
    {
        long p = 1;
        foreach (int d in dims)
        {
            p *= d;
        }
        return p;
    }

    /// <summary>The matrices of a per-sample product: m x k times k x n, with the per-sample batch dimensions before them.</summary>
    private readonly record struct MatMulGeometry(int M, int N, int K, bool VectorA, bool VectorB, int BatchRank)
    {
        public static MatMulGeometry Of(Tensor a, Tensor b, string op)
        {
            int ra = a.Rank - 1, rb = b.Rank - 1;
            if (ra < 1 || rb < 1 || a.Dims[0] != b.Dims[0])
            {
                throw new ArgumentException($"{op}: needs two values [N, ...] with per-sample dimensions and the same batch, got {Tensor.FormatShape(a.Dims)} and {Tensor.FormatShape(b.Dims)}.");
            }
            bool va = ra == 1, vb = rb == 1;
            int m = va ? 1 : a.Dims[^2], k = a.Dims[^1];
            int kb = vb ? b.Dims[^1] : b.Dims[^2], n = vb ? 1 : b.Dims[^1];
            if (k != kb)
            {
                throw new ArgumentException($"{op}: {Tensor.FormatShape(a.Dims)} and {Tensor.FormatShape(b.Dims)} cannot be multiplied: the inner dimensions are {k} and {kb}.");
            }
            int batch = 1 + Math.Max(Math.Max(ra - 2, 0), Math.Max(rb - 2, 0));
            return new MatMulGeometry(m, n, k, va, vb, batch);
        }

        /// <summary>The batch dimensions of a, b and the result, the sample batch first, right-aligned and padded with 1s.</summary>
        public void Batches(Tensor a, Tensor b, Span<int> ba, Span<int> bb, Span<int> bc, string op)
        {
            Fill(a, VectorA ? 1 : 2, ba);
            Fill(b, VectorB ? 1 : 2, bb);
            for (int i = 0; i < BatchRank; i++)
            {
                if (ba[i] != bb[i] && ba[i] != 1 && bb[i] != 1)
                {
                    throw new ArgumentException($"{op}: the batch dimensions of {Tensor.FormatShape(a.Dims)} and {Tensor.FormatShape(b.Dims)} do not broadcast.");
                }
                bc[i] = ba[i] == 1 ? bb[i] : ba[i];
            }
        }

        private void Fill(Tensor t, int matrix, Span<int> batch)
        {
            batch.Fill(1);
            batch[0] = t.Dims[0];
            int own = t.Rank - 1 - matrix;
            for (int j = 0; j < own; j++)
            {
                batch[BatchRank - own + j] = t.Dims[1 + j];
            }
        }
    }
}
