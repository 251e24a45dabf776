using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    /// <summary>Largest edge of the square tiles each thread group stages in shared memory.</summary>
    private const int MaxGemmTile = 16;

    /// <summary>
    /// The tile edge on this accelerator: 16 (256 threads a group) on GPUs, less where groups are smaller
    /// (ILGPU's CPU accelerator emulates 16 threads a group, so 4).
    /// </summary>
    private int GemmTile => _gemmTile ??= Math.Max(1, Math.Min(MaxGemmTile, (int)Math.Sqrt(Accelerator.MaxNumThreadsPerGroup)));

    private int? _gemmTile;

    protected override void GemmCore(bool transA, bool transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        GemmViews(transA, transB, m, n, k, alpha, F(a, nameof(Gemm)), F(b, nameof(Gemm)), beta, F(c, nameof(Gemm)));
    }

    /// <summary>GEMM on raw views (convolution calls it on workspaces and weight slices).</summary>
    private void GemmViews(bool transA, bool transB, int m, int n, int k, float alpha,
        ArrayView<float> a, ArrayView<float> b, float beta, ArrayView<float> c)
    {
        if (m == 0 || n == 0)
        {
            return;
        }
        var kernel = Kernel(nameof(GemmKernel), acc => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(GemmKernel));
        int tile = GemmTile;
        var grid = new Index2D((n + tile - 1) / tile, (m + tile - 1) / tile);
        var group = new Index2D(tile, tile);
        var shared = SharedMemoryConfig.RequestDynamic<float>(2 * tile * tile);
        kernel(new KernelConfig(grid, group, shared), a, b, c, new GemmArgs(m, n, k, alpha, beta, transA ? 1 : 0, transB ? 1 : 0, tile));
    }

    internal readonly record struct GemmArgs(int M, int N, int K, float Alpha, float Beta, int TransA, int TransB, int Tile);

    /// <summary>
    /// C = alpha op(A) op(B) + beta C, one output per thread, tiles of op(A) and op(B) staged through shared memory
    /// (the classic tiled scheme of the CUDA programming guide). With beta == 0 the old C is never read, so NaNs
    /// in an uninitialised C cannot leak through.
    /// </summary>
    internal static void GemmKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmArgs p)
    {
        // Dynamic shared memory, so the tile edge can follow the accelerator's group size.
        int tile = p.Tile;
        var shared = SharedMemory.GetDynamic<float>();
        var tileA = shared.SubView(0, tile * tile);
        var tileB = shared.SubView(tile * tile, tile * tile);
        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int row = Grid.IdxY * tile + ty;
        int col = Grid.IdxX * tile + tx;
        float sum = 0f;
        for (int t0 = 0; t0 < p.K; t0 += tile)
        {
            int ka = t0 + tx;
            float av = 0f;
            if (row < p.M && ka < p.K)
            {
                av = p.TransA != 0 ? a[ka * p.M + row] : a[row * p.K + ka];
            }
            tileA[ty * tile + tx] = av;
            int kb = t0 + ty;
            float bv = 0f;
            if (kb < p.K && col < p.N)
            {
                bv = p.TransB != 0 ? b[col * p.K + kb] : b[kb * p.N + col];
            }
            tileB[ty * tile + tx] = bv;
            Group.Barrier();
            for (int q = 0; q < tile; q++)
            {
                sum += tileA[ty * tile + q] * tileB[q * tile + tx];
            }
            Group.Barrier();
        }
        if (row < p.M && col < p.N)
        {
            int at = row * p.N + col;
            c[at] = p.Beta == 0f ? p.Alpha * sum : p.Alpha * sum + p.Beta * c[at];
        }
    }
}
