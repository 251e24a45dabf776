using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dsl.Devices.Cpu.Gemm;

/// <summary>
/// The GotoBLAS/BLIS loop nest for row-major C (Goto and van de Geijn, "Anatomy of high-performance
/// matrix multiplication", 2008), mirrored because our vectors run along C's rows:
/// an M block of A is packed into strips of at most MR rows (KC x MR each, kept in L1 by the kernel),
/// an N block of B into panels NR wide (KC x NB together, kept in L2), and each strip sweeps all panels.
/// Strips are balanced (sizes differ by at most one), so an M tail costs a slightly shorter strip, not a
/// nearly empty one; N tails are zero-padded panels whose extra columns are never stored.
/// With AVX-512, operands stored across k (A, B^T) are packed through 16 x 16 register transposes
/// (<see cref="Transpose16"/>) and operands stored along k with masked vector copies.
/// </summary>
internal static unsafe class PackedGemm
{
    /// <summary>Shared-dimension block: a 12-row A strip of it is 18 KiB, L1-resident.</summary>
    public const int Kc = 384;

    /// <summary>Columns of B packed at once: KC x 256 floats is 384 KiB, L2-resident.</summary>
    public const int Nb = 256;

    /// <summary>Rows of A packed at once, bounding the A buffer (L3).</summary>
    public const int Mb = 768;

    [ThreadStatic] private static PackBuffer? t_packA;
    [ThreadStatic] private static PackBuffer? t_packB;

    /// <summary>Rows per strip for a kernel kind.</summary>
    public static int Mr(GemmKernel kind) => kind switch
    {
        GemmKernel.Vector512 => 12,
        GemmKernel.Vector256 => 6,
        _ => 4,
    };

    /// <summary>Columns per panel for a kernel kind.</summary>
    public static int Nr(GemmKernel kind) => kind switch
    {
        GemmKernel.Vector512 => MicroKernel512.Nr,
        GemmKernel.Vector256 => MicroKernel256.Nr,
        _ => ScalarKernel.Nr,
    };

    /// <summary>Computes rows [i0, i1) x columns [j0, j1) of C = alpha * op(A) * op(B) + beta * C.</summary>
    public static void Run(GemmKernel kind, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, float* b, float beta, float* c, int i0, int i1, int j0, int j1)
    {
        int mr = Mr(kind), nr = Nr(kind);
        // With few strips a B panel is used only a couple of times: reading it in place from B's rows
        // (which are contiguous along n) beats copying it. Only a partial last panel is still packed.
        bool directB = !transB && i1 - i0 <= 2 * mr;
        bool simd = kind == GemmKernel.Vector512 && Avx512F.IsSupported;
        bool simd256 = kind == GemmKernel.Vector256 && Avx.IsSupported;
        int mbMax = Math.Min(Mb, i1 - i0), kcMax = Math.Min(Kc, k), nbMax = Math.Min(Nb, j1 - j0);
        float* packA = (t_packA ??= new PackBuffer()).Get(mbMax * kcMax);
        float* packB = (t_packB ??= new PackBuffer()).Get(((nbMax + nr - 1) / nr) * nr * kcMax);

        for (int ic = i0; ic < i1; ic += Mb)
        {
            int mc = Math.Min(Mb, i1 - ic);
            int strips = (mc + mr - 1) / mr;
            for (int pc = 0; pc < k; pc += Kc)
            {
                int kc = Math.Min(Kc, k - pc);
                float betaK = pc == 0 ? beta : 1f;
                for (int s = 0; s < strips; s++)
                {
                    int r0 = StripStart(s, mc, strips);
                    PackA(simd, simd256, transA, a, m, k, ic + r0, StripStart(s + 1, mc, strips) - r0, pc, kc, packA + (nint)r0 * kc);
                }
                for (int jc = j0; jc < j1; jc += Nb)
                {
                    int nc = Math.Min(Nb, j1 - jc);
                    int panels = (nc + nr - 1) / nr;
                    for (int q = 0; q < panels; q++)
                    {
                        int cols = Math.Min(nr, nc - q * nr);
                        if (!directB || cols < nr)
                        {
                            PackB(simd, simd256, transB, b, n, k, jc + q * nr, cols, nr, pc, kc, packB + (nint)q * nr * kc);
                        }
                    }
                    for (int s = 0; s < strips; s++)
                    {
                        int r0 = StripStart(s, mc, strips);
                        int rows = StripStart(s + 1, mc, strips) - r0;
                        float* aStrip = packA + (nint)r0 * kc;
                        float* cRow = c + (nint)(ic + r0) * n + jc;
                        for (int q = 0; q < panels; q++)
                        {
                            int cols = Math.Min(nr, nc - q * nr);
                            float* bPanel;
                            nint ldb;
                            if (directB && cols == nr)
                            {
                                bPanel = b + (nint)pc * n + jc + q * nr;
                                ldb = n;
                            }
                            else
                            {
                                bPanel = packB + (nint)q * nr * kc;
                                ldb = nr;
                            }
                            Kernel(kind, rows, aStrip, bPanel, ldb, kc, cRow + q * nr, n, cols, alpha, betaK);
                        }
                    }
                }
            }
        }
    }

    private static int StripStart(int s, int mc, int strips) => (int)((long)s * mc / strips);

    /// <summary>Packs op(A)[r0..r0+rows, pc..pc+kc] as kc groups of rows floats.</summary>
    private static void PackA(bool simd, bool simd256, bool transA, float* a, int m, int k, int r0, int rows, int pc, int kc, float* dst)
    {
        if (transA)
        {
            // A is stored [k, m]: each k step's rows are contiguous.
            if (simd && rows <= 16)
            {
                Vector512<float> lanes = Vector512.LessThan(Vector512<float>.Indices, Vector512.Create((float)rows));
                float* src = a + (nint)pc * m + r0;
                for (int p = 0; p < kc; p++)
                {
                    Avx512F.MaskStore(dst + (nint)p * rows, lanes, Avx512F.MaskLoad(src + (nint)p * m, lanes, Vector512<float>.Zero));
                }
                return;
            }
            for (int p = 0; p < kc; p++)
            {
                new ReadOnlySpan<float>(a + (nint)(pc + p) * m + r0, rows).CopyTo(new Span<float>(dst + (nint)p * rows, rows));
            }
            return;
        }
        if (simd && rows <= 16)
        {
            // Each 16 x 16 block of the strip's rows is transposed in registers; k step p takes its rows lanes.
            Vector512<float> lanes = Vector512.LessThan(Vector512<float>.Indices, Vector512.Create((float)rows));
            float* src = a + (nint)r0 * k + pc;
            for (int p = 0; p < kc; p += 16)
            {
                Transpose16.Block(src + p, k, rows, Math.Min(16, kc - p), dst + (nint)p * rows, rows, lanes, masked: true);
            }
            return;
        }
        if (simd256 && rows <= 8)
        {
            // The same with 8 x 8 blocks (a weight gradient's dY: rows of the strip along k, a scalar store per float otherwise).
            Vector256<float> lanes = Vector256.LessThan(Vector256<float>.Indices, Vector256.Create((float)rows));
            float* src = a + (nint)r0 * k + pc;
            for (int p = 0; p < kc; p += 8)
            {
                Transpose8.Block(src + p, k, rows, Math.Min(8, kc - p), dst + (nint)p * rows, rows, lanes, masked: true);
            }
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            float* src = a + (nint)(r0 + r) * k + pc;
            float* d = dst + r;
            for (int p = 0; p < kc; p++)
            {
                d[(nint)p * rows] = src[p];
            }
        }
    }

    /// <summary>Packs op(B)[pc..pc+kc, c0..c0+cols] as kc rows of nr floats, zero-padded past cols.</summary>
    private static void PackB(bool simd, bool simd256, bool transB, float* b, int n, int k, int c0, int cols, int nr, int pc, int kc, float* dst)
    {
        if (!transB)
        {
            if (simd && nr == 32)
            {
                // Two (masked) vectors per k step; lanes past cols load as zero, padding the panel.
                Vector512<float> lo = Vector512.LessThan(Vector512<float>.Indices, Vector512.Create((float)cols));
                Vector512<float> hi = Vector512.LessThan(Vector512<float>.Indices + Vector512.Create(16f), Vector512.Create((float)cols));
                float* src = b + (nint)pc * n + c0;
                for (int p = 0; p < kc; p++)
                {
                    float* s = src + (nint)p * n;
                    float* d = dst + (nint)p * 32;
                    Vector512.Store(Avx512F.MaskLoad(s, lo, Vector512<float>.Zero), d);
                    Vector512.Store(Avx512F.MaskLoad(s + 16, hi, Vector512<float>.Zero), d + 16);
                }
                return;
            }
            for (int p = 0; p < kc; p++)
            {
                float* d = dst + (nint)p * nr;
                new ReadOnlySpan<float>(b + (nint)(pc + p) * n + c0, cols).CopyTo(new Span<float>(d, cols));
                new Span<float>(d + cols, nr - cols).Clear();
            }
            return;
        }
        // B is stored [n, k]: column j of op(B) is row j of B, contiguous along k.
        if (simd && nr % 16 == 0)
        {
            // 16 rows of B at a time, transposed in registers; rows past cols read as zero, padding the panel.
            for (int h = 0; h < nr; h += 16)
            {
                int valid = Math.Clamp(cols - h, 0, 16);
                float* src = b + (nint)(c0 + h) * k + pc;
                for (int p = 0; p < kc; p += 16)
                {
                    Transpose16.Block(src + p, k, valid, Math.Min(16, kc - p), dst + (nint)p * nr + h, nr, default, masked: false);
                }
            }
            return;
        }
        if (simd256 && nr % 8 == 0)
        {
            // The same with 8 x 8 blocks (a weight gradient's columns, B^T).
            for (int h = 0; h < nr; h += 8)
            {
                int valid = Math.Clamp(cols - h, 0, 8);
                float* src = b + (nint)(c0 + h) * k + pc;
                for (int p = 0; p < kc; p += 8)
                {
                    Transpose8.Block(src + p, k, valid, Math.Min(8, kc - p), dst + (nint)p * nr + h, nr, default, masked: false);
                }
            }
            return;
        }
        if (cols < nr)
        {
            new Span<float>(dst, kc * nr).Clear();
        }
        for (int j = 0; j < cols; j++)
        {
            float* src = b + (nint)(c0 + j) * k + pc;
            float* d = dst + j;
            for (int p = 0; p < kc; p++)
            {
                d[(nint)p * nr] = src[p];
            }
        }
    }

    internal static void Kernel(GemmKernel kind, int rows, float* a, float* b, nint ldb, int kc, float* c, nint ldc, int cols, float alpha, float beta)
    {
        if (kind == GemmKernel.Vector512)
        {
            if (cols <= 16) Kernel512<HalfPanel>(rows, a, b, ldb, kc, c, ldc, cols, alpha, beta);
            else Kernel512<FullPanel>(rows, a, b, ldb, kc, c, ldc, cols, alpha, beta);
        }
        else if (kind == GemmKernel.Vector256)
        {
            switch (rows)
            {
                case 1: MicroKernel256.Run<Rows1>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
                case 2: MicroKernel256.Run<Rows2>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
                case 3: MicroKernel256.Run<Rows3>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
                case 4: MicroKernel256.Run<Rows4>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
                case 5: MicroKernel256.Run<Rows5>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
                default: MicroKernel256.Run<Rows6>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
            }
        }
        else
        {
            ScalarKernel.Run(rows, a, b, ldb, kc, c, ldc, cols, alpha, beta);
        }
    }

    private static void Kernel512<TW>(int rows, float* a, float* b, nint ldb, int kc, float* c, nint ldc, int cols, float alpha, float beta)
        where TW : struct, IPanelWidth
    {
        switch (rows)
        {
            case 1: MicroKernel512.Run<Rows1, TW>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
            case 2: MicroKernel512.Run<Rows2, TW>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
            case 3: MicroKernel512.Run<Rows3, TW>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
            case 4: MicroKernel512.Run<Rows4, TW>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
            case 5: MicroKernel512.Run<Rows5, TW>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
            case 6: MicroKernel512.Run<Rows6, TW>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
            case 7: MicroKernel512.Run<Rows7, TW>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
            case 8: MicroKernel512.Run<Rows8, TW>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
            case 9: MicroKernel512.Run<Rows9, TW>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
            case 10: MicroKernel512.Run<Rows10, TW>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
            case 11: MicroKernel512.Run<Rows11, TW>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
            default: MicroKernel512.Run<Rows12, TW>(a, b, ldb, kc, c, ldc, cols, alpha, beta); break;
        }
    }

    /// <summary>The widest kernel this machine runs in hardware.</summary>
    public static GemmKernel Detect() =>
        Vector512.IsHardwareAccelerated ? GemmKernel.Vector512
        : Vector256.IsHardwareAccelerated ? GemmKernel.Vector256
        : GemmKernel.Scalar;
}
