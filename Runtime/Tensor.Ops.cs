namespace Dsl;

// Eager tensor operations with PyTorch's semantics, for users' own code and for tests. Every result is a new tensor on
// the operands' device (views where PyTorch returns views: Split, Chunk, Slice, Expand), computed by Device kernels
// that validate their operands once for both backends (Device.Tensor.cs).
public sealed partial class Tensor
{
    // ---------------------------------------------------------------- matrix products

    /// <summary>The dot product of two 1-D tensors of the same length (<c>torch.dot</c>): a 0-dimensional tensor.</summary>
    public static Tensor Dot(Tensor a, Tensor b)
    {
        RequireRanks(a, b, 1, 1, nameof(Dot), "two 1-D tensors");
        return MatMul(a, b);
    }

    /// <summary>The product of a matrix [n,m] and a vector [m] (<c>torch.mv</c>): a vector [n].</summary>
    public static Tensor Mv(Tensor matrix, Tensor vector)
    {
        RequireRanks(matrix, vector, 2, 1, nameof(Mv), "a matrix and a vector");
        return MatMul(matrix, vector);
    }

    /// <summary>The product of two matrices [n,m] x [m,p] (<c>torch.mm</c>): [n,p], without broadcasting.</summary>
    public static Tensor Mm(Tensor a, Tensor b)
    {
        RequireRanks(a, b, 2, 2, nameof(Mm), "two matrices");
        return MatMul(a, b);
    }

    /// <summary>
    /// <c>torch.matmul</c>: 1-D x 1-D is the dot product; 2-D x 2-D the matrix product; a 1-D operand is a row (first)
    /// or column (second) vector whose dimension is removed from the result; with more dimensions the leading (batch)
    /// dimensions broadcast, compared from the right (equal, 1 or missing): <c>(j,1,n,m) x (k,m,p) -> (j,k,n,p)</c>.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        const string op = nameof(MatMul);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        SameDevice(a, b, op);
        if (a.Rank == 0 || b.Rank == 0)
        {
            throw new ArgumentException($"{op}: both operands need at least one dimension, got {FormatShape(a._shape)} and {FormatShape(b._shape)}.");
        }
        // A vector becomes a matrix for the product and loses that dimension afterwards.
        var am = a.Rank == 1 ? a.Unsqueeze(0) : a;
        var bm = b.Rank == 1 ? b.Unsqueeze(1) : b;
        if (am._shape[^1] != bm._shape[^2])
        {
            throw new ArgumentException(
                $"{op}: {FormatShape(a._shape)} and {FormatShape(b._shape)} cannot be multiplied: the first has {am._shape[^1]} columns but the second "
                + $"{bm._shape[^2]} rows (the last dimension of the first must equal the {(b.Rank == 1 ? "only" : "second-to-last")} dimension of the second).");
        }
        var batch = BroadcastMath.Shape(am._shape.AsSpan(0, am.Rank - 2), bm._shape.AsSpan(0, bm.Rank - 2), $"{op} of {FormatShape(a._shape)} and {FormatShape(b._shape)} (batch dimensions)");
        var shape = new int[batch.Length + 2];
        batch.CopyTo(shape, 0);
        shape[^2] = am._shape[^2];
        shape[^1] = bm._shape[^1];
        var c = a.Device.Allocate(DType.Float32, shape);
        // A transposed (last two dimensions swapped) operand is read in place through the GEMM's transpose flag.
        var (ac, transA) = GemmOperand(am);
        var (bc, transB) = GemmOperand(bm);
        a.Device.BatchedMatMul(transA, transB, ac, bc, c);
        var result = shape.ToList();
        if (b.Rank == 1)
        {
            result.RemoveAt(result.Count - 1);
        }
        if (a.Rank == 1)
        {
            result.RemoveAt(result.Count - (b.Rank == 1 ? 1 : 2));
        }
        return c.View(result.ToArray());
    }

    /// <summary>The operand as the GEMM needs it: contiguous, or the contiguous transpose of its last two dimensions.</summary>
    private static (Tensor Operand, bool Transposed) GemmOperand(Tensor t)
    {
        if (t.IsContiguous)
        {
            return (t, false);
        }
        var swapped = t.Transpose(-1, -2);
        return swapped.IsContiguous ? (swapped, true) : (t.Contiguous(), false);
    }

    // ---------------------------------------------------------------- element-wise with broadcasting

    /// <summary>a + b with broadcasting (<c>torch.add</c>).</summary>
    public static Tensor Add(Tensor a, Tensor b) => Binary(BinaryOp.Add, a, b);

    /// <summary>a - b with broadcasting.</summary>
    public static Tensor Sub(Tensor a, Tensor b) => Binary(BinaryOp.Sub, a, b);

    /// <summary>a * b element-wise with broadcasting.</summary>
    public static Tensor Mul(Tensor a, Tensor b) => Binary(BinaryOp.Mul, a, b);

    /// <summary>a / b element-wise with broadcasting.</summary>
    public static Tensor Div(Tensor a, Tensor b) => Binary(BinaryOp.Div, a, b);

    public static Tensor operator +(Tensor a, Tensor b) => Add(a, b);
    public static Tensor operator -(Tensor a, Tensor b) => Sub(a, b);
    public static Tensor operator *(Tensor a, Tensor b) => Mul(a, b);
    public static Tensor operator /(Tensor a, Tensor b) => Div(a, b);
    public static Tensor operator +(Tensor a, float b) => Binary(BinaryOp.Add, a, Scalar(b, a));
    public static Tensor operator -(Tensor a, float b) => Binary(BinaryOp.Sub, a, Scalar(b, a));
    public static Tensor operator *(Tensor a, float b) => Binary(BinaryOp.Mul, a, Scalar(b, a));
    public static Tensor operator /(Tensor a, float b) => Binary(BinaryOp.Div, a, Scalar(b, a));
    public static Tensor operator +(float a, Tensor b) => Binary(BinaryOp.Add, Scalar(a, b), b);
    public static Tensor operator -(float a, Tensor b) => Binary(BinaryOp.Sub, Scalar(a, b), b);
    public static Tensor operator *(float a, Tensor b) => Binary(BinaryOp.Mul, Scalar(a, b), b);
    public static Tensor operator /(float a, Tensor b) => Binary(BinaryOp.Div, Scalar(a, b), b);
    public static Tensor operator -(Tensor a) => Binary(BinaryOp.Sub, Scalar(0f, a), a);

    private static Tensor Binary(BinaryOp op, Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        SameDevice(a, b, op.ToString());
        var y = a.Device.Allocate(DType.Float32, BroadcastMath.Shape(a._shape, b._shape, op.ToString()));
        a.Device.Broadcast(op, a, b, y);
        return y;
    }

    /// <summary>A 0-dimensional tensor holding <paramref name="value"/> on <paramref name="like"/>'s device.</summary>
    private static Tensor Scalar(float value, Tensor like)
    {
        ArgumentNullException.ThrowIfNull(like);
        return Full(like.Device, value);
    }

    /// <summary>
    /// This tensor broadcast to <paramref name="shape"/> without copying (<c>expand</c>): size-1 dimensions repeat with
    /// stride 0 and new leading dimensions are added; -1 keeps a size.
    /// </summary>
    public Tensor Expand(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length < Rank)
        {
            throw new ArgumentException($"Expand: {FormatShape(_shape)} has more dimensions than {FormatShape(shape)}.", nameof(shape));
        }
        var resolved = new int[shape.Length];
        var strides = new long[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            int j = i - (shape.Length - Rank);
            int size = j >= 0 ? _shape[j] : 1;
            int want = shape[i] == -1 && j >= 0 ? size : shape[i];
            if (want < 0 || (size != want && size != 1))
            {
                throw new ArgumentException($"Expand: {FormatShape(_shape)} cannot be expanded to {FormatShape(shape)}: dimension {i} has size {size}, which must equal {shape[i]} or be 1.", nameof(shape));
            }
            resolved[i] = want;
            strides[i] = j >= 0 && size == want ? _strides[j] : 0;
        }
        return Derive(Offset, resolved, strides);
    }

    // ---------------------------------------------------------------- joining and splitting

    /// <summary>The tensors joined along <paramref name="dim"/> (<c>torch.cat</c>): all other sizes must match.</summary>
    public static Tensor Cat(int dim, params Tensor[] tensors)
    {
        const string op = nameof(Cat);
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0)
        {
            throw new ArgumentException($"{op}: needs at least one tensor.", nameof(tensors));
        }
        var first = tensors[0];
        ArgumentNullException.ThrowIfNull(first);
        int d = NormalizeDim(dim, first.Rank);
        var shape = first.Shape;
        shape[d] = 0;
        foreach (var t in tensors)
        {
            ArgumentNullException.ThrowIfNull(t);
            SameDevice(first, t, op);
            if (t.DType != first.DType)
            {
                throw new ArgumentException($"{op}: {first} and {t} differ in element type.", nameof(tensors));
            }
            bool fits = t.Rank == first.Rank;
            for (int i = 0; fits && i < t.Rank; i++)
            {
                fits = i == d || t._shape[i] == first._shape[i];
            }
            if (!fits)
            {
                throw new ArgumentException($"{op}: along dimension {d}, {FormatShape(first._shape)} and {FormatShape(t._shape)} must have the same number of dimensions and the same sizes in every other dimension.", nameof(tensors));
            }
            shape[d] = checked(shape[d] + t._shape[d]);
        }
        var result = first.Device.Allocate(first.DType, shape);
        int at = 0;
        foreach (var t in tensors)
        {
            first.Device.CopyToStrided(t.Contiguous(), result.Narrow(d, at, t._shape[d]));
            at += t._shape[d];
        }
        return result;
    }

    /// <summary>Views of consecutive pieces of <paramref name="splitSize"/> along <paramref name="dim"/>, the last possibly smaller (<c>torch.split</c>).</summary>
    public Tensor[] Split(int splitSize, int dim = 0)
    {
        int d = NormalizeDim(dim, Rank);
        if (splitSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(splitSize), $"Split: the piece size must be at least 1, got {splitSize}.");
        }
        int size = _shape[d];
        var pieces = new List<Tensor>();
        for (int at = 0; at < size; at += splitSize)
        {
            pieces.Add(Narrow(d, at, Math.Min(splitSize, size - at)));
        }
        if (size == 0)
        {
            pieces.Add(this);
        }
        return pieces.ToArray();
    }

    /// <summary>Views of pieces of the given sizes along <paramref name="dim"/>, which must add up to its size (<c>torch.split</c> with a list).</summary>
    public Tensor[] Split(int[] sizes, int dim = 0)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        int d = NormalizeDim(dim, Rank);
        if (sizes.Any(s => s < 0) || sizes.Sum(s => (long)s) != _shape[d])
        {
            throw new ArgumentException($"Split: sizes ({string.Join(",", sizes)}) must be non-negative and add up to {_shape[d]}, the size of dimension {d} of {FormatShape(_shape)}.", nameof(sizes));
        }
        var pieces = new Tensor[sizes.Length];
        int at = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            pieces[i] = Narrow(d, at, sizes[i]);
            at += sizes[i];
        }
        return pieces;
    }

    /// <summary>At most <paramref name="chunks"/> views of ceil(size/chunks) along <paramref name="dim"/> (<c>torch.chunk</c>).</summary>
    public Tensor[] Chunk(int chunks, int dim = 0)
    {
        if (chunks < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(chunks), $"Chunk: needs at least one chunk, got {chunks}.");
        }
        int size = _shape[NormalizeDim(dim, Rank)];
        return Split(Math.Max(1, (size + chunks - 1) / chunks), dim);
    }

    /// <summary>
    /// Python's <c>x[..., start:end:step, ...]</c> on dimension <paramref name="dim"/> as a view: negative bounds count
    /// from the end and out-of-range bounds are clamped, as in Python; the step must be positive.
    /// </summary>
    public Tensor Slice(int dim, int start, int end, int step = 1)
    {
        int d = NormalizeDim(dim, Rank);
        if (step < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(step), $"Slice: the step must be positive, got {step}.");
        }
        int size = _shape[d];
        int s = Math.Clamp(start < 0 ? start + size : start, 0, size);
        int e = Math.Clamp(end < 0 ? end + size : end, 0, size);
        int length = e > s ? (e - s + step - 1) / step : 0;
        var shape = (int[])_shape.Clone();
        var strides = (long[])_strides.Clone();
        shape[d] = length;
        strides[d] *= step;
        return Derive(length == 0 ? Offset : Offset + s * _strides[d], shape, strides);
    }

    // ---------------------------------------------------------------- reductions

    /// <summary>The sum of all elements (a 0-dimensional tensor).</summary>
    public Tensor Sum() => ReduceAll(ReduceOp.Sum);

    /// <summary>The sum along <paramref name="dim"/>, which is removed unless <paramref name="keepDim"/>.</summary>
    public Tensor Sum(int dim, bool keepDim = false) => ReduceAlong(ReduceOp.Sum, dim, keepDim, null);

    /// <summary>The mean of all elements.</summary>
    public Tensor Mean() => ReduceAll(ReduceOp.Mean);

    /// <summary>The mean along <paramref name="dim"/>.</summary>
    public Tensor Mean(int dim, bool keepDim = false) => ReduceAlong(ReduceOp.Mean, dim, keepDim, null);

    /// <summary>The largest element (NaN if any is NaN, as in PyTorch).</summary>
    public Tensor Max() => ReduceAll(ReduceOp.Max);

    /// <summary>The largest values along <paramref name="dim"/> and the int64 positions of their first occurrences (<c>torch.max(x, dim)</c>).</summary>
    public (Tensor Values, Tensor Indices) Max(int dim, bool keepDim = false)
    {
        var indices = Device.Allocate(DType.Int64, ReducedShape(dim, keepDim));
        var values = ReduceAlong(ReduceOp.Max, dim, keepDim, indices);
        return (values, indices);
    }

    /// <summary>The position of the largest element along <paramref name="dim"/> (int64, <c>torch.argmax</c>).</summary>
    public Tensor ArgMax(int dim, bool keepDim = false) => Max(dim, keepDim).Indices;

    /// <summary>The position of the largest element in row-major order (a 0-dimensional int64 tensor).</summary>
    public Tensor ArgMax()
    {
        var flat = Reshape(-1);
        return flat.Max(0).Indices;
    }

    private Tensor ReduceAll(ReduceOp op)
    {
        var values = Device.Allocate(DType.Float32);
        Device.Reduce(op, Contiguous().View(-1), 0, values, null);
        return values;
    }

    private Tensor ReduceAlong(ReduceOp op, int dim, bool keepDim, Tensor? indices)
    {
        var values = Device.Allocate(DType.Float32, ReducedShape(dim, keepDim));
        Device.Reduce(op, Contiguous(), dim, values, indices);
        return values;
    }

    private int[] ReducedShape(int dim, bool keepDim)
    {
        if (Rank == 0)
        {
            throw new ArgumentException($"Cannot reduce along a dimension of a scalar tensor.", nameof(dim));
        }
        int d = NormalizeDim(dim, Rank);
        var shape = _shape.ToList();
        if (keepDim)
        {
            shape[d] = 1;
        }
        else
        {
            shape.RemoveAt(d);
        }
        return shape.ToArray();
    }

    // ---------------------------------------------------------------- helpers

    private static void SameDevice(Tensor a, Tensor b, string op)
    {
        if (!ReferenceEquals(a.Device, b.Device))
        {
            throw new ArgumentException($"{op}: {a} and {b} are on different devices; move one with .To(device).");
        }
    }

    private static void RequireRanks(Tensor a, Tensor b, int rankA, int rankB, string op, string what)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Rank != rankA || b.Rank != rankB)
        {
            throw new ArgumentException($"{op}: needs {what}, got {FormatShape(a._shape)} and {FormatShape(b._shape)}.");
        }
    }
}
