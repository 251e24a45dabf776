using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dsl.Devices.Cpu.Gemm;

/// <summary>
/// The Vector512 micro-kernel: a T.Rows x 32 tile of C held in 2 x T.Rows registers, updated by one
/// rank-1 product per k step (T.Rows broadcasts of packed A times two 512-bit loads of B); the half
/// variant keeps only the first 16 columns, for panels with no more valid columns than that.
/// </summary>
internal static unsafe class MicroKernel512
{
    /// <summary>Columns per B panel: two vectors.</summary>
    public const int Nr = 32;

    /// <summary>
    /// C[r, j] = alpha * sum_p a[p * T.Rows + r] * b[p * ldb + j] + beta * C[r, j] for r &lt; T.Rows, j &lt; cols.
    /// <paramref name="a"/> is a packed strip (T.Rows floats per k step); <paramref name="b"/> has 32
    /// readable floats per k step (16 for a <see cref="HalfPanel"/>, which needs cols &lt;= 16),
    /// <paramref name="ldb"/> apart. beta == 0 never reads C.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TW>(float* a, float* b, nint ldb, int kc, float* c, nint ldc, int cols, float alpha, float beta)
        where T : struct, IRowCount
        where TW : struct, IPanelWidth
    {
        int rows = T.Rows;
        bool half = TW.Half;
        Vector512<float> c0a = default, c0b = default;
        Vector512<float> c1a = default, c1b = default;
        Vector512<float> c2a = default, c2b = default;
        Vector512<float> c3a = default, c3b = default;
        Vector512<float> c4a = default, c4b = default;
        Vector512<float> c5a = default, c5b = default;
        Vector512<float> c6a = default, c6b = default;
        Vector512<float> c7a = default, c7b = default;
        Vector512<float> c8a = default, c8b = default;
        Vector512<float> c9a = default, c9b = default;
        Vector512<float> c10a = default, c10b = default;
        Vector512<float> c11a = default, c11b = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = half ? default : Vector512.Load(b + 16);
            Vector512<float> av;
            av = Vector512.Create(a[0]);
            c0a = Vector512.FusedMultiplyAdd(av, b0, c0a);
            if (!half) c0b = Vector512.FusedMultiplyAdd(av, b1, c0b);
            if (rows > 1)
            {
                av = Vector512.Create(a[1]);
                c1a = Vector512.FusedMultiplyAdd(av, b0, c1a);
                if (!half) c1b = Vector512.FusedMultiplyAdd(av, b1, c1b);
            }
            if (rows > 2)
            {
                av = Vector512.Create(a[2]);
                c2a = Vector512.FusedMultiplyAdd(av, b0, c2a);
                if (!half) c2b = Vector512.FusedMultiplyAdd(av, b1, c2b);
            }
            if (rows > 3)
            {
                av = Vector512.Create(a[3]);
                c3a = Vector512.FusedMultiplyAdd(av, b0, c3a);
                if (!half) c3b = Vector512.FusedMultiplyAdd(av, b1, c3b);
            }
            if (rows > 4)
            {
                av = Vector512.Create(a[4]);
                c4a = Vector512.FusedMultiplyAdd(av, b0, c4a);
                if (!half) c4b = Vector512.FusedMultiplyAdd(av, b1, c4b);
            }
            if (rows > 5)
            {
                av = Vector512.Create(a[5]);
                c5a = Vector512.FusedMultiplyAdd(av, b0, c5a);
                if (!half) c5b = Vector512.FusedMultiplyAdd(av, b1, c5b);
            }
            if (rows > 6)
            {
                av = Vector512.Create(a[6]);
                c6a = Vector512.FusedMultiplyAdd(av, b0, c6a);
                if (!half) c6b = Vector512.FusedMultiplyAdd(av, b1, c6b);
            }
            if (rows > 7)
            {
                av = Vector512.Create(a[7]);
                c7a = Vector512.FusedMultiplyAdd(av, b0, c7a);
                if (!half) c7b = Vector512.FusedMultiplyAdd(av, b1, c7b);
            }
            if (rows > 8)
            {
                av = Vector512.Create(a[8]);
                c8a = Vector512.FusedMultiplyAdd(av, b0, c8a);
                if (!half) c8b = Vector512.FusedMultiplyAdd(av, b1, c8b);
            }
            if (rows > 9)
            {
                av = Vector512.Create(a[9]);
                c9a = Vector512.FusedMultiplyAdd(av, b0, c9a);
                if (!half) c9b = Vector512.FusedMultiplyAdd(av, b1, c9b);
            }
            if (rows > 10)
            {
                av = Vector512.Create(a[10]);
                c10a = Vector512.FusedMultiplyAdd(av, b0, c10a);
                if (!half) c10b = Vector512.FusedMultiplyAdd(av, b1, c10b);
            }
            if (rows > 11)
            {
                av = Vector512.Create(a[11]);
                c11a = Vector512.FusedMultiplyAdd(av, b0, c11a);
                if (!half) c11b = Vector512.FusedMultiplyAdd(av, b1, c11b);
            }
            a += rows;
            b += ldb;
        }

        if (half && cols == 16)
        {
            StoreHalf(c, c0a, alpha, beta);
            if (rows > 1) StoreHalf(c + 1 * ldc, c1a, alpha, beta);
            if (rows > 2) StoreHalf(c + 2 * ldc, c2a, alpha, beta);
            if (rows > 3) StoreHalf(c + 3 * ldc, c3a, alpha, beta);
            if (rows > 4) StoreHalf(c + 4 * ldc, c4a, alpha, beta);
            if (rows > 5) StoreHalf(c + 5 * ldc, c5a, alpha, beta);
            if (rows > 6) StoreHalf(c + 6 * ldc, c6a, alpha, beta);
            if (rows > 7) StoreHalf(c + 7 * ldc, c7a, alpha, beta);
            if (rows > 8) StoreHalf(c + 8 * ldc, c8a, alpha, beta);
            if (rows > 9) StoreHalf(c + 9 * ldc, c9a, alpha, beta);
            if (rows > 10) StoreHalf(c + 10 * ldc, c10a, alpha, beta);
            if (rows > 11) StoreHalf(c + 11 * ldc, c11a, alpha, beta);
            return;
        }

        if (cols == 32)
        {
            Store(c, c0a, c0b, alpha, beta);
            if (rows > 1) Store(c + 1 * ldc, c1a, c1b, alpha, beta);
            if (rows > 2) Store(c + 2 * ldc, c2a, c2b, alpha, beta);
            if (rows > 3) Store(c + 3 * ldc, c3a, c3b, alpha, beta);
            if (rows > 4) Store(c + 4 * ldc, c4a, c4b, alpha, beta);
            if (rows > 5) Store(c + 5 * ldc, c5a, c5b, alpha, beta);
            if (rows > 6) Store(c + 6 * ldc, c6a, c6b, alpha, beta);
            if (rows > 7) Store(c + 7 * ldc, c7a, c7b, alpha, beta);
            if (rows > 8) Store(c + 8 * ldc, c8a, c8b, alpha, beta);
            if (rows > 9) Store(c + 9 * ldc, c9a, c9b, alpha, beta);
            if (rows > 10) Store(c + 10 * ldc, c10a, c10b, alpha, beta);
            if (rows > 11) Store(c + 11 * ldc, c11a, c11b, alpha, beta);
            return;
        }

        if (Avx512F.IsSupported)
        {
            // A partial panel: masked stores touch only the valid columns (masked-off lanes never fault).
            Vector512<float> limit = Vector512.Create((float)cols);
            Vector512<float> mLo = Vector512.LessThan(Vector512<float>.Indices, limit);
            Vector512<float> mHi = Vector512.LessThan(Vector512<float>.Indices + Vector512.Create(16f), limit);
            StoreMasked(c, c0a, c0b, mLo, mHi, alpha, beta);
            if (rows > 1) StoreMasked(c + 1 * ldc, c1a, c1b, mLo, mHi, alpha, beta);
            if (rows > 2) StoreMasked(c + 2 * ldc, c2a, c2b, mLo, mHi, alpha, beta);
            if (rows > 3) StoreMasked(c + 3 * ldc, c3a, c3b, mLo, mHi, alpha, beta);
            if (rows > 4) StoreMasked(c + 4 * ldc, c4a, c4b, mLo, mHi, alpha, beta);
            if (rows > 5) StoreMasked(c + 5 * ldc, c5a, c5b, mLo, mHi, alpha, beta);
            if (rows > 6) StoreMasked(c + 6 * ldc, c6a, c6b, mLo, mHi, alpha, beta);
            if (rows > 7) StoreMasked(c + 7 * ldc, c7a, c7b, mLo, mHi, alpha, beta);
            if (rows > 8) StoreMasked(c + 8 * ldc, c8a, c8b, mLo, mHi, alpha, beta);
            if (rows > 9) StoreMasked(c + 9 * ldc, c9a, c9b, mLo, mHi, alpha, beta);
            if (rows > 10) StoreMasked(c + 10 * ldc, c10a, c10b, mLo, mHi, alpha, beta);
            if (rows > 11) StoreMasked(c + 11 * ldc, c11a, c11b, mLo, mHi, alpha, beta);
            return;
        }

        // Without AVX-512 masking: spill the tile and merge only the valid columns, so C is never touched past n.
        float* tile = stackalloc float[384];
        { Vector512.Store(c0a, tile + 0); Vector512.Store(c0b, tile + 16); }
        if (rows > 1) { Vector512.Store(c1a, tile + 32); Vector512.Store(c1b, tile + 48); }
        if (rows > 2) { Vector512.Store(c2a, tile + 64); Vector512.Store(c2b, tile + 80); }
        if (rows > 3) { Vector512.Store(c3a, tile + 96); Vector512.Store(c3b, tile + 112); }
        if (rows > 4) { Vector512.Store(c4a, tile + 128); Vector512.Store(c4b, tile + 144); }
        if (rows > 5) { Vector512.Store(c5a, tile + 160); Vector512.Store(c5b, tile + 176); }
        if (rows > 6) { Vector512.Store(c6a, tile + 192); Vector512.Store(c6b, tile + 208); }
        if (rows > 7) { Vector512.Store(c7a, tile + 224); Vector512.Store(c7b, tile + 240); }
        if (rows > 8) { Vector512.Store(c8a, tile + 256); Vector512.Store(c8b, tile + 272); }
        if (rows > 9) { Vector512.Store(c9a, tile + 288); Vector512.Store(c9b, tile + 304); }
        if (rows > 10) { Vector512.Store(c10a, tile + 320); Vector512.Store(c10b, tile + 336); }
        if (rows > 11) { Vector512.Store(c11a, tile + 352); Vector512.Store(c11b, tile + 368); }
        for (int r = 0; r < rows; r++)
        {
            float* t = tile + r * 32;
            float* cr = c + r * ldc;
            if (beta == 0f)
            {
                for (int j = 0; j < cols; j++) cr[j] = alpha * t[j];
            }
            else
            {
                for (int j = 0; j < cols; j++) cr[j] = alpha * t[j] + beta * cr[j];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreMasked(float* c, Vector512<float> lo, Vector512<float> hi, Vector512<float> mLo, Vector512<float> mHi, float alpha, float beta)
    {
        Vector512<float> va = Vector512.Create(alpha);
        if (beta == 0f)
        {
            Avx512F.MaskStore(c, mLo, lo * va);
            Avx512F.MaskStore(c + 16, mHi, hi * va);
        }
        else
        {
            Vector512<float> vb = Vector512.Create(beta);
            Avx512F.MaskStore(c, mLo, Vector512.FusedMultiplyAdd(lo, va, Avx512F.MaskLoad(c, mLo, Vector512<float>.Zero) * vb));
            Avx512F.MaskStore(c + 16, mHi, Vector512.FusedMultiplyAdd(hi, va, Avx512F.MaskLoad(c + 16, mHi, Vector512<float>.Zero) * vb));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreHalf(float* c, Vector512<float> lo, float alpha, float beta)
    {
        Vector512<float> va = Vector512.Create(alpha);
        if (beta == 0f)
        {
            Vector512.Store(lo * va, c);
        }
        else
        {
            Vector512.Store(Vector512.FusedMultiplyAdd(lo, va, Vector512.Load(c) * Vector512.Create(beta)), c);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> lo, Vector512<float> hi, float alpha, float beta)
    {
        Vector512<float> va = Vector512.Create(alpha);
        if (beta == 0f)
        {
            Vector512.Store(lo * va, c);
            Vector512.Store(hi * va, c + 16);
        }
        else
        {
            Vector512<float> vb = Vector512.Create(beta);
            Vector512.Store(Vector512.FusedMultiplyAdd(lo, va, Vector512.Load(c) * vb), c);
            Vector512.Store(Vector512.FusedMultiplyAdd(hi, va, Vector512.Load(c + 16) * vb), c + 16);
        }
    }
}
