using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dsl.Devices.Cpu;

/// <summary>
/// The small products and row passes of the fused attention kernel on one tile (at most 64 query rows against 64 keys):
/// register-blocked <see cref="Vector512{T}"/> micro-kernels on operands already in L1, so a tile pays no packing or
/// dispatch of the general GEMM (whose overhead made the fused path slower than the unfused one at short lengths).
/// The right-hand operand and the result are row-major with a width padded to a multiple of 16 (one Vector512); the left
/// one is read a scalar at a time, so its width is free. Without AVX-512 the products run <see cref="Vector256{T}"/>
/// kernels; the row passes (mask, exponentials) are Vector256 everywhere.
/// </summary>
internal static unsafe class AttentionTiles
{
    /// <summary>Floats in one vector; padded widths are multiples of it.</summary>
    public const int Lanes = 16;

    /// <summary>Tests on this thread: true runs the Vector512 products even where they are emulated, false the Vector256 ones; null picks by hardware.</summary>
    [ThreadStatic] internal static bool? WideOverride;

    /// <summary><paramref name="n"/> rounded up to a whole number of vectors.</summary>
    public static int Padded(int n) => (n + Lanes - 1) / Lanes * Lanes;

    /// <summary>
    /// C[m, nPad] = (or += when <paramref name="accumulate"/>) A[m, k] B[k, nPad]; rows of A, B and C are
    /// <paramref name="lda"/>, <paramref name="ldb"/> and <paramref name="ldc"/> floats apart; nPad a multiple of 16.
    /// </summary>
    public static void Multiply(int m, int nPad, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        if (!(WideOverride ?? Vector512.IsHardwareAccelerated))
        {
            Multiply256(m, nPad, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }
        int j = 0;
        for (; j + 4 * Lanes <= nPad; j += 4 * Lanes)
        {
            int r = 0;
            for (; r + 4 <= m; r += 4)
            {
                Kernel4x4(k, a + (long)r * lda, lda, b + j, ldb, c + (long)r * ldc + j, ldc, accumulate);
            }
            for (; r < m; r++)
            {
                Kernel1x4(k, a + (long)r * lda, b + j, ldb, c + (long)r * ldc + j, accumulate);
            }
        }
        for (; j < nPad; j += Lanes)
        {
            int r = 0;
            for (; r + 4 <= m; r += 4)
            {
                Kernel4x1(k, a + (long)r * lda, lda, b + j, ldb, c + (long)r * ldc + j, ldc, accumulate);
            }
            for (; r < m; r++)
            {
                Kernel1x1(k, a + (long)r * lda, b + j, ldb, c + (long)r * ldc + j, accumulate);
            }
        }
    }

    /// <summary><see cref="Multiply"/> with <see cref="Vector256{T}"/> (AVX2: 16 registers), a 4x16 block at a time.</summary>
    private static void Multiply256(int m, int nPad, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        for (int j = 0; j < nPad; j += Lanes)
        {
            int r = 0;
            for (; r + 4 <= m; r += 4)
            {
                Kernel4x1x256(k, a + (long)r * lda, lda, b + j, ldb, c + (long)r * ldc + j, ldc, accumulate);
            }
            for (; r < m; r++)
            {
                Kernel1x1x256(k, a + (long)r * lda, b + j, ldb, c + (long)r * ldc + j, accumulate);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Start256(float* c, bool accumulate) => accumulate ? Vector256.Load(c) : Vector256<float>.Zero;

    private static void Kernel4x1x256(int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool acc)
    {
        float* c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        Vector256<float> x00 = Start256(c, acc), x01 = Start256(c + 8, acc), x10 = Start256(c1, acc), x11 = Start256(c1 + 8, acc);
        Vector256<float> x20 = Start256(c2, acc), x21 = Start256(c2 + 8, acc), x30 = Start256(c3, acc), x31 = Start256(c3 + 8, acc);
        float* a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int p = 0; p < k; p++, b += ldb)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var s = Vector256.Create(a[p]);
            x00 = Vector256.FusedMultiplyAdd(s, b0, x00);
            x01 = Vector256.FusedMultiplyAdd(s, b1, x01);
            s = Vector256.Create(a1[p]);
            x10 = Vector256.FusedMultiplyAdd(s, b0, x10);
            x11 = Vector256.FusedMultiplyAdd(s, b1, x11);
            s = Vector256.Create(a2[p]);
            x20 = Vector256.FusedMultiplyAdd(s, b0, x20);
            x21 = Vector256.FusedMultiplyAdd(s, b1, x21);
            s = Vector256.Create(a3[p]);
            x30 = Vector256.FusedMultiplyAdd(s, b0, x30);
            x31 = Vector256.FusedMultiplyAdd(s, b1, x31);
        }
        x00.Store(c); x01.Store(c + 8); x10.Store(c1); x11.Store(c1 + 8);
        x20.Store(c2); x21.Store(c2 + 8); x30.Store(c3); x31.Store(c3 + 8);
    }

    private static void Kernel1x1x256(int k, float* a, float* b, int ldb, float* c, bool acc)
    {
        Vector256<float> x0 = Start256(c, acc), x1 = Start256(c + 8, acc);
        for (int p = 0; p < k; p++, b += ldb)
        {
            var s = Vector256.Create(a[p]);
            x0 = Vector256.FusedMultiplyAdd(s, Vector256.Load(b), x0);
            x1 = Vector256.FusedMultiplyAdd(s, Vector256.Load(b + 8), x1);
        }
        x0.Store(c); x1.Store(c + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Start(float* c, bool accumulate) => accumulate ? Vector512.Load(c) : Vector512<float>.Zero;

    private static void Kernel4x4(int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool acc)
    {
        float* c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        Vector512<float> x00 = Start(c, acc), x01 = Start(c + 16, acc), x02 = Start(c + 32, acc), x03 = Start(c + 48, acc);
        Vector512<float> x10 = Start(c1, acc), x11 = Start(c1 + 16, acc), x12 = Start(c1 + 32, acc), x13 = Start(c1 + 48, acc);
        Vector512<float> x20 = Start(c2, acc), x21 = Start(c2 + 16, acc), x22 = Start(c2 + 32, acc), x23 = Start(c2 + 48, acc);
        Vector512<float> x30 = Start(c3, acc), x31 = Start(c3 + 16, acc), x32 = Start(c3 + 32, acc), x33 = Start(c3 + 48, acc);
        float* a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int p = 0; p < k; p++, b += ldb)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var b2 = Vector512.Load(b + 32);
            var b3 = Vector512.Load(b + 48);
            var s = Vector512.Create(a[p]);
            x00 = Vector512.FusedMultiplyAdd(s, b0, x00);
            x01 = Vector512.FusedMultiplyAdd(s, b1, x01);
            x02 = Vector512.FusedMultiplyAdd(s, b2, x02);
            x03 = Vector512.FusedMultiplyAdd(s, b3, x03);
            s = Vector512.Create(a1[p]);
            x10 = Vector512.FusedMultiplyAdd(s, b0, x10);
            x11 = Vector512.FusedMultiplyAdd(s, b1, x11);
            x12 = Vector512.FusedMultiplyAdd(s, b2, x12);
            x13 = Vector512.FusedMultiplyAdd(s, b3, x13);
            s = Vector512.Create(a2[p]);
            x20 = Vector512.FusedMultiplyAdd(s, b0, x20);
            x21 = Vector512.FusedMultiplyAdd(s, b1, x21);
            x22 = Vector512.FusedMultiplyAdd(s, b2, x22);
            x23 = Vector512.FusedMultiplyAdd(s, b3, x23);
            s = Vector512.Create(a3[p]);
            x30 = Vector512.FusedMultiplyAdd(s, b0, x30);
            x31 = Vector512.FusedMultiplyAdd(s, b1, x31);
            x32 = Vector512.FusedMultiplyAdd(s, b2, x32);
            x33 = Vector512.FusedMultiplyAdd(s, b3, x33);
        }
        x00.Store(c); x01.Store(c + 16); x02.Store(c + 32); x03.Store(c + 48);
        x10.Store(c1); x11.Store(c1 + 16); x12.Store(c1 + 32); x13.Store(c1 + 48);
        x20.Store(c2); x21.Store(c2 + 16); x22.Store(c2 + 32); x23.Store(c2 + 48);
        x30.Store(c3); x31.Store(c3 + 16); x32.Store(c3 + 32); x33.Store(c3 + 48);
    }

    private static void Kernel1x4(int k, float* a, float* b, int ldb, float* c, bool acc)
    {
        Vector512<float> x0 = Start(c, acc), x1 = Start(c + 16, acc), x2 = Start(c + 32, acc), x3 = Start(c + 48, acc);
        for (int p = 0; p < k; p++, b += ldb)
        {
            var s = Vector512.Create(a[p]);
            x0 = Vector512.FusedMultiplyAdd(s, Vector512.Load(b), x0);
            x1 = Vector512.FusedMultiplyAdd(s, Vector512.Load(b + 16), x1);
            x2 = Vector512.FusedMultiplyAdd(s, Vector512.Load(b + 32), x2);
            x3 = Vector512.FusedMultiplyAdd(s, Vector512.Load(b + 48), x3);
        }
        x0.Store(c); x1.Store(c + 16); x2.Store(c + 32); x3.Store(c + 48);
    }

    private static void Kernel4x1(int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool acc)
    {
        float* c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        Vector512<float> x0 = Start(c, acc), x1 = Start(c1, acc), x2 = Start(c2, acc), x3 = Start(c3, acc);
        float* a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int p = 0; p < k; p++, b += ldb)
        {
            var v = Vector512.Load(b);
            x0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[p]), v, x0);
            x1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[p]), v, x1);
            x2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[p]), v, x2);
            x3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[p]), v, x3);
        }
        x0.Store(c); x1.Store(c1); x2.Store(c2); x3.Store(c3);
    }

    private static void Kernel1x1(int k, float* a, float* b, int ldb, float* c, bool acc)
    {
        var x = Start(c, acc);
        for (int p = 0; p < k; p++, b += ldb)
        {
            x = Vector512.FusedMultiplyAdd(Vector512.Create(a[p]), Vector512.Load(b), x);
        }
        x.Store(c);
    }

    /// <summary>
    /// dst[c * ldd + j] = src[j * lds + c] for j &lt; <paramref name="rows"/>, c &lt; <paramref name="cols"/>, and 0 for
    /// rows..<paramref name="rowsPad"/>: a [rows, cols] block turned into [cols, rowsPad].
    /// </summary>
    public static void Transpose(float* src, int lds, int rows, int cols, float* dst, int ldd, int rowsPad)
    {
        for (int c = 0; c < cols; c++)
        {
            float* d = dst + (long)c * ldd;
            float* s = src + c;
            for (int j = 0; j < rows; j++)
            {
                d[j] = s[(long)j * lds];
            }
            for (int j = rows; j < rowsPad; j++)
            {
                d[j] = 0f;
            }
        }
    }

    /// <summary>Copies a [rows, cols] block to rows <paramref name="ldd"/> floats apart, zero-filling each row from cols to ldd.</summary>
    public static void PadRows(float* src, int lds, int rows, int cols, float* dst, int ldd)
    {
        for (int r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(src + (long)r * lds, cols).CopyTo(new Span<float>(dst + (long)r * ldd, cols));
            new Span<float>(dst + (long)r * ldd + cols, ldd - cols).Clear();
        }
    }

    /// <summary>Copies a [rows, cols] block whose rows are <paramref name="lds"/> apart to a dense [rows, cols] one.</summary>
    public static void UnpadRows(float* src, int lds, int rows, int cols, float* dst)
    {
        for (int r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(src + (long)r * lds, cols).CopyTo(new Span<float>(dst + (long)r * cols, cols));
        }
    }

    /// <summary>
    /// One row of scores in place: x[j] = x[j] * scale + mask[j] + pad[j] for j &lt; <paramref name="keep"/> (either mask
    /// pointer may be null; <see cref="AttentionMath.Score"/> vectorised), -inf for keep..<paramref name="n"/>;
    /// returns the maximum (-inf when nothing is kept).
    /// </summary>
    public static float ScoreRow(float* x, int keep, int n, float scale, float* mask, float* pad)
    {
        var vmax = Vector256.Create(float.NegativeInfinity);
        var vs = Vector256.Create(scale);
        int j = 0;
        for (; j + 8 <= keep; j += 8)
        {
            var v = Vector256.Load(x + j) * vs;
            if (mask != null)
            {
                v += Vector256.Load(mask + j);
            }
            if (pad != null)
            {
                v += Vector256.Load(pad + j);
            }
            v.Store(x + j);
            vmax = Vector256.Max(vmax, v);
        }
        float max = HorizontalMax(vmax);
        for (; j < keep; j++)
        {
            float v = x[j] * scale + (mask != null ? mask[j] : 0f) + (pad != null ? pad[j] : 0f);
            x[j] = v;
            max = MathF.Max(max, v);
        }
        for (; j < n; j++)
        {
            x[j] = float.NegativeInfinity;
        }
        return max;
    }

    private static float HorizontalMax(Vector256<float> v)
    {
        var q = Vector128.Max(v.GetLower(), v.GetUpper());
        return MathF.Max(MathF.Max(q[0], q[1]), MathF.Max(q[2], q[3]));
    }

    /// <summary>x[j] = exp(x[j] - shift) for j &lt; n; returns their sum.</summary>
    public static float ExpRow(float* x, int n, float shift)
    {
        var vshift = Vector256.Create(shift);
        var vsum = Vector256<float>.Zero;
        int j = 0;
        for (; j + 8 <= n; j += 8)
        {
            var e = Vector256.Exp(Vector256.Load(x + j) - vshift);
            e.Store(x + j);
            vsum += e;
        }
        float sum = Vector256.Sum(vsum);
        for (; j < n; j++)
        {
            float e = MathF.Exp(x[j] - shift);
            x[j] = e;
            sum += e;
        }
        return sum;
    }

    /// <summary>x[j] *= factor for j &lt; n (n a multiple of 16).</summary>
    public static void ScaleRow(float* x, int n, float factor)
    {
        var f = Vector256.Create(factor);
        for (int j = 0; j < n; j += 8)
        {
            (Vector256.Load(x + j) * f).Store(x + j);
        }
    }

    /// <summary>ds[j] = p[j] * (dp[j] - delta) * scale for j &lt; n: the softmax backward of one row of weights.</summary>
    public static void SoftmaxGradRow(float* p, float* dp, float* ds, int n, float delta, float scale)
    {
        var vd = Vector256.Create(delta);
        var vs = Vector256.Create(scale);
        int j = 0;
        for (; j + 8 <= n; j += 8)
        {
            (Vector256.Load(p + j) * (Vector256.Load(dp + j) - vd) * vs).Store(ds + j);
        }
        for (; j < n; j++)
        {
            ds[j] = p[j] * (dp[j] - delta) * scale;
        }
    }
}
