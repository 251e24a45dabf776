using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    protected override void SgdStepCore(Tensor param, Tensor grad, Tensor? momentumBuffer, in SgdHyper h)
        => Sgd(param, grad, momentumBuffer, h, null);

    /// <summary>The kernel reads the label loss's flag (and the input-fault record) itself, so the happy path never waits for the GPU.</summary>
    protected override void SgdStepCore(Tensor param, Tensor grad, Tensor? momentumBuffer, in SgdHyper h, Tensor labelStatus)
        => Sgd(param, grad, momentumBuffer, h, labelStatus);

    protected override void AdamStepCore(Tensor param, Tensor grad, Tensor m, Tensor v, in AdamHyper h)
        => Adam(param, grad, m, v, h, null);

    /// <inheritdoc cref="SgdStepCore(Tensor, Tensor, Tensor?, in SgdHyper, Tensor)"/>
    protected override void AdamStepCore(Tensor param, Tensor grad, Tensor m, Tensor v, in AdamHyper h, Tensor labelStatus)
        => Adam(param, grad, m, v, h, labelStatus);

    private void Sgd(Tensor param, Tensor grad, Tensor? momentumBuffer, in SgdHyper h, Tensor? labelStatus)
    {
        const string op = nameof(SgdStep);
        var (p, g) = (F(param, op), F(grad, op));
        // Without momentum the buffer is never touched; the parameter view stands in for it (and for an absent status).
        var buf = momentumBuffer is not null ? F(momentumBuffer, op) : p;
        var status = labelStatus is not null ? F(labelStatus, op) : p;
        if (Empty(param.Length))
        {
            return;
        }
        var args = new SgdArgs(h.Lr, h.Momentum, h.Dampening, h.WeightDecay, h.Nesterov ? 1 : 0, h.FirstStep ? 1 : 0, labelStatus is not null ? 1 : 0);
        Kernel(nameof(SgdKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<long>, SgdArgs>(SgdKernel))(
            Checked(param.Length, op), p, g, buf, status, InputFault, args);
    }

    private void Adam(Tensor param, Tensor grad, Tensor m, Tensor v, in AdamHyper h, Tensor? labelStatus)
    {
        const string op = nameof(AdamStep);
        var (p, g, mv, vv) = (F(param, op), F(grad, op), F(m, op), F(v, op));
        var status = labelStatus is not null ? F(labelStatus, op) : p;
        if (Empty(param.Length))
        {
            return;
        }
        var args = new AdamArgs(h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.Decoupled ? 1 : 0, h.StepSize, h.Bc2Sqrt, labelStatus is not null ? 1 : 0);
        Kernel(nameof(AdamKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<long>, AdamArgs>(AdamKernel))(
            Checked(param.Length, op), p, g, mv, vv, status, InputFault, args);
    }

    internal readonly record struct SgdArgs(float Lr, float Momentum, float Dampening, float WeightDecay, int Nesterov, int FirstStep, int Guarded);

    internal readonly record struct AdamArgs(float Lr, float Beta1, float Beta2, float Eps, float WeightDecay, int Decoupled, float StepSize, float Bc2Sqrt, int Guarded);

    /// <summary>
    /// True when a step must not update: an input check recorded a fault not yet read (fault[0], see
    /// <see cref="InputFault"/>; the read reports it), or, for a guarded step, the label loss flagged a bad row
    /// (status[1]). Element 0 records a bad-label skip in status[2] for <see cref="LossResult.Value"/> to report; the
    /// other threads only read.
    /// </summary>
    private static bool SkipStep(Index1D i, ArrayView<float> status, ArrayView<long> fault, int guarded)
    {
        if (fault[0] != 0)
        {
            return true;
        }
        if (guarded == 0 || status[1] == 0f)
        {
            return false;
        }
        if (i == 0)
        {
            status[2] = status[1];
        }
        return true;
    }

    /// <summary>PyTorch's <c>torch.optim.SGD</c> update for one element (<see cref="OptimizerMath.Sgd"/>).</summary>
    internal static void SgdKernel(Index1D i, ArrayView<float> param, ArrayView<float> grad, ArrayView<float> buffer, ArrayView<float> status, ArrayView<long> fault, SgdArgs a)
    {
        if (SkipStep(i, status, fault, a.Guarded))
        {
            return;
        }
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
    internal static void AdamKernel(Index1D i, ArrayView<float> param, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, ArrayView<float> status, ArrayView<long> fault, AdamArgs a)
    {
        if (SkipStep(i, status, fault, a.Guarded))
        {
            return;
        }
        float p = param[i];
        float mi = m[i];
        float vi = v[i];
        OptimizerMath.Adam(ref p, grad[i], ref mi, ref vi, a.Lr, a.Beta1, a.Beta2, a.Eps, a.WeightDecay, a.Decoupled != 0, a.StepSize, a.Bc2Sqrt);
        m[i] = mi;
        v[i] = vi;
        param[i] = p;
    }
}
