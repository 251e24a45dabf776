using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// What a convolution does to an output tile as it stores it: add the channel's bias, then ReLU when the layer asks for
/// it (<see cref="Device.Conv2d"/>'s <c>relu</c>). Called on a few rows at a time while they are still in L1, so a fused
/// activation costs no pass over the whole output. ReLU is <c>max(v, 0)</c>, the same operation as the standalone
/// activation (<see cref="CpuDevice"/>'s ActivationCore), so fused and unfused layers agree bit for bit.
/// </summary>
internal static unsafe class ConvEpilogue
{
    /// <summary>
    /// row[0..n) = relu?(row + bias); nothing when there is neither bias nor ReLU. A row here is one micro-kernel panel
    /// wide (32 floats with 512-bit kernels), so the loop is inline: two TensorPrimitives calls per 32 floats were 6.8% of
    /// DenseNet-BC's evaluation profile (perf, two threads; its batch-norm-folded 1x1 convolutions add a bias and ReLU to
    /// every panel), the inline loop about half of that. The same operations (an add, then max(v, 0) with NaN kept and -0
    /// made +0), so the results do not change.
    /// </summary>
    public static void Apply(float* row, int n, float* bias, bool relu)
    {
        if (bias == null && !relu)
        {
            return;
        }
        float b = bias == null ? 0f : *bias;
        bool add = bias != null;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var v = add ? Vector512.Load(row + i) + Vector512.Create(b) : Vector512.Load(row + i);
                (relu ? VectorMax.Take(v, Vector512<float>.Zero) : v).Store(row + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = add ? Vector256.Load(row + i) + Vector256.Create(b) : Vector256.Load(row + i);
                (relu ? VectorMax.Take(v, Vector256<float>.Zero) : v).Store(row + i);
            }
        }
        for (; i < n; i++)
        {
            float v = add ? row[i] + b : row[i];
            row[i] = relu ? MathF.Max(v, 0f) : v;
        }
    }

    /// <summary>to = relu?(from + bias): the store of a tile computed elsewhere.</summary>
    public static void Store(ReadOnlySpan<float> from, Span<float> to, float* bias, bool relu)
    {
        if (bias != null)
        {
            TensorPrimitives.Add(from, *bias, to);
        }
        else
        {
            from.CopyTo(to);
        }
        if (relu)
        {
            TensorPrimitives.Max(to, 0f, to);
        }
    }
}
