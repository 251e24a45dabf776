using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dsl.Devices.Cpu.Gemm;

/// <summary>
/// An 8 x 8 single-precision transpose in AVX registers (unpack 32-bit, shuffle 64-bit pairs, swap 128-bit halves:
/// 24 shuffles for 64 floats), the 256-bit counterpart of <see cref="Transpose16"/>: the packing routines use it to
/// turn rows that run along k (A of a weight gradient dY col^T, and B^T) into the k-major layout the micro-kernel
/// reads, instead of one strided scalar store per float.
/// </summary>
internal static unsafe class Transpose8
{
    /// <summary>
    /// Reads <paramref name="rows"/> rows of <paramref name="len"/> floats (rows <paramref name="lds"/> apart;
    /// missing rows and columns read as zero) and writes column e (e &lt; len) as 8 floats at
    /// dst + e * <paramref name="ldd"/>; with <paramref name="masked"/> only the set lanes of <paramref name="store"/> are written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block(float* src, nint lds, int rows, int len, float* dst, nint ldd, Vector256<float> store, bool masked)
    {
        Vector256<float> kMask = Vector256.LessThan(Vector256<float>.Indices, Vector256.Create((float)len));
        bool full = len == 8;
        Vector256<float> r0 = Row(src, 0, lds, rows, full, kMask), r1 = Row(src, 1, lds, rows, full, kMask);
        Vector256<float> r2 = Row(src, 2, lds, rows, full, kMask), r3 = Row(src, 3, lds, rows, full, kMask);
        Vector256<float> r4 = Row(src, 4, lds, rows, full, kMask), r5 = Row(src, 5, lds, rows, full, kMask);
        Vector256<float> r6 = Row(src, 6, lds, rows, full, kMask), r7 = Row(src, 7, lds, rows, full, kMask);

        // Per 128-bit half h: t(2i) = [ri[4h], ri+1[4h], ri[4h+1], ri+1[4h+1]], t(2i+1) the same for 4h+2, 4h+3.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);

        // u(4g + j), half h: element 4h + j of rows 4g .. 4g + 3.
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);

        Put(Avx.Permute2x128(u0, u4, 0x20), 0, len, dst, ldd, store, masked);
        Put(Avx.Permute2x128(u1, u5, 0x20), 1, len, dst, ldd, store, masked);
        Put(Avx.Permute2x128(u2, u6, 0x20), 2, len, dst, ldd, store, masked);
        Put(Avx.Permute2x128(u3, u7, 0x20), 3, len, dst, ldd, store, masked);
        Put(Avx.Permute2x128(u0, u4, 0x31), 4, len, dst, ldd, store, masked);
        Put(Avx.Permute2x128(u1, u5, 0x31), 5, len, dst, ldd, store, masked);
        Put(Avx.Permute2x128(u2, u6, 0x31), 6, len, dst, ldd, store, masked);
        Put(Avx.Permute2x128(u3, u7, 0x31), 7, len, dst, ldd, store, masked);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row(float* src, int i, nint lds, int rows, bool full, Vector256<float> kMask)
    {
        if (i >= rows) return Vector256<float>.Zero;
        float* p = src + i * lds;
        return full ? Vector256.Load(p) : Avx.MaskLoad(p, kMask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector256<float> column, int e, int len, float* dst, nint ldd, Vector256<float> store, bool masked)
    {
        if (e >= len) return;
        float* p = dst + e * ldd;
        if (masked) Avx.MaskStore(p, store, column);
        else Vector256.Store(column, p);
    }
}
