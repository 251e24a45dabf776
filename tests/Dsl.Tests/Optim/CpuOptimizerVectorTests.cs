using Dsl.Devices.Cpu;
using Xunit;

namespace Dsl.Tests.Optim;

/// <summary>
/// The CPU's vector optimiser updates give every element the bits of the scalar updates that the ILGPU kernels also run:
/// Adam (<see cref="CpuDevice.AdamUpdate"/> against <see cref="OptimizerMath.Adam"/>) over lengths around the vector
/// width (tails of every size), both weight-decay forms, zero and tiny second moments (the square root at 0, eps
/// dominant), large gradients, and ten steps of a layer large enough to be split over threads through
/// <see cref="Adam.Step"/>; SGD (<see cref="CpuDevice.SgdUpdate"/> against <see cref="OptimizerMath.Sgd"/>) for every
/// combination of momentum, dampening, weight decay, Nesterov and the first step, and five steps of the course's recipe
/// through <see cref="Sgd.Step"/> on a layer split over threads.
/// </summary>
public sealed class CpuOptimizerVectorTests
{
    public static TheoryData<int, bool, float> Cases()
    {
        var data = new TheoryData<int, bool, float>();
        foreach (int n in new[] { 1, 7, 8, 15, 16, 17, 31, 33, 100 })
        {
            data.Add(n, false, 0f);
            data.Add(n, false, 0.1f);
            data.Add(n, true, 0.1f);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Vector_update_gives_each_element_the_scalar_updates_bits(int n, bool decoupled, float weightDecay)
    {
        var rng = new Random(n * 7 + (decoupled ? 1 : 0));
        float[] p = Values(rng, n, 2f), m = Values(rng, n, 0.5f), v = Values(rng, n, 1f);
        for (int i = 0; i < n; i++)
        {
            v[i] = i % 5 == 0 ? 0f : i % 5 == 1 ? 1e-30f : MathF.Abs(v[i]);
        }
        float[] g = Values(rng, n, 1f);
        if (n > 2)
        {
            g[2] = 3e4f;
            g[n - 1] = 0f;
        }
        float[] ps = (float[])p.Clone(), ms = (float[])m.Clone(), vs = (float[])v.Clone();
        for (int step = 1; step <= 3; step++)
        {
            var h = AdamHyper.Create(0.01f, 0.9f, 0.999f, 1e-8f, weightDecay, decoupled, step);
            CpuDevice.AdamUpdate(p, g, m, v, h);
            for (int i = 0; i < n; i++)
            {
                OptimizerMath.Adam(ref ps[i], g[i], ref ms[i], ref vs[i], h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.Decoupled, h.StepSize, h.Bc2Sqrt);
            }
            Assert.Equal(Bits(ps), Bits(p));
            Assert.Equal(Bits(ms), Bits(m));
            Assert.Equal(Bits(vs), Bits(v));
        }
    }

    [Fact]
    public void A_layer_split_over_threads_steps_as_the_scalar_update_does()
    {
        const int n = (1 << 18) + 5;
        var rng = new Random(5);
        float[] p0 = Values(rng, n, 1f);
        var device = new CpuDevice(2);
        var p = new Parameter("w", Tensor.From((float[])p0.Clone(), device, n));
        var opt = new Adam(new[] { p }, lr: 0.003f, weightDecay: 0.01f, decoupledWeightDecay: true);
        float[] ps = (float[])p0.Clone(), ms = new float[n], vs = new float[n];
        for (int step = 1; step <= 10; step++)
        {
            float[] g = Values(rng, n, 1f);
            device.Upload(g, p.Grad);
            opt.Step();
            var h = AdamHyper.Create(0.003f, 0.9f, 0.999f, 1e-8f, 0.01f, true, step);
            for (int i = 0; i < n; i++)
            {
                OptimizerMath.Adam(ref ps[i], g[i], ref ms[i], ref vs[i], h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.Decoupled, h.StepSize, h.Bc2Sqrt);
            }
        }
        Assert.Equal(Bits(ps), Bits(p.Value.ToArray()));
    }

    public static TheoryData<int, float, float, float, bool> SgdCases()
    {
        var data = new TheoryData<int, float, float, float, bool>();
        foreach (int n in new[] { 5, 16, 37 })
        {
            data.Add(n, 0f, 0f, 0f, false);
            data.Add(n, 0.5f, 0f, 0f, false);
            data.Add(n, 0f, 0f, 5e-4f, false);
            data.Add(n, 0.9f, 0f, 5e-4f, false);
            data.Add(n, 0.9f, 0f, 5e-4f, true);
            data.Add(n, 0.5f, 0.1f, 0.01f, false);
            data.Add(n, 0.9f, 0f, 0f, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SgdCases))]
    public void Vector_sgd_gives_each_element_the_scalar_updates_bits(int n, float momentum, float dampening, float weightDecay, bool nesterov)
    {
        var rng = new Random(n + (int)(momentum * 10));
        float[] p = Values(rng, n, 2f), buf = new float[n];
        float[] ps = (float[])p.Clone(), bufs = new float[n];
        float unused = 0f;
        for (int step = 1; step <= 3; step++)
        {
            float[] g = Values(rng, n, 1f);
            var h = new SgdHyper(0.05f, momentum, dampening, weightDecay, nesterov, FirstStep: step == 1);
            CpuDevice.SgdUpdate(p, g, momentum != 0f ? buf : Span<float>.Empty, h);
            for (int i = 0; i < n; i++)
            {
                OptimizerMath.Sgd(ref ps[i], g[i], ref momentum != 0f ? ref bufs[i] : ref unused, h.Lr, h.Momentum, h.Dampening, h.WeightDecay, h.Nesterov, h.FirstStep);
            }
            Assert.Equal(Bits(ps), Bits(p));
            Assert.Equal(Bits(bufs), Bits(buf));
        }
    }

    [Fact]
    public void A_layer_split_over_threads_takes_sgd_steps_as_the_scalar_update_does()
    {
        // The course's recipe (momentum 0.5, no weight decay) through Sgd.Step, over a layer large enough to be split.
        const int n = (1 << 18) + 3;
        var rng = new Random(9);
        float[] p0 = Values(rng, n, 1f);
        var device = new CpuDevice(2);
        var p = new Parameter("w", Tensor.From((float[])p0.Clone(), device, n));
        var opt = new Sgd(new[] { p }, lr: 0.01f, momentum: 0.5f);
        float[] ps = (float[])p0.Clone(), bufs = new float[n];
        for (int step = 1; step <= 5; step++)
        {
            float[] g = Values(rng, n, 1f);
            device.Upload(g, p.Grad);
            opt.Step();
            for (int i = 0; i < n; i++)
            {
                OptimizerMath.Sgd(ref ps[i], g[i], ref bufs[i], 0.01f, 0.5f, 0f, 0f, false, step == 1);
            }
        }
        Assert.Equal(Bits(ps), Bits(p.Value.ToArray()));
    }

    private static float[] Values(Random rng, int n, float scale)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = scale * (2f * rng.NextSingle() - 1f);
        }
        return a;
    }

    private static int[] Bits(float[] a) => Array.ConvertAll(a, BitConverter.SingleToInt32Bits);
}
