using System.Runtime.CompilerServices;

namespace Dsl;

/// <summary>
/// Gradient clipping with PyTorch's semantics (<c>torch.nn.utils.clip_grad_norm_</c> and <c>clip_grad_value_</c>), on
/// whichever device holds the gradients: the norm is reduced on the device and read back once.
/// </summary>
public static class GradientClipping
{
    /// <summary>PyTorch's guard against dividing by a zero norm.</summary>
    public const float Epsilon = 1e-6f;

    // One accumulator per device, so a steady-state training step allocates nothing.
    private static readonly ConditionalWeakTable<Device, Tensor> s_accumulators = new();

    /// <summary>
    /// Scales every gradient by min(1, <paramref name="maxNorm"/> / (total + 1e-6)), where total is the
    /// <paramref name="normType"/>-norm of all gradients together (p &gt; 0, or <see cref="float.PositiveInfinity"/> for the
    /// largest magnitude), and returns total. A NaN or infinite total scales the gradients to NaN, as PyTorch 1.13 does
    /// with its default <c>error_if_nonfinite=False</c>.
    /// </summary>
    public static float ClipNorm(IReadOnlyList<Parameter> parameters, float maxNorm, float normType = 2f)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(normType > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(normType), $"{nameof(ClipNorm)}: the norm type must be positive (or infinity), got {normType}.");
        }
        if (parameters.Count == 0)
        {
            return 0f;
        }
        Device device = SharedDevice(parameters, nameof(ClipNorm));
        Tensor acc = s_accumulators.GetValue(device, static d => Tensor.Zeros(d, 1));
        device.Fill(acc, 0f);
        for (int i = 0; i < parameters.Count; i++)
        {
            device.AccumulateNormPower(parameters[i].Grad, acc, normType);
        }
        Span<float> read = stackalloc float[1];
        device.Download(acc, read);
        float total = float.IsPositiveInfinity(normType) ? read[0]
            : normType == 2f ? MathF.Sqrt(read[0])
            : normType == 1f ? read[0]
            : (float)Math.Pow(read[0], 1.0 / normType);
        float coefficient = maxNorm / (total + Epsilon);
        if (!(coefficient >= 1f))
        {
            for (int i = 0; i < parameters.Count; i++)
            {
                device.Scale(parameters[i].Grad, coefficient);
            }
        }
        return total;
    }

    /// <summary>Clamps every gradient element to [-<paramref name="clipValue"/>, <paramref name="clipValue"/>].</summary>
    public static void ClipValue(IReadOnlyList<Parameter> parameters, float clipValue)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(clipValue >= 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(clipValue), $"{nameof(ClipValue)}: the clip value must not be negative, got {clipValue}.");
        }
        for (int i = 0; i < parameters.Count; i++)
        {
            parameters[i].Grad.Device.Clamp(parameters[i].Grad, -clipValue, clipValue);
        }
    }

    private static Device SharedDevice(IReadOnlyList<Parameter> parameters, string op)
    {
        Device device = parameters[0].Grad.Device;
        for (int i = 1; i < parameters.Count; i++)
        {
            if (!ReferenceEquals(parameters[i].Grad.Device, device))
            {
                throw new ArgumentException($"{op}: {parameters[i]} is on {parameters[i].Grad.Device.Name} but {parameters[0]} is on {device.Name}; one global norm needs one device.");
            }
        }
        return device;
    }
}
