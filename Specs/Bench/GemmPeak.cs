using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Specs.Bench;

/// <summary>
/// The FP32 peak the GEMM kernels in use can reach on this host, measured at start-up rather than assumed: twelve
/// independent FMA chains of the kernel's vector width (512-bit where <c>Vector512</c> is accelerated, as the GEMM's
/// kernel choice; 256-bit otherwise) run for a short while on each of the given number of threads at once. A hard-coded
/// AVX-512 figure overstates the peak twofold on an AVX2 host, and two vCPUs that share a core do not double it.
/// </summary>
public static class GemmPeak
{
    private const int Chains = 12;
    private const int Steps = 1 << 18;
    private static readonly Dictionary<int, double> s_measured = new();

    /// <summary>The vector width, in bits, of the FMAs the GEMM kernels use here (0: the scalar kernel).</summary>
    public static int VectorBits =>
        Vector512.IsHardwareAccelerated ? 512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? 256
        : 0;

    /// <summary>One line for a benchmark's header: what the peak is and how it was found.</summary>
    public static string Describe(int threads)
        => VectorBits == 0
            ? "peak: n/a (no FMA vectors; the scalar kernel)"
            : FormattableString.Invariant($"peak {Gflops(threads):0} GFLOP/s on {threads} thread(s), measured at start-up ({Chains} independent {VectorBits}-bit FMA chains per thread, the GEMM kernel's width)");

    /// <summary>Measured GFLOP/s of <paramref name="threads"/> threads running FMA chains at once (NaN without FMA vectors); cached.</summary>
    public static double Gflops(int threads)
    {
        if (VectorBits == 0)
        {
            return double.NaN;
        }
        lock (s_measured)
        {
            if (!s_measured.TryGetValue(threads, out double value))
            {
                value = Measure(threads);
                s_measured[threads] = value;
            }
            return value;
        }
    }

    private static double Measure(int threads)
    {
        // Warm up (tier-1 JIT), then the best of a few rounds: a descheduled round only lowers the figure.
        Loop(1 << 10);
        double best = 0;
        for (int round = 0; round < 5; round++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => Loop(Steps));
            double seconds = clock.Elapsed.TotalSeconds;
            double flops = 2.0 * Chains * (VectorBits / 32) * (double)Steps * threads;
            best = Math.Max(best, flops / seconds / 1e9);
        }
        return best;
    }

    /// <summary>Twelve independent FMA chains of <paramref name="steps"/> steps (its own method, so nothing else is live across the loop).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Loop(int steps) => VectorBits == 512 ? Loop512(steps) : Loop256(steps);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Loop256(int steps)
    {
        var m = Vector256.Create(0.999f);
        var a = Vector256.Create(1e-3f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < steps; i++)
        {
            c0 = Fma.MultiplyAdd(c0, m, a); c1 = Fma.MultiplyAdd(c1, m, a); c2 = Fma.MultiplyAdd(c2, m, a); c3 = Fma.MultiplyAdd(c3, m, a);
            c4 = Fma.MultiplyAdd(c4, m, a); c5 = Fma.MultiplyAdd(c5, m, a); c6 = Fma.MultiplyAdd(c6, m, a); c7 = Fma.MultiplyAdd(c7, m, a);
            c8 = Fma.MultiplyAdd(c8, m, a); c9 = Fma.MultiplyAdd(c9, m, a); c10 = Fma.MultiplyAdd(c10, m, a); c11 = Fma.MultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Loop512(int steps)
    {
        var m = Vector512.Create(0.999f);
        var a = Vector512.Create(1e-3f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < steps; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, m, a); c1 = Avx512F.FusedMultiplyAdd(c1, m, a); c2 = Avx512F.FusedMultiplyAdd(c2, m, a);
            c3 = Avx512F.FusedMultiplyAdd(c3, m, a); c4 = Avx512F.FusedMultiplyAdd(c4, m, a); c5 = Avx512F.FusedMultiplyAdd(c5, m, a);
            c6 = Avx512F.FusedMultiplyAdd(c6, m, a); c7 = Avx512F.FusedMultiplyAdd(c7, m, a); c8 = Avx512F.FusedMultiplyAdd(c8, m, a);
            c9 = Avx512F.FusedMultiplyAdd(c9, m, a); c10 = Avx512F.FusedMultiplyAdd(c10, m, a); c11 = Avx512F.FusedMultiplyAdd(c11, m, a);
        }
        return Vector512.Sum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
    }
}
