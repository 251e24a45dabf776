using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    /// <summary>Outputs each thread computes along each axis: a 4 x 4 block of accumulators held in registers.</summary>
    internal const int GemmRegisterBlock = 4;

    /// <summary>Depth of the k slice staged in shared memory per step.</summary>
    internal const int GemmDepth = 16;

    /// <summary>Largest thread-group edge: 16 x 16 = 256 threads, each with a 4 x 4 block, cover a 64 x 64 tile of C.</summary>
    private const int MaxGemmThreads = 16;

    /// <summary>
    /// The thread-group edge on this accelerator: 16 on GPUs, less where groups are smaller (ILGPU's CPU accelerator
    /// emulates few threads a group).
    /// </summary>
    private int GemmThreads => _gemmThreads ??= Math.Max(1, Math.Min(MaxGemmThreads, (int)Math.Sqrt(Accelerator.MaxNumThreadsPerGroup)));

    private int? _gemmThreads;

    protected override void GemmCore(bool transA, bool transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        GemmViews(transA, transB, m, n, k, alpha, F(a, nameof(Gemm)), F(b, nameof(Gemm)), beta, F(c, nameof(Gemm)));
    }

    protected override void GemmAtCore(bool transA, bool transB, int m, int n, int k, float alpha,
        Tensor a, long offsetA, Tensor b, long offsetB, Tensor c, long offsetC)
    {
        const string op = nameof(BatchedMatMul);
        GemmViews(transA, transB, m, n, k, alpha, F(a, op).SubView(offsetA, (long)m * k), F(b, op).SubView(offsetB, (long)k * n), 0f,
            F(c, op).SubView(offsetC, (long)m * n));
    }

    /// <summary>Most products one strided-batched launch takes (the grid's third dimension on CUDA).</summary>
    private const int MaxGemmBatch = 65535;

    /// <summary>The batched products of <see cref="Device.BatchedMatMul"/> (attention's among them): one launch, the batch the grid's third axis.</summary>
    protected override void GemmStridedCore(bool transA, bool transB, int m, int n, int k, float alpha,
        Tensor a, long strideA, Tensor b, long strideB, Tensor c, long count)
    {
        const string op = nameof(BatchedMatMul);
        var (av, bv, cv) = (F(a, op), F(b, op), F(c, op));
        long sizeC = (long)m * n;
        for (long first = 0; first < count; first += MaxGemmBatch)
        {
            int batch = (int)Math.Min(MaxGemmBatch, count - first);
            GemmViews(transA, transB, m, n, k, alpha, Tail(av, first * strideA), Tail(bv, first * strideB), 0f, Tail(cv, first * sizeC),
                batch, strideA, strideB);
        }
    }

    /// <summary>
    /// GEMM on raw views (convolution calls it on workspaces and weight slices); <paramref name="batch"/> products at once
    /// when A and B step by <paramref name="strideA"/> and <paramref name="strideB"/> (0: shared) and C by m * n.
    /// </summary>
    private void GemmViews(bool transA, bool transB, int m, int n, int k, float alpha,
        ArrayView<float> a, ArrayView<float> b, float beta, ArrayView<float> c, int batch = 1, long strideA = 0, long strideB = 0)
    {
        if (m == 0 || n == 0 || batch == 0)
        {
            return;
        }
        var kernel = Kernel(nameof(GemmKernel), acc => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(GemmKernel));
        int threads = GemmThreads;
        int edge = threads * GemmRegisterBlock;
        var grid = new Index3D((n + edge - 1) / edge, (m + edge - 1) / edge, batch);
        var group = new Index3D(threads, threads, 1);
        var shared = SharedMemoryConfig.RequestDynamic<float>(2 * GemmDepth * (edge + 1));
        kernel(new KernelConfig(grid, group, shared), a, b, c, new GemmArgs(m, n, k, alpha, beta, transA ? 1 : 0, transB ? 1 : 0, edge, strideA, strideB));
    }

    internal readonly record struct GemmArgs(int M, int N, int K, float Alpha, float Beta, int TransA, int TransB, int Tile, long StrideA, long StrideB);

    /// <summary>
    /// C = alpha op(A) op(B) + beta C. A group of T x T threads owns a (4T) x (4T) tile of C; per step it stages a
    /// 16-deep slice of op(A) and op(B) in shared memory (k-major, so the inner loop reads both with unit stride) and
    /// every thread accumulates a 4 x 4 block in registers: 8 shared loads feed 16 FMAs, where the one-output-per-
    /// thread scheme of the CUDA programming guide spends 2 loads per FMA. Each thread's rows and columns are strided
    /// by T, so the threads of a warp touch consecutive columns when loading B and storing C. Loads read global
    /// memory along its contiguous axis for all four transpose cases. With beta == 0 the old C is never read, so NaNs
    /// in an uninitialised C cannot leak through. A strided batch of products runs as one launch, the product indexed
    /// by the grid's third axis.
    /// </summary>
    internal static void GemmKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmArgs p)
    {
        // The product of a strided batch this group works on (the grid's third axis; 0 for a single GEMM).
        long z = Grid.IdxZ;
        a = Tail(a, z * p.StrideA);
        b = Tail(b, z * p.StrideB);
        c = Tail(c, z * p.M * p.N);
        const int depth = GemmDepth;
        int edge = p.Tile;
        // Rows of the staged tiles are padded by one float: a warp storing 16 consecutive k of one row of A (or of B
        // transposed) then hits 16 different banks instead of one bank 16 times.
        int pitch = edge + 1;
        int threads = Group.DimX;
        var shared = SharedMemory.GetDynamic<float>();
        var tileA = shared.SubView(0, depth * pitch);
        var tileB = shared.SubView(depth * pitch, depth * pitch);
        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int tid = ty * threads + tx;
        int groupSize = threads * Group.DimY;
        int row0 = Grid.IdxY * edge;
        int col0 = Grid.IdxX * edge;
        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;
        for (int k0 = 0; k0 < p.K; k0 += depth)
        {
            for (int l = tid; l < depth * edge; l += groupSize)
            {
                // op(A) tile element (r, kk) -> tileA[kk * pitch + r], read along A's contiguous axis.
                int r, kk;
                if (p.TransA != 0)
                {
                    kk = l / edge;
                    r = l - kk * edge;
                }
                else
                {
                    r = l / depth;
                    kk = l - r * depth;
                }
                int row = row0 + r;
                int ka = k0 + kk;
                float av = 0f;
                if (row < p.M && ka < p.K)
                {
                    av = p.TransA != 0 ? a[ka * p.M + row] : a[row * p.K + ka];
                }
                tileA[kk * pitch + r] = av;

                // op(B) tile element (kk, q) -> tileB[kk * pitch + q].
                int q;
                if (p.TransB != 0)
                {
                    q = l / depth;
                    kk = l - q * depth;
                }
                else
                {
                    kk = l / edge;
                    q = l - kk * edge;
                }
                int col = col0 + q;
                int kb = k0 + kk;
                float bv = 0f;
                if (kb < p.K && col < p.N)
                {
                    bv = p.TransB != 0 ? b[col * p.K + kb] : b[kb * p.N + col];
                }
                tileB[kk * pitch + q] = bv;
            }
            Group.Barrier();
            for (int kk = 0; kk < depth; kk++)
            {
                int ra = kk * pitch + ty;
                float a0 = tileA[ra];
                float a1 = tileA[ra + threads];
                float a2 = tileA[ra + 2 * threads];
                float a3 = tileA[ra + 3 * threads];
                int rb = kk * pitch + tx;
                float b0 = tileB[rb];
                float b1 = tileB[rb + threads];
                float b2 = tileB[rb + 2 * threads];
                float b3 = tileB[rb + 3 * threads];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }
        int r0 = row0 + ty;
        int q0 = col0 + tx;
        StoreRow(c, p, r0, q0, threads, c00, c01, c02, c03);
        StoreRow(c, p, r0 + threads, q0, threads, c10, c11, c12, c13);
        StoreRow(c, p, r0 + 2 * threads, q0, threads, c20, c21, c22, c23);
        StoreRow(c, p, r0 + 3 * threads, q0, threads, c30, c31, c32, c33);
    }

    /// <summary>The view from <paramref name="offset"/> to its end.</summary>
    private static ArrayView<float> Tail(ArrayView<float> view, long offset) => view.SubView(offset, view.Length - offset);

    /// <summary>Writes one row of a thread's 4 x 4 block: columns <paramref name="col"/> + j * <paramref name="step"/>.</summary>
    private static void StoreRow(ArrayView<float> c, GemmArgs p, int row, int col, int step, float v0, float v1, float v2, float v3)
    {
        if (row >= p.M)
        {
            return;
        }
        Store(c, p, row, col, v0);
        Store(c, p, row, col + step, v1);
        Store(c, p, row, col + 2 * step, v2);
        Store(c, p, row, col + 3 * step, v3);
    }

    private static void Store(ArrayView<float> c, GemmArgs p, int row, int col, float sum)
    {
        if (col < p.N)
        {
            int at = row * p.N + col;
            c[at] = p.Beta == 0f ? p.Alpha * sum : p.Alpha * sum + p.Beta * c[at];
        }
    }
}
