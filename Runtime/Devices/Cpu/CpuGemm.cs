namespace Dsl.Devices.Cpu;

/// <summary>
/// Single-precision GEMM on row-major, densely packed spans:
/// C[m,n] = alpha * op(A) * op(B) + beta * C, op(A) = A[m,k] or A[k,m]^T, op(B) = B[k,n] or B[n,k]^T.
/// </summary>
public static class CpuGemm
{
    /// <summary>Reference triple loop; replaced by the packed, register-blocked kernels.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c, int threads = 1)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0f;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * m + i] : a[i * k + p];
                    float bv = transB ? b[j * k + p] : b[p * n + j];
                    sum += av * bv;
                }
                c[i * n + j] = beta == 0f ? alpha * sum : alpha * sum + beta * c[i * n + j];
            }
        }
    }
}
