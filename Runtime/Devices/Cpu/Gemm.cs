namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void GemmCore(bool transA, bool transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        CpuGemm.Multiply(transA, transB, m, n, k, alpha, F(a), F(b), beta, F(c), Threads);
    }

    protected override void GemmAtCore(bool transA, bool transB, int m, int n, int k, float alpha,
        Tensor a, long offsetA, Tensor b, long offsetB, Tensor c, long offsetC)
    {
        CpuGemm.Multiply(transA, transB, m, n, k, alpha,
            F(a).Slice(checked((int)offsetA), m * k), F(b).Slice(checked((int)offsetB), k * n), 0f, F(c).Slice(checked((int)offsetC), m * n), Threads);
    }
}
