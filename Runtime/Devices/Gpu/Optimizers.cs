using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    public override void SgdStep(Tensor param, Tensor grad, Tensor? momentumBuffer, float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        const string op = nameof(SgdStep);
        SameLength(param, grad, op);
        if (momentum != 0f)
        {
            if (momentumBuffer is null)
            {
                throw new ArgumentNullException(nameof(momentumBuffer), $"{op}: momentum {momentum} needs a momentum buffer.");
            }
            SameLength(param, momentumBuffer, op);
        }
        var (p, g) = (F(param, op), F(grad, op));
        // Without momentum the buffer is never touched; the parameter view stands in for it.
        var buf = momentum != 0f ? F(momentumBuffer!, op) : p;
        if (Empty(param.Length))
        {
            return;
        }
        var args = new SgdArgs(lr, momentum, dampening, weightDecay, nesterov ? 1 : 0, firstStep ? 1 : 0);
        Kernel(nameof(SgdKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdArgs>(SgdKernel))(
            Checked(param.Length, op), p, g, buf, args);
    }

    public override void AdamStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupledWeightDecay, int step)
    {
        const string op = nameof(AdamStep);
        SameLength(param, grad, op);
        SameLength(param, m, op);
        SameLength(param, v, op);
        if (step < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(step), $"{op}: steps count from 1, got {step}.");
        }
        var (p, g, mv, vv) = (F(param, op), F(grad, op), F(m, op), F(v, op));
        if (Empty(param.Length))
        {
            return;
        }
        // Bias corrections are computed once on the host exactly as the CPU does, so both devices step alike.
        float bc1 = 1f - MathF.Pow(beta1, step);
        float bc2Sqrt = MathF.Sqrt(1f - MathF.Pow(beta2, step));
        var args = new AdamArgs(lr, beta1, beta2, eps, weightDecay, decoupledWeightDecay ? 1 : 0, lr / bc1, bc2Sqrt);
        Kernel(nameof(AdamKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs>(AdamKernel))(
            Checked(param.Length, op), p, g, mv, vv, args);
    }

    internal readonly record struct SgdArgs(float Lr, float Momentum, float Dampening, float WeightDecay, int Nesterov, int FirstStep);

    internal readonly record struct AdamArgs(float Lr, float Beta1, float Beta2, float Eps, float WeightDecay, int Decoupled, float StepSize, float Bc2Sqrt);

    /// <summary>PyTorch's <c>torch.optim.SGD</c> update for one element.</summary>
    internal static void SgdKernel(Index1D i, ArrayView<float> param, ArrayView<float> grad, ArrayView<float> buffer, SgdArgs a)
    {
        float d = grad[i] + a.WeightDecay * param[i];
        if (a.Momentum != 0f)
        {
            float b = a.FirstStep != 0 ? d : a.Momentum * buffer[i] + (1f - a.Dampening) * d;
            buffer[i] = b;
            d = a.Nesterov != 0 ? d + a.Momentum * b : b;
        }
        param[i] -= a.Lr * d;
    }

    /// <summary>PyTorch's <c>torch.optim.Adam</c> (or <c>AdamW</c> when decoupled) update for one element.</summary>
    internal static void AdamKernel(Index1D i, ArrayView<float> param, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamArgs a)
    {
        float g = grad[i];
        float p = param[i];
        if (a.Decoupled != 0)
        {
            p *= 1f - a.Lr * a.WeightDecay;
        }
        else
        {
            g += a.WeightDecay * p;
        }
        float mi = a.Beta1 * m[i] + (1f - a.Beta1) * g;
        float vi = a.Beta2 * v[i] + (1f - a.Beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = p - a.StepSize * mi / (MathF.Sqrt(vi) / a.Bc2Sqrt + a.Eps);
    }
}
