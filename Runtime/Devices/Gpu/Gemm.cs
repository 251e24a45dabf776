using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    /// <summary>Edge of the square tiles each thread group stages in shared memory.</summary>
    internal const int GemmTile = 16;

    public override void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        if (m < 0 || n < 0 || k < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(m), $"{nameof(Gemm)}: negative size m={m}, n={n}, k={k}.");
        }
        RequireLength(a, (long)m * k, nameof(Gemm), "A");
        RequireLength(b, (long)k * n, nameof(Gemm), "B");
        RequireLength(c, (long)m * n, nameof(Gemm), "C");
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
        var grid = new Index2D((n + GemmTile - 1) / GemmTile, (m + GemmTile - 1) / GemmTile);
        var group = new Index2D(GemmTile, GemmTile);
        kernel(new KernelConfig(grid, group), a, b, c, new GemmArgs(m, n, k, alpha, beta, transA ? 1 : 0, transB ? 1 : 0));
    }

    internal readonly record struct GemmArgs(int M, int N, int K, float Alpha, float Beta, int TransA, int TransB);

    /// <summary>
    /// C = alpha op(A) op(B) + beta C, one output per thread, tiles of op(A) and op(B) staged through shared memory
    /// (the classic tiled scheme of the CUDA programming guide). With beta == 0 the old C is never read, so NaNs
    /// in an uninitialised C cannot leak through.
    /// </summary>
    internal static void GemmKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmArgs p)
    {
        var tileA = SharedMemory.Allocate<float>(GemmTile * GemmTile);
        var tileB = SharedMemory.Allocate<float>(GemmTile * GemmTile);
        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int row = Grid.IdxY * GemmTile + ty;
        int col = Grid.IdxX * GemmTile + tx;
        float sum = 0f;
        for (int t0 = 0; t0 < p.K; t0 += GemmTile)
        {
            int ka = t0 + tx;
            float av = 0f;
            if (row < p.M && ka < p.K)
            {
                av = p.TransA != 0 ? a[ka * p.M + row] : a[row * p.K + ka];
            }
            tileA[ty * GemmTile + tx] = av;
            int kb = t0 + ty;
            float bv = 0f;
            if (kb < p.K && col < p.N)
            {
                bv = p.TransB != 0 ? b[col * p.K + kb] : b[kb * p.N + col];
            }
            tileB[ty * GemmTile + tx] = bv;
            Group.Barrier();
            for (int q = 0; q < GemmTile; q++)
            {
                sum += tileA[ty * GemmTile + q] * tileB[q * GemmTile + tx];
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
