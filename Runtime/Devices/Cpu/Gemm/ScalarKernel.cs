namespace Dsl.Devices.Cpu.Gemm;

/// <summary>
/// The micro-kernel for machines without hardware vectors: same packed layout as the vector
/// kernels (a strip of <c>rows</c> floats and a panel of <see cref="Nr"/> floats per k step), plain loops.
/// </summary>
internal static unsafe class ScalarKernel
{
    /// <summary>Columns per B panel.</summary>
    public const int Nr = 16;

    /// <summary>C[r, j] = alpha * sum_p a[p * rows + r] * b[p * ldb + j] + beta * C[r, j]; beta == 0 never reads C.</summary>
    public static void Run(int rows, float* a, float* b, nint ldb, int kc, float* c, nint ldc, int cols, float alpha, float beta)
    {
        float* tile = stackalloc float[rows * Nr];
        new Span<float>(tile, rows * Nr).Clear();
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < rows; r++)
            {
                float av = a[r];
                float* t = tile + r * Nr;
                for (int j = 0; j < cols; j++)
                {
                    t[j] += av * b[j];
                }
            }
            a += rows;
            b += ldb;
        }
        for (int r = 0; r < rows; r++)
        {
            float* t = tile + r * Nr;
            float* cr = c + r * ldc;
            for (int j = 0; j < cols; j++)
            {
                cr[j] = beta == 0f ? alpha * t[j] : alpha * t[j] + beta * cr[j];
            }
        }
    }
}
