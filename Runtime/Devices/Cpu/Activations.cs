using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void ActivationCore(ActivationKind kind, float alpha, float threshold, Tensor x, Tensor y)
    {
        var xs = F(x, nameof(Activation));
        var ys = F(y, nameof(Activation));
        switch (kind)
        {
            case ActivationKind.Relu:
                TensorPrimitives.Max(xs, 0f, ys);
                break;
            case ActivationKind.Tanh:
                TensorPrimitives.Tanh(xs, ys);
                break;
            case ActivationKind.Sigmoid:
                TensorPrimitives.Sigmoid(xs, ys);
                break;
            default:
                for (int i = 0; i < xs.Length; i++)
                {
                    ys[i] = ActivationMath.Forward(kind, alpha, threshold, xs[i]);
                }
                break;
        }
    }

    protected override void ActivationBackwardCore(ActivationKind kind, float alpha, float threshold, Tensor x, Tensor y, Tensor dy, Tensor dx, bool accumulate)
    {
        var xs = F(x);
        var ys = F(y);
        var g = F(dy);
        var d = F(dx);
        if (kind == ActivationKind.Relu)
        {
            ReluBackwardRows(ReluBackwardRule.Standard, xs, g, d, accumulate);
            return;
        }
        for (int i = 0; i < g.Length; i++)
        {
            float v = g[i] * ActivationMath.Derivative(kind, alpha, threshold, xs[i], ys[i]);
            d[i] = accumulate ? d[i] + v : v;
        }
    }

    protected override void ReluBackwardCore(ReluBackwardRule rule, Tensor x, Tensor dy, Tensor dx, bool accumulate)
        => ReluBackwardRows(rule, F(x), F(dy), F(dx), accumulate);

    // dx (+)= ReluBackwardMath.Gradient(rule, x, dy): the standard rule passes dy where x > 0 (a NaN x passes nothing),
    // DeconvNet where dy > 0, guided where both are; the vector loop builds the same mask from the two comparisons.
    private static unsafe void ReluBackwardRows(ReluBackwardRule rule, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, bool accumulate)
    {
        int n = dy.Length, i = 0;
        bool byInput = rule != ReluBackwardRule.DeconvNet, byGradient = rule != ReluBackwardRule.Standard;
        fixed (float* px = x, pg = dy, pd = dx)
        {
            for (; i <= n - 16; i += 16)
            {
                var g = Vector512.Load(pg + i);
                var mask = Vector512<float>.AllBitsSet;
                if (byInput)
                {
                    mask = Vector512.GreaterThan(Vector512.Load(px + i), Vector512<float>.Zero);
                }
                if (byGradient)
                {
                    mask &= Vector512.GreaterThan(g, Vector512<float>.Zero);
                }
                var v = Vector512.ConditionalSelect(mask, g, Vector512<float>.Zero);
                if (accumulate)
                {
                    v += Vector512.Load(pd + i);
                }
                v.Store(pd + i);
            }
            for (; i < n; i++)
            {
                float v = ReluBackwardMath.Gradient(rule, px[i], pg[i]);
                pd[i] = accumulate ? pd[i] + v : v;
            }
        }
    }
}
