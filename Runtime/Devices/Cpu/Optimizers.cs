using System.Runtime.Intrinsics;

namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    public override void SgdStep(Tensor param, Tensor grad, Tensor? momentumBuffer, float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        SameLength(param, grad, nameof(SgdStep));
        var p = F(param);
        var g = F(grad);
        var buf = momentumBuffer is null ? Span<float>.Empty : F(momentumBuffer);
        if (momentum != 0f && buf.Length != p.Length)
        {
            throw new ArgumentException($"{nameof(SgdStep)}: the momentum buffer {momentumBuffer} does not match {param}.");
        }
        // The common recipe (momentum, no weight decay, no Nesterov, after the first step) as two fused passes.
        if (momentum != 0f && weightDecay == 0f && !nesterov && !firstStep)
        {
            SgdMomentum(p, g, buf, lr, momentum, 1f - dampening);
            return;
        }
        for (int i = 0; i < p.Length; i++)
        {
            float d = g[i] + weightDecay * p[i];
            if (momentum != 0f)
            {
                float b = firstStep ? d : momentum * buf[i] + (1f - dampening) * d;
                buf[i] = b;
                d = nesterov ? d + momentum * b : b;
            }
            p[i] -= lr * d;
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

    public override void AdamStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupledWeightDecay, int step)
    {
        SameLength(param, grad, nameof(AdamStep));
        var p = F(param);
        var g = F(grad);
        var ms = F(m);
        var vs = F(v);
        float bc1 = 1f - MathF.Pow(beta1, step);
        float bc2Sqrt = MathF.Sqrt(1f - MathF.Pow(beta2, step));
        float stepSize = lr / bc1;
        for (int i = 0; i < p.Length; i++)
        {
            float gi = g[i];
            if (decoupledWeightDecay)
            {
                p[i] *= 1f - lr * weightDecay;
            }
            else
            {
                gi += weightDecay * p[i];
            }
            ms[i] = beta1 * ms[i] + (1f - beta1) * gi;
            vs[i] = beta2 * vs[i] + (1f - beta2) * gi * gi;
            p[i] -= stepSize * ms[i] / (MathF.Sqrt(vs[i]) / bc2Sqrt + eps);
        }
    }
}
