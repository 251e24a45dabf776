using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    protected override void ActivationCore(ActivationKind kind, float alpha, float threshold, Tensor x, Tensor y)
    {
        var (xv, yv) = (F(x, nameof(Activation)), F(y, nameof(Activation)));
        if (Empty(x.Length))
        {
            return;
        }
        Kernel(nameof(ActivationKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float, float>(ActivationKernel))(
            Checked(x.Length, nameof(Activation)), xv, yv, (int)kind, alpha, threshold);
    }

    protected override void ActivationBackwardCore(ActivationKind kind, float alpha, float threshold, Tensor x, Tensor y, Tensor dy, Tensor dx, bool accumulate)
    {
        var op = nameof(ActivationBackward);
        var (xv, yv, g, d) = (F(x, op), F(y, op), F(dy, op), F(dx, op));
        if (Empty(x.Length))
        {
            return;
        }
        Kernel(nameof(ActivationBackwardKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, float, int>(ActivationBackwardKernel))(
            Checked(x.Length, op), xv, yv, g, d, (int)kind, alpha, threshold, accumulate ? 1 : 0);
    }

    protected override void ReluBackwardCore(ReluBackwardRule rule, Tensor x, Tensor dy, Tensor dx, bool accumulate)
    {
        var op = nameof(ReluBackward);
        var (xv, g, d) = (F(x, op), F(dy, op), F(dx, op));
        if (Empty(x.Length))
        {
            return;
        }
        Kernel(nameof(ReluBackwardKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(ReluBackwardKernel))(
            Checked(x.Length, op), xv, g, d, (int)rule, accumulate ? 1 : 0);
    }

    // The kind travels as an int: enum kernel parameters are not portable across ILGPU backends.
    internal static void ActivationKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, int kind, float alpha, float threshold)
        => y[i] = ActivationMath.Forward((ActivationKind)kind, alpha, threshold, x[i]);

    internal static void ActivationBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx,
        int kind, float alpha, float threshold, int accumulate)
    {
        float v = dy[i] * ActivationMath.Derivative((ActivationKind)kind, alpha, threshold, x[i], y[i]);
        dx[i] = accumulate != 0 ? dx[i] + v : v;
    }

    internal static void ReluBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, int rule, int accumulate)
    {
        float v = ReluBackwardMath.Gradient((ReluBackwardRule)rule, x[i], dy[i]);
        dx[i] = accumulate != 0 ? dx[i] + v : v;
    }
}
