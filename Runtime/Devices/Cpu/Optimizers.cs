using System.Numerics;
using Dsl.Devices.Cpu.Convolution;

namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void SgdStepCore(Tensor param, Tensor grad, Tensor? momentumBuffer, in SgdHyper h)
    {
        const string op = "SgdStep";
        var job = new SgdJob
        {
            P = HostBuffers.Floats(param, op, out int po), PO = po,
            G = HostBuffers.Floats(grad, op, out int go), GO = go,
            Buf = momentumBuffer is null ? null : HostBuffers.Floats(momentumBuffer, op, out _), BO = (int)(momentumBuffer?.Offset ?? 0),
            H = h, Length = checked((int)param.Length),
        };
        // Element by element, so in parts over the threads like the element-wise ops: a large layer's update is not serial.
        RunElementwise(ref job, OptimizerPartFloats);
    }

    private struct SgdJob : IRangeJob, IElementwiseLength
    {
        public float[] P, G;
        public float[]? Buf;
        public int PO, GO, BO;
        public SgdHyper H;

        public int Length { get; set; }

        public readonly void Run(int start, int end)
        {
            var (from, to) = ElementwiseFloats(start, end, Length);
            int n = to - from;
            var p = P.AsSpan(PO + from, n);
            var g = G.AsSpan(GO + from, n);
            var buf = Buf is null ? Span<float>.Empty : Buf.AsSpan(BO + from, n);
            SgdUpdate(p, g, buf, H);
        }
    }

    /// <summary>
    /// SGD over spans for any recipe (plain momentum, weight decay, Nesterov, dampening, the first step, no momentum):
    /// <see cref="OptimizerMath.Sgd"/>'s operations in its order, a vector of elements at a time, so each element gets the
    /// scalar update's bits, which the ILGPU kernel runs too; the tail by the scalar update itself. <paramref name="buf"/>
    /// is empty without momentum. It replaces a 512-bit loop of its own for plain momentum, which skipped the update's
    /// g + 0*p (so a -0 or an infinite weight came out otherwise than on the GPU) and ran emulated without AVX-512.
    /// </summary>
    internal static unsafe void SgdUpdate(Span<float> p, ReadOnlySpan<float> g, Span<float> buf, in SgdHyper h)
    {
        int n = p.Length, i = 0;
        bool momentum = h.Momentum != 0f;
        fixed (float* pp = p, pg = g, pb = buf)
        {
            if (Vector.IsHardwareAccelerated)
            {
                int width = Vector<float>.Count;
                var wd = new Vector<float>(h.WeightDecay);
                var mu = new Vector<float>(h.Momentum);
                var keep = new Vector<float>(1f - h.Dampening);
                var lr = new Vector<float>(h.Lr);
                for (; i <= n - width; i += width)
                {
                    var pi = Vector.Load(pp + i);
                    var d = Vector.Load(pg + i) + wd * pi;
                    if (momentum)
                    {
                        var b = h.FirstStep ? d : mu * Vector.Load(pb + i) + keep * d;
                        Vector.Store(b, pb + i);
                        d = h.Nesterov ? d + mu * b : b;
                    }
                    Vector.Store(pi - lr * d, pp + i);
                }
            }
            float unused = 0f;
            for (; i < n; i++)
            {
                OptimizerMath.Sgd(ref pp[i], pg[i], ref momentum ? ref pb[i] : ref unused, h.Lr, h.Momentum, h.Dampening, h.WeightDecay, h.Nesterov, h.FirstStep);
            }
        }
    }

    protected override void AdamStepCore(Tensor param, Tensor grad, Tensor m, Tensor v, in AdamHyper h)
    {
        const string op = "AdamStep";
        var job = new AdamJob
        {
            P = HostBuffers.Floats(param, op, out int po), PO = po,
            G = HostBuffers.Floats(grad, op, out int go), GO = go,
            M = HostBuffers.Floats(m, op, out int mo), MO = mo,
            V = HostBuffers.Floats(v, op, out int vo), VO = vo,
            H = h, Length = checked((int)param.Length),
        };
        RunElementwise(ref job, OptimizerPartFloats);
    }

    /// <summary>
    /// The fewest floats of a part of an optimiser step: a batch-64 MLP's step got slower when its 32K-weight layer's
    /// update forked as well, so only layers of 128K weights and more split.
    /// </summary>
    internal const int OptimizerPartFloats = 1 << 16;

    private struct AdamJob : IRangeJob, IElementwiseLength
    {
        public float[] P, G, M, V;
        public int PO, GO, MO, VO;
        public AdamHyper H;

        public int Length { get; set; }

        public readonly void Run(int start, int end)
        {
            var (from, to) = ElementwiseFloats(start, end, Length);
            int n = to - from;
            AdamUpdate(P.AsSpan(PO + from, n), G.AsSpan(GO + from, n), M.AsSpan(MO + from, n), V.AsSpan(VO + from, n), H);
        }
    }

    /// <summary>
    /// Adam over spans: <see cref="OptimizerMath.Adam"/>'s operations in its order, a vector of elements at a time (no fused
    /// multiply-add, and square root and division correctly rounded either way), so each element gets the scalar update's
    /// bits; the tail by the scalar update itself. The scalar loop alone ran a 3.2M-weight layer (TwoConv's fc1) at a
    /// fifth of the memory's speed, 8 ms of a 43 ms training step.
    /// </summary>
    internal static unsafe void AdamUpdate(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, in AdamHyper h)
    {
        int n = p.Length, i = 0;
        fixed (float* pp = p, pg = g, pm = m, pv = v)
        {
            if (Vector.IsHardwareAccelerated)
            {
                int width = Vector<float>.Count;
                var decay = new Vector<float>(1f - h.Lr * h.WeightDecay);
                var wd = new Vector<float>(h.WeightDecay);
                var beta1 = new Vector<float>(h.Beta1);
                var beta2 = new Vector<float>(h.Beta2);
                var oneMinusBeta1 = new Vector<float>(1f - h.Beta1);
                var oneMinusBeta2 = new Vector<float>(1f - h.Beta2);
                var stepSize = new Vector<float>(h.StepSize);
                var bc2Sqrt = new Vector<float>(h.Bc2Sqrt);
                var eps = new Vector<float>(h.Eps);
                for (; i <= n - width; i += width)
                {
                    var gi = Vector.Load(pg + i);
                    var pi = Vector.Load(pp + i);
                    if (h.Decoupled)
                    {
                        pi *= decay;
                    }
                    else
                    {
                        gi += wd * pi;
                    }
                    var mi = beta1 * Vector.Load(pm + i) + oneMinusBeta1 * gi;
                    var vi = beta2 * Vector.Load(pv + i) + oneMinusBeta2 * gi * gi;
                    Vector.Store(mi, pm + i);
                    Vector.Store(vi, pv + i);
                    Vector.Store(pi - stepSize * mi / (Vector.SquareRoot(vi) / bc2Sqrt + eps), pp + i);
                }
            }
            for (; i < n; i++)
            {
                OptimizerMath.Adam(ref pp[i], pg[i], ref pm[i], ref pv[i], h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.Decoupled, h.StepSize, h.Bc2Sqrt);
            }
        }
    }
}
