namespace Dsl;

/// <summary>
/// A strided view's layout reduced for the copy kernels: size-1 dimensions dropped and dimensions that are contiguous
/// among themselves merged, then right-aligned into <see cref="MaxRank"/> slots (unused outer slots have size 1 and
/// stride 0). Fixed fields rather than arrays, so an ILGPU kernel can take it by value.
/// </summary>
public readonly record struct StridedLayout(
    long Offset,
    int D0, int D1, int D2, int D3, int D4, int D5,
    long S0, long S1, long S2, long S3, long S4, long S5)
{
    /// <summary>How many dimensions a layout holds after merging.</summary>
    public const int MaxRank = 6;

    /// <summary>The innermost dimension's size: the run a CPU copy moves at once when <see cref="S5"/> is 1.</summary>
    public int Inner => D5;

    /// <summary>
    /// The storage index of the element at row-major position <paramref name="i"/> of the view (the single formula both
    /// devices' strided copies use).
    /// </summary>
    public static long SourceIndex(StridedLayout l, long i)
    {
        long off = l.Offset;
        long q = i / l.D5;
        off += (i - q * l.D5) * l.S5;
        i = q;
        q = i / l.D4;
        off += (i - q * l.D4) * l.S4;
        i = q;
        q = i / l.D3;
        off += (i - q * l.D3) * l.S3;
        i = q;
        q = i / l.D2;
        off += (i - q * l.D2) * l.S2;
        i = q;
        q = i / l.D1;
        off += (i - q * l.D1) * l.S1;
        i = q;
        return off + i * l.S0;
    }

    /// <summary>The merged layout of a non-empty <paramref name="t"/>; throws when more than <see cref="MaxRank"/> dimensions remain.</summary>
    public static StridedLayout From(Tensor t, string op) => From(t.Offset, t.Dims, t.StrideSpan, op, t);

    /// <summary>
    /// The merged layout of a view given by its offset, sizes and strides (a permutation of a contiguous value's strides,
    /// a network's per-sample transpose) without making the view: allocates nothing.
    /// </summary>
    public static StridedLayout From(long offset, ReadOnlySpan<int> shape, ReadOnlySpan<long> strideSpan, string op) => From(offset, shape, strideSpan, op, null);

    private static StridedLayout From(long offset, ReadOnlySpan<int> shape, ReadOnlySpan<long> strideSpan, string op, Tensor? t)
    {
        Span<int> dims = stackalloc int[Math.Max(shape.Length, 1)];
        Span<long> strides = stackalloc long[Math.Max(shape.Length, 1)];
        int n = 0;
        for (int i = 0; i < shape.Length; i++)
        {
            int size = shape[i];
            long stride = strideSpan[i];
            if (size == 1)
            {
                continue;
            }
            if (n > 0 && strides[n - 1] == stride * size)
            {
                // The previous (outer) dimension continues this one: merge them.
                dims[n - 1] = checked(dims[n - 1] * size);
                strides[n - 1] = stride;
                continue;
            }
            dims[n] = size;
            strides[n] = stride;
            n++;
        }
        if (n > MaxRank)
        {
            throw new NotSupportedException($"{op}: {t?.Describe() ?? Tensor.FormatShape(shape)} with strides {Tensor.FormatStrides(strideSpan)} has {n} dimensions that cannot be merged; at most {MaxRank} are supported.");
        }
        Span<int> d = stackalloc int[MaxRank];
        Span<long> s = stackalloc long[MaxRank];
        d.Fill(1);
        s.Clear();
        for (int i = 0; i < n; i++)
        {
            d[MaxRank - n + i] = dims[i];
            s[MaxRank - n + i] = strides[i];
        }
        return new StridedLayout(offset, d[0], d[1], d[2], d[3], d[4], d[5], s[0], s[1], s[2], s[3], s[4], s[5]);
    }
}
