using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dsl.Devices.Cpu.Gemm;

/// <summary>
/// The Vector256 micro-kernel: a T.Rows x 16 tile of C held in 2 x T.Rows registers, updated by one
/// rank-1 product per k step (T.Rows broadcasts of packed A times two 256-bit loads of B).
/// </summary>
internal static unsafe class MicroKernel256
{
    /// <summary>Columns per B panel: two vectors.</summary>
    public const int Nr = 16;

    /// <summary>
    /// C[r, j] = alpha * sum_p a[p * T.Rows + r] * b[p * ldb + j] + beta * C[r, j] for r &lt; T.Rows, j &lt; cols.
    /// <paramref name="a"/> is a packed strip (T.Rows floats per k step); <paramref name="b"/> has 16
    /// readable floats per k step, <paramref name="ldb"/> apart. beta == 0 never reads C.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    public static void Run<T>(float* a, float* b, nint ldb, int kc, float* c, nint ldc, int cols, float alpha, float beta)
        where T : struct, IRowCount
    {
        int rows = T.Rows;
        float* tile = stackalloc float[TileFloats];
        Accumulate<T>(a, b, ldb, kc, tile);
        if (cols == 16)
        {
            Vector256<float> va = Vector256.Create(alpha);
            for (int r = 0; r < rows; r++)
            {
                float* t = tile + r * 16;
                float* cr = c + r * ldc;
                if (beta == 0f)
                {
                    Vector256.Store(Vector256.Load(t) * va, cr);
                    Vector256.Store(Vector256.Load(t + 8) * va, cr + 8);
                }
                else
                {
                    Vector256<float> vb = Vector256.Create(beta);
                    Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(t), va, Vector256.Load(cr) * vb), cr);
                    Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(t + 8), va, Vector256.Load(cr + 8) * vb), cr + 8);
                }
            }
            return;
        }

        // A partial panel: merge only the valid columns, so C is never touched past n.
        for (int r = 0; r < rows; r++)
        {
            float* t = tile + r * 16;
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

    /// <summary>Floats of the tile buffer: up to 12 rows of 16.</summary>
    private const int TileFloats = 192;

    /// <summary>
    /// The k loop alone, writing the T.Rows x 16 sums to <paramref name="tile"/> (row r at r * 16). Kept apart from
    /// alpha, beta and C so that nothing else is live in a vector register during the loop: with alpha and beta as
    /// arguments the JIT held them in two registers across it and spilled an accumulator of the 6-row tile to the
    /// stack on every k step (12 accumulators, 2 B vectors and a broadcast already take 15 of the 16).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void Accumulate<T>(float* a, float* b, nint ldb, int kc, float* tile)
        where T : struct, IRowCount
    {
        int rows = T.Rows;
        Vector256<float> c0a = default, c0b = default;
        Vector256<float> c1a = default, c1b = default;
        Vector256<float> c2a = default, c2b = default;
        Vector256<float> c3a = default, c3b = default;
        Vector256<float> c4a = default, c4b = default;
        Vector256<float> c5a = default, c5b = default;
        Vector256<float> c6a = default, c6b = default;
        Vector256<float> c7a = default, c7b = default;
        Vector256<float> c8a = default, c8b = default;
        Vector256<float> c9a = default, c9b = default;
        Vector256<float> c10a = default, c10b = default;
        Vector256<float> c11a = default, c11b = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b);
            Vector256<float> b1 = Vector256.Load(b + 8);
            Vector256<float> av;
            av = Vector256.Create(a[0]);
            c0a = Vector256.FusedMultiplyAdd(av, b0, c0a);
            c0b = Vector256.FusedMultiplyAdd(av, b1, c0b);
            if (rows > 1)
            {
                av = Vector256.Create(a[1]);
                c1a = Vector256.FusedMultiplyAdd(av, b0, c1a);
                c1b = Vector256.FusedMultiplyAdd(av, b1, c1b);
            }
            if (rows > 2)
            {
                av = Vector256.Create(a[2]);
                c2a = Vector256.FusedMultiplyAdd(av, b0, c2a);
                c2b = Vector256.FusedMultiplyAdd(av, b1, c2b);
            }
            if (rows > 3)
            {
                av = Vector256.Create(a[3]);
                c3a = Vector256.FusedMultiplyAdd(av, b0, c3a);
                c3b = Vector256.FusedMultiplyAdd(av, b1, c3b);
            }
            if (rows > 4)
            {
                av = Vector256.Create(a[4]);
                c4a = Vector256.FusedMultiplyAdd(av, b0, c4a);
                c4b = Vector256.FusedMultiplyAdd(av, b1, c4b);
            }
            if (rows > 5)
            {
                av = Vector256.Create(a[5]);
                c5a = Vector256.FusedMultiplyAdd(av, b0, c5a);
                c5b = Vector256.FusedMultiplyAdd(av, b1, c5b);
            }
            if (rows > 6)
            {
                av = Vector256.Create(a[6]);
                c6a = Vector256.FusedMultiplyAdd(av, b0, c6a);
                c6b = Vector256.FusedMultiplyAdd(av, b1, c6b);
            }
            if (rows > 7)
            {
                av = Vector256.Create(a[7]);
                c7a = Vector256.FusedMultiplyAdd(av, b0, c7a);
                c7b = Vector256.FusedMultiplyAdd(av, b1, c7b);
            }
            if (rows > 8)
            {
                av = Vector256.Create(a[8]);
                c8a = Vector256.FusedMultiplyAdd(av, b0, c8a);
                c8b = Vector256.FusedMultiplyAdd(av, b1, c8b);
            }
            if (rows > 9)
            {
                av = Vector256.Create(a[9]);
                c9a = Vector256.FusedMultiplyAdd(av, b0, c9a);
                c9b = Vector256.FusedMultiplyAdd(av, b1, c9b);
            }
            if (rows > 10)
            {
                av = Vector256.Create(a[10]);
                c10a = Vector256.FusedMultiplyAdd(av, b0, c10a);
                c10b = Vector256.FusedMultiplyAdd(av, b1, c10b);
            }
            if (rows > 11)
            {
                av = Vector256.Create(a[11]);
                c11a = Vector256.FusedMultiplyAdd(av, b0, c11a);
                c11b = Vector256.FusedMultiplyAdd(av, b1, c11b);
            }
            a += rows;
            b += ldb;
        }

        { Vector256.Store(c0a, tile + 0); Vector256.Store(c0b, tile + 8); }
        if (rows > 1) { Vector256.Store(c1a, tile + 16); Vector256.Store(c1b, tile + 24); }
        if (rows > 2) { Vector256.Store(c2a, tile + 32); Vector256.Store(c2b, tile + 40); }
        if (rows > 3) { Vector256.Store(c3a, tile + 48); Vector256.Store(c3b, tile + 56); }
        if (rows > 4) { Vector256.Store(c4a, tile + 64); Vector256.Store(c4b, tile + 72); }
        if (rows > 5) { Vector256.Store(c5a, tile + 80); Vector256.Store(c5b, tile + 88); }
        if (rows > 6) { Vector256.Store(c6a, tile + 96); Vector256.Store(c6b, tile + 104); }
        if (rows > 7) { Vector256.Store(c7a, tile + 112); Vector256.Store(c7b, tile + 120); }
        if (rows > 8) { Vector256.Store(c8a, tile + 128); Vector256.Store(c8b, tile + 136); }
        if (rows > 9) { Vector256.Store(c9a, tile + 144); Vector256.Store(c9b, tile + 152); }
        if (rows > 10) { Vector256.Store(c10a, tile + 160); Vector256.Store(c10b, tile + 168); }
        if (rows > 11) { Vector256.Store(c11a, tile + 176); Vector256.Store(c11b, tile + 184); }
    }
}
