using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    public override void Activation(ActivationKind kind, float alpha, Tensor x, Tensor y)
    {
        SameLength(x, y, nameof(Activation));
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
                    ys[i] = ActivationMath.Forward(kind, alpha, xs[i]);
                }
                break;
        }
    }

    public override void ActivationBackward(ActivationKind kind, float alpha, Tensor x, Tensor y, Tensor dy, Tensor dx, bool accumulate)
    {
        SameLength(x, dy, nameof(ActivationBackward));
        SameLength(dy, dx, nameof(ActivationBackward));
        var xs = F(x);
        var ys = F(y);
        var g = F(dy);
        var d = F(dx);
        for (int i = 0; i < g.Length; i++)
        {
            float v = g[i] * ActivationMath.Derivative(kind, alpha, xs[i], ys[i]);
            d[i] = accumulate ? d[i] + v : v;
        }
    }
}
