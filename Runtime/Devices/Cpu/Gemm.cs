namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    public override void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        RequireLength(a, (long)m * k, nameof(Gemm), "A");
        RequireLength(b, (long)k * n, nameof(Gemm), "B");
        RequireLength(c, (long)m * n, nameof(Gemm), "C");
        CpuGemm.Multiply(transA, transB, m, n, k, alpha, F(a), F(b), beta, F(c), Threads);
    }
}
