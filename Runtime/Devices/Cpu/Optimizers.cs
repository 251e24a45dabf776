using System.Runtime.Intrinsics;

namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void SgdStepCore(Tensor param, Tensor grad, Tensor? momentumBuffer, in SgdHyper h)
    {
        var p = F(param);
        var g = F(grad);
        var buf = momentumBuffer is null ? Span<float>.Empty : F(momentumBuffer);
        // The common recipe (momentum, no weight decay, no Nesterov, after the first step) as two fused passes.
        if (h.Momentum != 0f && h.WeightDecay == 0f && !h.Nesterov && !h.FirstStep)
        {
            SgdMomentum(p, g, buf, h.Lr, h.Momentum, 1f - h.Dampening);
            return;
        }
        float unused = 0f;
        for (int i = 0; i < p.Length; i++)
        {
            OptimizerMath.Sgd(ref p[i], g[i], ref buf.IsEmpty ? ref unused : ref buf[i], h.Lr, h.Momentum, h.Dampening, h.WeightDecay, h.Nesterov, h.FirstStep);
        }
    }

    // b = momentum*b + (1-dampening)*g; p -= lr*b, in one pass with the scalar loop's operations (no fused multiply-add),
    // so both paths round alike.
    private static unsafe void SgdMomentum(Span<float> p, ReadOnlySpan<float> g, Span<float> buf, float lr, float momentum, float gScale)
    {
        int n = p.Length, i = 0;
        fixed (float* pp = p, pg = g, pb = buf)
        {
            var vm = Vector512.Create(momentum);
            var vs = Vector512.Create(gScale);
            var vl = Vector512.Create(lr);
            for (; i <= n - 16; i += 16)
            {
                var b = vm * Vector512.Load(pb + i) + vs * Vector512.Load(pg + i);
                b.Store(pb + i);
                (Vector512.Load(pp + i) - vl * b).Store(pp + i);
            }
            for (; i < n; i++)
            {
                float b = momentum * pb[i] + gScale * pg[i];
                pb[i] = b;
                pp[i] -= lr * b;
            }
        }
    }

    protected override void AdamStepCore(Tensor param, Tensor grad, Tensor m, Tensor v, in AdamHyper h)
    {
        var p = F(param);
        var g = F(grad);
        var ms = F(m);
        var vs = F(v);
        for (int i = 0; i < p.Length; i++)
        {
            OptimizerMath.Adam(ref p[i], g[i], ref ms[i], ref vs[i], h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.Decoupled, h.StepSize, h.Bc2Sqrt);
        }
    }
}
