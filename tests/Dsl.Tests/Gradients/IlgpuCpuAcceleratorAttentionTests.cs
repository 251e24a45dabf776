using Dsl.Tests.Fixtures;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Gradients;

/// <summary><see cref="AttentionTests"/> on the ILGPU CPU accelerator (every shape there is tiny).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorAttentionTests(IlgpuCpuAcceleratorFixture fixture) : AttentionTests
{
    protected override Device Target => fixture.Device;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fused_attention_agrees_with_the_cpu_backend(bool causal)
    {
        const int n = 2, heads = 2, t = 5, s = 6, d = 4, dv = 3, b = n * heads;
        var rng = new Random(causal ? 41 : 40);
        float[] q = RandomInputs.Normal(rng, b * t * d), k = RandomInputs.Normal(rng, b * s * d), v = RandomInputs.Normal(rng, b * s * dv);
        float[] dy = RandomInputs.Normal(rng, b * t * dv), mask = RandomInputs.Uniform(rng, t * s, -1, 0);
        float[] pad = new float[n * s];
        pad[^1] = float.NegativeInfinity;

        float[][] Run(Device dev)
        {
            var (qt, kt, vt) = (Tensor.From(q, dev, b, t, d), Tensor.From(k, dev, b, s, d), Tensor.From(v, dev, b, s, dv));
            var (mt, pt) = (Tensor.From(mask, dev, t, s), Tensor.From(pad, dev, n, s));
            var (y, lse) = (Tensor.Zeros(dev, b, t, dv), Tensor.Zeros(dev, b, t));
            dev.Attention(qt, kt, vt, mt, pt, causal, heads, 0.7f, y, lse);
            var (dq, dk, dvt) = (Tensor.Zeros(dev, b, t, d), Tensor.Zeros(dev, b, s, d), Tensor.Zeros(dev, b, s, dv));
            dev.AttentionBackward(qt, kt, vt, mt, pt, causal, heads, 0.7f, y, lse, Tensor.From(dy, dev, b, t, dv), dq, dk, dvt);
            return [y.ToArray(), lse.ToArray(), dq.ToArray(), dk.ToArray(), dvt.ToArray()];
        }

        var cpu = Run(Device.Cpu);
        var gpu = Run(Target);
        var agree = new Tolerance(2e-5, 2e-4);
        string[] names = ["y", "lse", "dq", "dk", "dv"];
        for (int i = 0; i < names.Length; i++)
        {
            agree.AssertClose(cpu[i], gpu[i], names[i]);
        }
    }
}

/// <summary><see cref="TensorOpsTests"/> on the ILGPU CPU accelerator.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorTensorOpsTests(IlgpuCpuAcceleratorFixture fixture) : TensorOpsTests
{
    protected override Device Target => fixture.Device;
}
