namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void GemmCore(bool transA, bool transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        CpuGemm.Multiply(transA, transB, m, n, k, alpha, F(a), F(b), beta, F(c), Threads);
    }
}
