using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    protected override void SgdStepCore(Tensor param, Tensor grad, Tensor? momentumBuffer, in SgdHyper h)
    {
        const string op = nameof(SgdStep);
        var (p, g) = (F(param, op), F(grad, op));
        // Without momentum the buffer is never touched; the parameter view stands in for it.
        var buf = momentumBuffer is not null ? F(momentumBuffer, op) : p;
        if (Empty(param.Length))
        {
            return;
        }
        var args = new SgdArgs(h.Lr, h.Momentum, h.Dampening, h.WeightDecay, h.Nesterov ? 1 : 0, h.FirstStep ? 1 : 0);
        Kernel(nameof(SgdKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdArgs>(SgdKernel))(
            Checked(param.Length, op), p, g, buf, args);
    }

    protected override void AdamStepCore(Tensor param, Tensor grad, Tensor m, Tensor v, in AdamHyper h)
    {
        const string op = nameof(AdamStep);
        var (p, g, mv, vv) = (F(param, op), F(grad, op), F(m, op), F(v, op));
        if (Empty(param.Length))
        {
            return;
        }
        var args = new AdamArgs(h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.Decoupled ? 1 : 0, h.StepSize, h.Bc2Sqrt);
        Kernel(nameof(AdamKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs>(AdamKernel))(
            Checked(param.Length, op), p, g, mv, vv, args);
    }

    internal readonly record struct SgdArgs(float Lr, float Momentum, float Dampening, float WeightDecay, int Nesterov, int FirstStep);

    internal readonly record struct AdamArgs(float Lr, float Beta1, float Beta2, float Eps, float WeightDecay, int Decoupled, float StepSize, float Bc2Sqrt);

    /// <summary>PyTorch's <c>torch.optim.SGD</c> update for one element (<see cref="OptimizerMath.Sgd"/>).</summary>
    internal static void SgdKernel(Index1D i, ArrayView<float> param, ArrayView<float> grad, ArrayView<float> buffer, SgdArgs a)
    {
        float p = param[i];
        float b = a.Momentum != 0f ? buffer[i] : 0f;
        OptimizerMath.Sgd(ref p, grad[i], ref b, a.Lr, a.Momentum, a.Dampening, a.WeightDecay, a.Nesterov != 0, a.FirstStep != 0);
        if (a.Momentum != 0f)
        {
            buffer[i] = b;
        }
        param[i] = p;
    }

    /// <summary>PyTorch's <c>torch.optim.Adam</c> (or <c>AdamW</c> when decoupled) update for one element (<see cref="OptimizerMath.Adam"/>).</summary>
    internal static void AdamKernel(Index1D i, ArrayView<float> param, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamArgs a)
    {
        float p = param[i];
        float mi = m[i];
        float vi = v[i];
        OptimizerMath.Adam(ref p, grad[i], ref mi, ref vi, a.Lr, a.Beta1, a.Beta2, a.Eps, a.WeightDecay, a.Decoupled != 0, a.StepSize, a.Bc2Sqrt);
        m[i] = mi;
        v[i] = vi;
        param[i] = p;
    }
}
