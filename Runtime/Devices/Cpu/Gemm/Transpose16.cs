using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dsl.Devices.Cpu.Gemm;

/// <summary>
/// A 16 x 16 single-precision transpose in AVX-512 registers (unpack 32-bit, unpack 64-bit, two rounds of
/// 128-bit lane shuffles: 64 shuffles for 256 floats), used by the packing routines to turn rows that run
/// along k into the k-major layout the micro-kernel reads, instead of one strided scalar store per float.
/// </summary>
internal static unsafe class Transpose16
{
    /// <summary>
    /// Reads <paramref name="rows"/> rows of <paramref name="len"/> floats (rows <paramref name="lds"/> apart;
    /// missing rows and columns read as zero) and writes column e (e &lt; len) as 16 floats at
    /// dst + e * <paramref name="ldd"/>; with <paramref name="store"/> masked only its set lanes are written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block(float* src, nint lds, int rows, int len, float* dst, nint ldd, Vector512<float> store, bool masked)
    {
        Vector512<float> kMask = Vector512.LessThan(Vector512<float>.Indices, Vector512.Create((float)len));
        bool full = len == 16;
        Vector512<float> r0 = Row(src, 0, lds, rows, full, kMask), r1 = Row(src, 1, lds, rows, full, kMask);
        Vector512<float> r2 = Row(src, 2, lds, rows, full, kMask), r3 = Row(src, 3, lds, rows, full, kMask);
        Vector512<float> r4 = Row(src, 4, lds, rows, full, kMask), r5 = Row(src, 5, lds, rows, full, kMask);
        Vector512<float> r6 = Row(src, 6, lds, rows, full, kMask), r7 = Row(src, 7, lds, rows, full, kMask);
        Vector512<float> r8 = Row(src, 8, lds, rows, full, kMask), r9 = Row(src, 9, lds, rows, full, kMask);
        Vector512<float> r10 = Row(src, 10, lds, rows, full, kMask), r11 = Row(src, 11, lds, rows, full, kMask);
        Vector512<float> r12 = Row(src, 12, lds, rows, full, kMask), r13 = Row(src, 13, lds, rows, full, kMask);
        Vector512<float> r14 = Row(src, 14, lds, rows, full, kMask), r15 = Row(src, 15, lds, rows, full, kMask);

        // Per 128-bit lane l: t(2i) = [ri[4l], ri+1[4l], ri[4l+1], ri+1[4l+1]], t(2i+1) the same for 4l+2, 4l+3.
        Vector512<double> t0 = Avx512F.UnpackLow(r0, r1).AsDouble(), t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
        Vector512<double> t2 = Avx512F.UnpackLow(r2, r3).AsDouble(), t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        Vector512<double> t4 = Avx512F.UnpackLow(r4, r5).AsDouble(), t5 = Avx512F.UnpackHigh(r4, r5).AsDouble();
        Vector512<double> t6 = Avx512F.UnpackLow(r6, r7).AsDouble(), t7 = Avx512F.UnpackHigh(r6, r7).AsDouble();
        Vector512<double> t8 = Avx512F.UnpackLow(r8, r9).AsDouble(), t9 = Avx512F.UnpackHigh(r8, r9).AsDouble();
        Vector512<double> t10 = Avx512F.UnpackLow(r10, r11).AsDouble(), t11 = Avx512F.UnpackHigh(r10, r11).AsDouble();
        Vector512<double> t12 = Avx512F.UnpackLow(r12, r13).AsDouble(), t13 = Avx512F.UnpackHigh(r12, r13).AsDouble();
        Vector512<double> t14 = Avx512F.UnpackLow(r14, r15).AsDouble(), t15 = Avx512F.UnpackHigh(r14, r15).AsDouble();

        // u(4g + j), lane l: element 4l + j of rows 4g .. 4g + 3.
        Vector512<float> u0 = Avx512F.UnpackLow(t0, t2).AsSingle(), u1 = Avx512F.UnpackHigh(t0, t2).AsSingle();
        Vector512<float> u2 = Avx512F.UnpackLow(t1, t3).AsSingle(), u3 = Avx512F.UnpackHigh(t1, t3).AsSingle();
        Vector512<float> u4 = Avx512F.UnpackLow(t4, t6).AsSingle(), u5 = Avx512F.UnpackHigh(t4, t6).AsSingle();
        Vector512<float> u6 = Avx512F.UnpackLow(t5, t7).AsSingle(), u7 = Avx512F.UnpackHigh(t5, t7).AsSingle();
        Vector512<float> u8 = Avx512F.UnpackLow(t8, t10).AsSingle(), u9 = Avx512F.UnpackHigh(t8, t10).AsSingle();
        Vector512<float> u10 = Avx512F.UnpackLow(t9, t11).AsSingle(), u11 = Avx512F.UnpackHigh(t9, t11).AsSingle();
        Vector512<float> u12 = Avx512F.UnpackLow(t12, t14).AsSingle(), u13 = Avx512F.UnpackHigh(t12, t14).AsSingle();
        Vector512<float> u14 = Avx512F.UnpackLow(t13, t15).AsSingle(), u15 = Avx512F.UnpackHigh(t13, t15).AsSingle();

        Columns(u0, u4, u8, u12, 0, len, dst, ldd, store, masked);
        Columns(u1, u5, u9, u13, 1, len, dst, ldd, store, masked);
        Columns(u2, u6, u10, u14, 2, len, dst, ldd, store, masked);
        Columns(u3, u7, u11, u15, 3, len, dst, ldd, store, masked);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row(float* src, int i, nint lds, int rows, bool full, Vector512<float> kMask)
    {
        if (i >= rows) return Vector512<float>.Zero;
        float* p = src + i * lds;
        return full ? Vector512.Load(p) : Avx512F.MaskLoad(p, kMask, Vector512<float>.Zero);
    }

    /// <summary>Columns j, j + 4, j + 8, j + 12 from the four u vectors that hold element 4l + j of each row group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, int j, int len,
        float* dst, nint ldd, Vector512<float> store, bool masked)
    {
        Vector512<float> v = Avx512F.Shuffle4x128(a, b, 0x88), x = Avx512F.Shuffle4x128(a, b, 0xDD);
        Vector512<float> w = Avx512F.Shuffle4x128(c, d, 0x88), y = Avx512F.Shuffle4x128(c, d, 0xDD);
        Put(Avx512F.Shuffle4x128(v, w, 0x88), j, len, dst, ldd, store, masked);
        Put(Avx512F.Shuffle4x128(x, y, 0x88), j + 4, len, dst, ldd, store, masked);
        Put(Avx512F.Shuffle4x128(v, w, 0xDD), j + 8, len, dst, ldd, store, masked);
        Put(Avx512F.Shuffle4x128(x, y, 0xDD), j + 12, len, dst, ldd, store, masked);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector512<float> column, int e, int len, float* dst, nint ldd, Vector512<float> store, bool masked)
    {
        if (e >= len) return;
        float* p = dst + e * ldd;
        if (masked) Avx512F.MaskStore(p, store, column);
        else Vector512.Store(column, p);
    }
}
