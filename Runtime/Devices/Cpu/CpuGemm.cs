using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu;

/// <summary>
/// Single-precision GEMM on row-major, densely packed spans:
/// C[m,n] = alpha * op(A) * op(B) + beta * C, op(A) = A[m,k] or A[k,m]^T, op(B) = B[k,n] or B[n,k]^T.
/// </summary>
/// <remarks>
/// Two paths: A * B^T with a long shared dimension and a small output goes to register-blocked dot
/// products (<see cref="DotGemm"/>); everything else to the packed GotoBLAS-style loop nest
/// (<see cref="PackedGemm"/>) with 512-bit, 256-bit or scalar micro-kernels chosen from the hardware.
/// Work is split over threads by blocks of C's columns or rows; small products run inline.
/// </remarks>
public static class CpuGemm
{
    /// <summary>
    /// The fewest multiply-adds a part of a split product gets (2^21, ~20-40 microseconds of one core's packed GEMM):
    /// below it a second thread costs more than it saves. A part handed to the other core pays the fork, packs its
    /// own copy of the shared operand (all of A when split by columns, all of B when split by rows), and leaves its
    /// share of C in the other core's cache for the next kernel. So a batch-64 MLP's 2-million multiply-add layers
    /// (64 x 128 x 256) stay on one thread and only its 13-million ones (64 x 256 x 784) are halved.
    /// </summary>
    internal const long MinPartWork = 1L << 21;

    /// <summary>How many parts a product of <paramref name="work"/> multiply-adds is split into: each gets at least <see cref="MinPartWork"/>.</summary>
    internal static int PartsFor(long work, int threads) => (int)Math.Clamp(work / MinPartWork, 1, Math.Max(1, threads));

    private static readonly GemmKernel s_detected = PackedGemm.Detect();

    /// <summary>Forces a kernel kind on the calling thread (tests exercise every fallback on one machine); null = detect.</summary>
    [ThreadStatic] internal static GemmKernel? KernelOverride;

    /// <summary>The kernel kind products on the calling thread use.</summary>
    internal static GemmKernel CurrentKernel => KernelOverride ?? s_detected;

    /// <summary>Computes C = alpha * op(A) * op(B) + beta * C. With beta == 0, C's old contents are ignored (NaN included).</summary>
    /// <param name="transA">A is stored [k, m] rather than [m, k].</param>
    /// <param name="transB">B is stored [n, k] rather than [k, n].</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">The shared dimension.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A, m * k floats.</param>
    /// <param name="b">B, k * n floats.</param>
    /// <param name="beta">Scale of C's old contents.</param>
    /// <param name="c">C, m * n floats, overwritten.</param>
    /// <param name="threads">Threads to split the work over.</param>
    public static unsafe void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c, int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (a.Length < (long)m * k) throw new ArgumentException($"A holds {a.Length} floats; {m}x{k} needs {(long)m * k}.", nameof(a));
        if (b.Length < (long)k * n) throw new ArgumentException($"B holds {b.Length} floats; {k}x{n} needs {(long)k * n}.", nameof(b));
        if (c.Length < (long)m * n) throw new ArgumentException($"C holds {c.Length} floats; {m}x{n} needs {(long)m * n}.", nameof(c));
        if (m == 0 || n == 0)
        {
            return;
        }
        Span<float> cView = c[..(m * n)];
        if (k == 0 || alpha == 0f)
        {
            if (beta == 0f) cView.Clear();
            else if (beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(cView, beta, cView);
            return;
        }

        GemmKernel kind = KernelOverride ?? s_detected;
        long work = (long)m * n * k;
        int parts = PartsFor(work, threads);
        bool dot = kind == GemmKernel.Vector512 && UseDot(transA, transB, m, n, k);

        fixed (float* pa = a, pb = b, pc = c)
        {
            if (dot)
            {
                SplitDot(m, n, k, alpha, pa, pb, beta, pc, parts);
            }
            else
            {
                SplitPacked(kind, transA, transB, m, n, k, alpha, pa, pb, beta, pc, parts);
            }
        }
    }

    /// <summary>
    /// A * B^T with both operands read along k in place: worth it only while the output is tiny against
    /// the shared dimension (m * n &lt;= 2 k: the convolution weight gradients), where each dot product is
    /// long enough to hide its horizontal sum. Since B^T is packed with register transposes, the packed
    /// path wins on the Linear shapes (fc1 forward 102 -> 160 GFLOP/s on one thread when it left this path).
    /// </summary>
    internal static bool UseDot(bool transA, bool transB, int m, int n, int k) =>
        !transA && transB && k >= 32 && (long)m * n <= 2L * k;

    private static unsafe void SplitDot(int m, int n, int k, float alpha, float* a, float* b, float beta, float* c, int parts)
    {
        int blocksI = (m + DotGemm.BlockA - 1) / DotGemm.BlockA;
        int blocksJ = (n + DotGemm.BlockB - 1) / DotGemm.BlockB;
        bool overJ = blocksJ >= blocksI;
        int blocks = overJ ? blocksJ : blocksI;
        parts = Math.Min(parts, blocks);
        if (parts <= 1)
        {
            DotGemm.Run(m, n, k, alpha, a, b, beta, c, 0, m, 0, n);
            return;
        }
        var job = new DotJob { M = m, N = n, K = k, Alpha = alpha, A = a, B = b, Beta = beta, C = c, Blocks = blocks, OverJ = overJ, Parts = parts };
        ForkJoin.Run(parts, parts, ref job);
    }

    private unsafe struct DotJob : IRangeJob
    {
        public int M, N, K, Blocks, Parts;
        public float Alpha, Beta;
        public float* A, B, C;
        public bool OverJ;

        public readonly void Run(int start, int end)
        {
            for (int t = start; t < end; t++)
            {
                int lo = (int)((long)Blocks * t / Parts), hi = (int)((long)Blocks * (t + 1) / Parts);
                if (OverJ)
                {
                    DotGemm.Run(M, N, K, Alpha, A, B, Beta, C, 0, M, lo * DotGemm.BlockB, Math.Min(N, hi * DotGemm.BlockB));
                }
                else
                {
                    DotGemm.Run(M, N, K, Alpha, A, B, Beta, C, lo * DotGemm.BlockA, Math.Min(M, hi * DotGemm.BlockA), 0, N);
                }
            }
        }
    }

    /// <summary>
    /// Whether a split packed product divides C's columns between the threads (else its rows). In general where there are
    /// more whole tiles: columns keep each thread's B panels private, rows keep A strips private; either way no two threads
    /// write the same element of C. But a product that adds onto C (<paramref name="beta"/> != 0: a parameter's gradient)
    /// splits by rows while there is a strip per part, so that each thread reads and writes one contiguous range of C, as
    /// the element-wise kernels around it split the tensor (the zeroing before, the optimiser's update after; the caller
    /// claims the first part of most forks, so a range mostly stays on one core): on the two-core reference machine data
    /// written by one core and read by the other is dear. Measured in blocks of 100 batch-64 MLP training steps alternating
    /// one and two threads in one process (medians over blocks while the machine was otherwise idle): its fc1 weight
    /// gradient (256 x 784 x 64: 25 panels, 22 strips) split by columns made the two-thread backward pass slower than one
    /// thread's (0.78x); by rows 1.0x, and 1.2x with the zeroing split alike (<see cref="CpuDevice"/>'s Fill), the
    /// training step 0.93x -> 1.19x.
    /// </summary>
    internal static bool SplitsColumns(int panels, int strips, float beta, int parts) =>
        (beta == 0f || strips < parts) && panels >= strips;

    private static unsafe void SplitPacked(GemmKernel kind, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, float* b, float beta, float* c, int parts)
    {
        int mr = PackedGemm.Mr(kind), nr = PackedGemm.Nr(kind);
        int panels = (n + nr - 1) / nr;
        int strips = (m + mr - 1) / mr;
        bool overN = SplitsColumns(panels, strips, beta, parts);
        int units = overN ? panels : strips;
        parts = Math.Min(parts, units);
        if (parts <= 1)
        {
            PackedGemm.Run(kind, transA, transB, m, n, k, alpha, a, b, beta, c, 0, m, 0, n);
            return;
        }
        var job = new PackedJob
        {
            Kind = kind, TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, A = a, B = b, Beta = beta, C = c,
            Units = units, OverN = overN, Parts = parts, Mr = mr, Nr = nr,
        };
        ForkJoin.Run(parts, parts, ref job);
    }

    private unsafe struct PackedJob : IRangeJob
    {
        public GemmKernel Kind;
        public bool TransA, TransB, OverN;
        public int M, N, K, Units, Parts, Mr, Nr;
        public float Alpha, Beta;
        public float* A, B, C;

        public readonly void Run(int start, int end)
        {
            for (int t = start; t < end; t++)
            {
                int lo = (int)((long)Units * t / Parts), hi = (int)((long)Units * (t + 1) / Parts);
                if (OverN)
                {
                    PackedGemm.Run(Kind, TransA, TransB, M, N, K, Alpha, A, B, Beta, C, 0, M, lo * Nr, Math.Min(N, hi * Nr));
                }
                else
                {
                    PackedGemm.Run(Kind, TransA, TransB, M, N, K, Alpha, A, B, Beta, C, lo * Mr, Math.Min(M, hi * Mr), 0, N);
                }
            }
        }
    }
}
