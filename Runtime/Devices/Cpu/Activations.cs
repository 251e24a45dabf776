using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Dsl.Devices.Cpu.Convolution;

namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void ActivationCore(ActivationKind kind, float alpha, float threshold, Tensor x, Tensor y)
    {
        var job = new ActivationJob
        {
            Kind = kind, Alpha = alpha, Threshold = threshold, Length = checked((int)y.Length),
            X = HostBuffers.Floats(x, nameof(Activation), out int xo), XOffset = xo,
            Y = HostBuffers.Floats(y, nameof(Activation), out int yo), YOffset = yo,
        };
        RunElementwise(ref job);
    }

    protected override void ActivationBackwardCore(ActivationKind kind, float alpha, float threshold, Tensor x, Tensor y, Tensor dy, Tensor dx, bool accumulate)
    {
        var job = new ActivationBackwardJob
        {
            Kind = kind, Alpha = alpha, Threshold = threshold, Accumulate = accumulate, Length = checked((int)dy.Length),
            X = HostBuffers.Floats(x, nameof(ActivationBackward), out int xo), XOffset = xo,
            Y = HostBuffers.Floats(y, nameof(ActivationBackward), out int yo), YOffset = yo,
            Dy = HostBuffers.Floats(dy, nameof(ActivationBackward), out int go), DyOffset = go,
            Dx = HostBuffers.Floats(dx, nameof(ActivationBackward), out int dxo), DxOffset = dxo,
        };
        RunElementwise(ref job);
    }

    protected override void ReluBackwardCore(ReluBackwardRule rule, Tensor x, Tensor dy, Tensor dx, bool accumulate)
    {
        var job = new ActivationBackwardJob
        {
            Kind = ActivationKind.Relu, Rule = rule, Accumulate = accumulate, Length = checked((int)dy.Length),
            X = HostBuffers.Floats(x, nameof(ReluBackward), out int xo), XOffset = xo,
            Dy = HostBuffers.Floats(dy, nameof(ReluBackward), out int go), DyOffset = go,
            Dx = HostBuffers.Floats(dx, nameof(ReluBackward), out int dxo), DxOffset = dxo,
        };
        RunElementwise(ref job);
    }

    private struct ActivationJob : IRangeJob, IElementwiseLength
    {
        public ActivationKind Kind;
        public float Alpha, Threshold;
        public float[] X, Y;
        public int XOffset, YOffset;

        public int Length { get; set; }

        public readonly void Run(int start, int end)
        {
            var (from, to) = ElementwiseFloats(start, end, Length);
            var xs = X.AsSpan(XOffset + from, to - from);
            var ys = Y.AsSpan(YOffset + from, to - from);
            switch (Kind)
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
                        ys[i] = ActivationMath.Forward(Kind, Alpha, Threshold, xs[i]);
                    }
                    break;
            }
        }
    }

    /// <summary>dx (+)= dy * f'(x): ReLU's rules vectorised (<see cref="Rule"/>), other kinds element by element.</summary>
    private struct ActivationBackwardJob : IRangeJob, IElementwiseLength
    {
        public ActivationKind Kind;
        public ReluBackwardRule Rule;
        public float Alpha, Threshold;
        public bool Accumulate;
        public float[] X, Dy, Dx;
        public float[]? Y;
        public int XOffset, YOffset, DyOffset, DxOffset;

        public int Length { get; set; }

        public readonly void Run(int start, int end)
        {
            var (from, to) = ElementwiseFloats(start, end, Length);
            int n = to - from;
            var xs = X.AsSpan(XOffset + from, n);
            var g = Dy.AsSpan(DyOffset + from, n);
            var d = Dx.AsSpan(DxOffset + from, n);
            if (Kind == ActivationKind.Relu)
            {
                ReluBackwardRows(Rule, xs, g, d, Accumulate);
                return;
            }
            var ys = Y.AsSpan(YOffset + from, n);
            for (int i = 0; i < n; i++)
            {
                float v = g[i] * ActivationMath.Derivative(Kind, Alpha, Threshold, xs[i], ys[i]);
                d[i] = Accumulate ? d[i] + v : v;
            }
        }
    }

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
