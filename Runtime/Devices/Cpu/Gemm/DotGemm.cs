using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dsl.Devices.Cpu.Gemm;

/// <summary>
/// C = alpha * A * B^T + beta * C for row-major A[m,k] and B[n,k], as register-blocked dot products:
/// a TA x TB block of C (at most 4 x 3) is accumulated in 12 vector registers while the k dimension
/// streams through, 7 loads feeding 12 FMAs. Both operands are read in place along k, so nothing is
/// packed; for a long shared dimension and a small output (weight gradients, Linear forward) this
/// beats the packed path, whose packing of a transposed B costs as much as the product itself.
/// </summary>
internal static unsafe class DotGemm
{
    /// <summary>Rows of A per block.</summary>
    public const int BlockA = 4;

    /// <summary>Rows of B per block.</summary>
    public const int BlockB = 3;

    /// <summary>
    /// Computes rows [i0, i1) x columns [j0, j1) of C. k is walked in chunks of 1024 so that one block's
    /// 7 rows (28 KiB) stay in L1 while the B blocks of a chunk are revisited from L2.
    /// </summary>
    public static void Run(int m, int n, int k, float alpha, float* a, float* b, float beta, float* c,
        int i0, int i1, int j0, int j1)
    {
        int chunk = Math.Min(k, 1024);
        for (int p0 = 0; p0 < k; p0 += chunk)
        {
            int len = Math.Min(chunk, k - p0);
            bool first = p0 == 0;
            for (int i = i0; i < i1; i += BlockA)
            {
                int ra = Math.Min(BlockA, i1 - i);
                for (int j = j0; j < j1; j += BlockB)
                {
                    int rb = Math.Min(BlockB, j1 - j);
                    float* ap = a + (nint)i * k + p0;
                    float* bp = b + (nint)j * k + p0;
                    float* cp = c + (nint)i * n + j;
                    switch (ra * 4 + rb)
                    {
                        case 4 + 1: Block<Rows1, Rows1>(ap, bp, k, len, cp, n, alpha, beta, first); break;
                        case 4 + 2: Block<Rows1, Rows2>(ap, bp, k, len, cp, n, alpha, beta, first); break;
                        case 4 + 3: Block<Rows1, Rows3>(ap, bp, k, len, cp, n, alpha, beta, first); break;
                        case 8 + 1: Block<Rows2, Rows1>(ap, bp, k, len, cp, n, alpha, beta, first); break;
                        case 8 + 2: Block<Rows2, Rows2>(ap, bp, k, len, cp, n, alpha, beta, first); break;
                        case 8 + 3: Block<Rows2, Rows3>(ap, bp, k, len, cp, n, alpha, beta, first); break;
                        case 12 + 1: Block<Rows3, Rows1>(ap, bp, k, len, cp, n, alpha, beta, first); break;
                        case 12 + 2: Block<Rows3, Rows2>(ap, bp, k, len, cp, n, alpha, beta, first); break;
                        case 12 + 3: Block<Rows3, Rows3>(ap, bp, k, len, cp, n, alpha, beta, first); break;
                        case 16 + 1: Block<Rows4, Rows1>(ap, bp, k, len, cp, n, alpha, beta, first); break;
                        case 16 + 2: Block<Rows4, Rows2>(ap, bp, k, len, cp, n, alpha, beta, first); break;
                        default: Block<Rows4, Rows3>(ap, bp, k, len, cp, n, alpha, beta, first); break;
                    }
                }
            }
        }
    }

    /// <summary>
    /// One TA x TB block over k range [0, len) of rows that are <paramref name="ld"/> apart. On the
    /// first chunk C = alpha * s + beta * C (C unread when beta == 0); later chunks add alpha * s.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TA, TB>(float* a, float* b, nint ld, int len, float* c, nint ldc, float alpha, float beta, bool first)
        where TA : struct, IRowCount
        where TB : struct, IRowCount
    {
        int ra = TA.Rows, rb = TB.Rows;
        Vector512<float> s00 = default; Vector512<float> s01 = default; Vector512<float> s02 = default;
        Vector512<float> s10 = default; Vector512<float> s11 = default; Vector512<float> s12 = default;
        Vector512<float> s20 = default; Vector512<float> s21 = default; Vector512<float> s22 = default;
        Vector512<float> s30 = default; Vector512<float> s31 = default; Vector512<float> s32 = default;
        int p = 0;
        for (; p <= len - 16; p += 16)
        {
            Vector512<float> a0 = Vector512.Load(a + 0 * ld + p);
            Vector512<float> a1 = ra > 1 ? Vector512.Load(a + 1 * ld + p) : default;
            Vector512<float> a2 = ra > 2 ? Vector512.Load(a + 2 * ld + p) : default;
            Vector512<float> a3 = ra > 3 ? Vector512.Load(a + 3 * ld + p) : default;
            Vector512<float> b0 = Vector512.Load(b + 0 * ld + p);
            Vector512<float> b1 = rb > 1 ? Vector512.Load(b + 1 * ld + p) : default;
            Vector512<float> b2 = rb > 2 ? Vector512.Load(b + 2 * ld + p) : default;
            s00 = Vector512.FusedMultiplyAdd(a0, b0, s00);
            if (rb > 1) s01 = Vector512.FusedMultiplyAdd(a0, b1, s01);
            if (rb > 2) s02 = Vector512.FusedMultiplyAdd(a0, b2, s02);
            if (ra > 1) s10 = Vector512.FusedMultiplyAdd(a1, b0, s10);
            if (ra > 1 && rb > 1) s11 = Vector512.FusedMultiplyAdd(a1, b1, s11);
            if (ra > 1 && rb > 2) s12 = Vector512.FusedMultiplyAdd(a1, b2, s12);
            if (ra > 2) s20 = Vector512.FusedMultiplyAdd(a2, b0, s20);
            if (ra > 2 && rb > 1) s21 = Vector512.FusedMultiplyAdd(a2, b1, s21);
            if (ra > 2 && rb > 2) s22 = Vector512.FusedMultiplyAdd(a2, b2, s22);
            if (ra > 3) s30 = Vector512.FusedMultiplyAdd(a3, b0, s30);
            if (ra > 3 && rb > 1) s31 = Vector512.FusedMultiplyAdd(a3, b1, s31);
            if (ra > 3 && rb > 2) s32 = Vector512.FusedMultiplyAdd(a3, b2, s32);
        }

        if (Avx512F.IsSupported && p < len)
        {
            // The k remainder as one masked step: masked-off lanes read nothing and add zero.
            Vector512<float> mask = Vector512.LessThan(Vector512<float>.Indices, Vector512.Create((float)(len - p)));
            Vector512<float> a0 = Avx512F.MaskLoad(a + 0 * ld + p, mask, Vector512<float>.Zero);
            Vector512<float> a1 = ra > 1 ? Avx512F.MaskLoad(a + 1 * ld + p, mask, Vector512<float>.Zero) : default;
            Vector512<float> a2 = ra > 2 ? Avx512F.MaskLoad(a + 2 * ld + p, mask, Vector512<float>.Zero) : default;
            Vector512<float> a3 = ra > 3 ? Avx512F.MaskLoad(a + 3 * ld + p, mask, Vector512<float>.Zero) : default;
            Vector512<float> b0 = Avx512F.MaskLoad(b + 0 * ld + p, mask, Vector512<float>.Zero);
            Vector512<float> b1 = rb > 1 ? Avx512F.MaskLoad(b + 1 * ld + p, mask, Vector512<float>.Zero) : default;
            Vector512<float> b2 = rb > 2 ? Avx512F.MaskLoad(b + 2 * ld + p, mask, Vector512<float>.Zero) : default;
            s00 = Vector512.FusedMultiplyAdd(a0, b0, s00);
            if (rb > 1) s01 = Vector512.FusedMultiplyAdd(a0, b1, s01);
            if (rb > 2) s02 = Vector512.FusedMultiplyAdd(a0, b2, s02);
            if (ra > 1) s10 = Vector512.FusedMultiplyAdd(a1, b0, s10);
            if (ra > 1 && rb > 1) s11 = Vector512.FusedMultiplyAdd(a1, b1, s11);
            if (ra > 1 && rb > 2) s12 = Vector512.FusedMultiplyAdd(a1, b2, s12);
            if (ra > 2) s20 = Vector512.FusedMultiplyAdd(a2, b0, s20);
            if (ra > 2 && rb > 1) s21 = Vector512.FusedMultiplyAdd(a2, b1, s21);
            if (ra > 2 && rb > 2) s22 = Vector512.FusedMultiplyAdd(a2, b2, s22);
            if (ra > 3) s30 = Vector512.FusedMultiplyAdd(a3, b0, s30);
            if (ra > 3 && rb > 1) s31 = Vector512.FusedMultiplyAdd(a3, b1, s31);
            if (ra > 3 && rb > 2) s32 = Vector512.FusedMultiplyAdd(a3, b2, s32);
            p = len;
        }

        float* sums = stackalloc float[12];
        sums[0] = Vector512.Sum(s00);
        if (rb > 1) sums[1] = Vector512.Sum(s01);
        if (rb > 2) sums[2] = Vector512.Sum(s02);
        if (ra > 1) sums[3] = Vector512.Sum(s10);
        if (ra > 1 && rb > 1) sums[4] = Vector512.Sum(s11);
        if (ra > 1 && rb > 2) sums[5] = Vector512.Sum(s12);
        if (ra > 2) sums[6] = Vector512.Sum(s20);
        if (ra > 2 && rb > 1) sums[7] = Vector512.Sum(s21);
        if (ra > 2 && rb > 2) sums[8] = Vector512.Sum(s22);
        if (ra > 3) sums[9] = Vector512.Sum(s30);
        if (ra > 3 && rb > 1) sums[10] = Vector512.Sum(s31);
        if (ra > 3 && rb > 2) sums[11] = Vector512.Sum(s32);
        for (int r = 0; r < ra; r++)
        {
            for (int q = 0; q < rb; q++)
            {
                float s = sums[r * 3 + q];
                float* ar = a + r * ld;
                float* bq = b + q * ld;
                for (int t = p; t < len; t++)
                {
                    s += ar[t] * bq[t];
                }
                float* cq = c + r * ldc + q;
                if (!first)
                {
                    *cq += alpha * s;
                }
                else if (beta == 0f)
                {
                    *cq = alpha * s;
                }
                else
                {
                    *cq = alpha * s + beta * *cq;
                }
            }
        }
    }
}
