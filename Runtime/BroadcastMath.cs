namespace Dsl;

/// <summary>The element-wise operations of <see cref="Device.Broadcast"/>.</summary>
public enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
}

/// <summary>
/// PyTorch's broadcasting rule, written once for the eager tensor operations and both devices' kernels: shapes are
/// compared from the last dimension to the first, and each pair must be equal, or one of them 1, or missing
/// (<see href="https://pytorch.org/docs/stable/notes/broadcasting.html"/>).
/// </summary>
public static class BroadcastMath
{
    /// <summary>The scalar formula of <paramref name="op"/> (the CPU's scalar tail and the ILGPU kernel use it).</summary>
    public static float Apply(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        // Not a silent default: kernels cannot throw, so every host entry calls Require first; NaN marks the impossible.
        _ => float.NaN,
    };

    /// <summary>Throws for an operation this enum does not name (kernels cannot throw, so the host checks first).</summary>
    public static void Require(BinaryOp op, string where)
    {
        if (op is not (BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul or BinaryOp.Div))
        {
            throw new ArgumentOutOfRangeException(nameof(op), $"{where}: unknown element-wise operation {(int)op}.");
        }
    }

    /// <summary>Whether <paramref name="y"/> is the broadcast shape of <paramref name="a"/> and <paramref name="b"/> (allocates nothing).</summary>
    public static bool IsShapeOf(ReadOnlySpan<int> y, ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        if (y.Length != Math.Max(a.Length, b.Length))
        {
            return false;
        }
        for (int i = 1; i <= y.Length; i++)
        {
            int da = i <= a.Length ? a[^i] : 1;
            int db = i <= b.Length ? b[^i] : 1;
            if ((da != db && da != 1 && db != 1) || y[^i] != (da == 1 ? db : da))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The broadcast shape of <paramref name="a"/> and <paramref name="b"/>, or an error naming both shapes, the dimension
    /// and the rule broken.
    /// </summary>
    public static int[] Shape(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string op)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 1; i <= rank; i++)
        {
            int da = i <= a.Length ? a[^i] : 1;
            int db = i <= b.Length ? b[^i] : 1;
            if (da != db && da != 1 && db != 1)
            {
                throw new ArgumentException(
                    $"{op}: shapes {Tensor.FormatShape(a)} and {Tensor.FormatShape(b)} do not broadcast: dimension -{i} has sizes {da} and {db}, "
                    + "but compared from the right each pair of sizes must be equal, or one of them 1, or missing.");
            }
            result[rank - i] = da == 1 ? db : da;
        }
        return result;
    }
}

/// <summary>
/// Two strided operands seen with one row-major shape (the output's): broadcast dimensions have stride 0, and dimensions
/// that are contiguous among themselves in both operands are merged, then right-aligned into <see cref="MaxRank"/> slots
/// (unused outer slots have size 1). Fixed fields rather than arrays, so an ILGPU kernel can take it by value; the CPU
/// walks the innermost run <see cref="D5"/> at once.
/// </summary>
public readonly record struct BroadcastLayout(
    long OffsetA, long OffsetB,
    int D0, int D1, int D2, int D3, int D4, int D5,
    long A0, long A1, long A2, long A3, long A4, long A5,
    long B0, long B1, long B2, long B3, long B4, long B5)
{
    public const int MaxRank = 6;

    /// <summary>The storage index in A of row-major output position <paramref name="i"/>.</summary>
    public static long IndexA(BroadcastLayout l, long i)
    {
        long off = l.OffsetA;
        long q = i / l.D5;
        off += (i - q * l.D5) * l.A5;
        i = q;
        q = i / l.D4;
        off += (i - q * l.D4) * l.A4;
        i = q;
        q = i / l.D3;
        off += (i - q * l.D3) * l.A3;
        i = q;
        q = i / l.D2;
        off += (i - q * l.D2) * l.A2;
        i = q;
        q = i / l.D1;
        off += (i - q * l.D1) * l.A1;
        i = q;
        return off + i * l.A0;
    }

    /// <summary>The storage index in B of row-major output position <paramref name="i"/>.</summary>
    public static long IndexB(BroadcastLayout l, long i)
    {
        long off = l.OffsetB;
        long q = i / l.D5;
        off += (i - q * l.D5) * l.B5;
        i = q;
        q = i / l.D4;
        off += (i - q * l.D4) * l.B4;
        i = q;
        q = i / l.D3;
        off += (i - q * l.D3) * l.B3;
        i = q;
        q = i / l.D2;
        off += (i - q * l.D2) * l.B2;
        i = q;
        q = i / l.D1;
        off += (i - q * l.D1) * l.B1;
        i = q;
        return off + i * l.B0;
    }

    /// <summary>
    /// The joint layout of <paramref name="a"/> and <paramref name="b"/> broadcast to <paramref name="shape"/> (which
    /// <see cref="BroadcastMath.Shape"/> produced); throws when more than <see cref="MaxRank"/> dimensions remain.
    /// </summary>
    public static BroadcastLayout From(Tensor a, Tensor b, ReadOnlySpan<int> shape, string op)
    {
        int rank = Math.Max(shape.Length, 1);
        Span<long> sa = stackalloc long[rank];
        Span<long> sb = stackalloc long[rank];
        for (int i = 0; i < shape.Length; i++)
        {
            sa[i] = StrideOf(a, i, shape.Length);
            sb[i] = StrideOf(b, i, shape.Length);
        }
        return From(a.Offset, sa[..shape.Length], b.Offset, sb[..shape.Length], shape, op);
    }

    /// <summary>
    /// The joint layout of two operands given by their offsets and their strides along each dimension of
    /// <paramref name="shape"/> (0 where an operand is broadcast): what <see cref="From(Tensor, Tensor, ReadOnlySpan{int}, string)"/>
    /// computes from two tensors, and what a network's per-sample operands (batch first, the rest right-aligned) give
    /// without making views. Allocates nothing.
    /// </summary>
    public static BroadcastLayout From(long offsetA, ReadOnlySpan<long> stridesA, long offsetB, ReadOnlySpan<long> stridesB, ReadOnlySpan<int> shape, string op)
    {
        int rank = Math.Max(shape.Length, 1);
        Span<int> dims = stackalloc int[rank];
        Span<long> sa = stackalloc long[rank];
        Span<long> sb = stackalloc long[rank];
        int n = 0;
        for (int i = 0; i < shape.Length; i++)
        {
            int size = shape[i];
            if (size == 1)
            {
                continue;
            }
            long strideA = stridesA[i];
            long strideB = stridesB[i];
            if (n > 0 && sa[n - 1] == strideA * size && sb[n - 1] == strideB * size)
            {
                dims[n - 1] = checked(dims[n - 1] * size);
                sa[n - 1] = strideA;
                sb[n - 1] = strideB;
                continue;
            }
            dims[n] = size;
            sa[n] = strideA;
            sb[n] = strideB;
            n++;
        }
        if (n > MaxRank)
        {
            throw new NotSupportedException($"{op}: operands of shape {Tensor.FormatShape(shape)} leave {n} dimensions that cannot be merged; at most {MaxRank} are supported.");
        }
        Span<int> d = stackalloc int[MaxRank];
        Span<long> x = stackalloc long[MaxRank];
        Span<long> y = stackalloc long[MaxRank];
        d.Fill(1);
        x.Clear();
        y.Clear();
        for (int i = 0; i < n; i++)
        {
            d[MaxRank - n + i] = dims[i];
            x[MaxRank - n + i] = sa[i];
            y[MaxRank - n + i] = sb[i];
        }
        return new BroadcastLayout(offsetA, offsetB, d[0], d[1], d[2], d[3], d[4], d[5], x[0], x[1], x[2], x[3], x[4], x[5], y[0], y[1], y[2], y[3], y[4], y[5]);
    }

    /// <summary>The stride of output dimension <paramref name="i"/> in <paramref name="t"/>: 0 where t is broadcast.</summary>
    private static long StrideOf(Tensor t, int i, int rank)
    {
        int j = i - (rank - t.Rank);
        return j < 0 || t.Dims[j] == 1 ? 0 : t.StrideSpan[j];
    }
}
