using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    protected override void DropoutCore(Tensor x, Tensor mask, Tensor y, float p, ulong seed, int group)
    {
        var op = nameof(Dropout);
        var (xv, mv, yv) = (F(x, op), F(mask, op), F(y, op));
        if (Empty(x.Length))
        {
            return;
        }
        float scale = p >= 1f ? 0f : 1f / (1f - p);
        Kernel(nameof(DropoutKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, ulong, int>(DropoutKernel))(
            Checked(x.Length, op), xv, mv, yv, p, scale, seed, group);
    }

    /// <summary>Same draw as the CPU: <see cref="CounterRandom"/> is a pure function of (seed, i / group).</summary>
    internal static void DropoutKernel(Index1D i, ArrayView<float> x, ArrayView<float> mask, ArrayView<float> y, float p, float scale, ulong seed, int group)
    {
        float keep = CounterRandom.Uniform(seed, (ulong)(i / group)) >= p ? scale : 0f;
        mask[i] = keep;
        y[i] = x[i] * keep;
    }
}
