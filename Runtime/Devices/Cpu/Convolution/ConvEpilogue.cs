using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// What a convolution does to an output tile as it stores it: add the channel's bias, then ReLU when the layer asks for
/// it (<see cref="Device.Conv2d"/>'s <c>relu</c>). Called on a few rows at a time while they are still in L1, so a fused
/// activation costs no pass over the whole output. ReLU is <c>max(v, 0)</c>, the same operation as the standalone
/// activation (<see cref="CpuDevice"/>'s ActivationCore), so fused and unfused layers agree bit for bit.
/// </summary>
internal static unsafe class ConvEpilogue
{
    /// <summary>row[0..n) = relu?(row + bias); nothing when there is neither bias nor ReLU.</summary>
    public static void Apply(float* row, int n, float* bias, bool relu)
    {
        var span = new Span<float>(row, n);
        if (bias != null)
        {
            TensorPrimitives.Add(span, *bias, span);
        }
        if (relu)
        {
            TensorPrimitives.Max(span, 0f, span);
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
