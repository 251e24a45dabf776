namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// The backing arrays of CPU tensors, for kernels whose parallel bodies are lambdas (which cannot capture spans).
/// </summary>
internal static class HostBuffers
{
    /// <summary>The float array behind <paramref name="t"/> and the element offset of its view.</summary>
    public static float[] Floats(Tensor t, string op, out int offset)
    {
        _ = CpuDevice.F(t, op);
        offset = (int)t.Offset;
        return ((CpuStorage)t.Storage).Floats!;
    }

    /// <summary>The float array behind <paramref name="t"/> and its view's offset, or null and 0 for no tensor (an optional bias or gradient).</summary>
    public static float[]? FloatsOrNull(Tensor? t, string op, out int offset)
    {
        if (t is null)
        {
            offset = 0;
            return null;
        }
        return Floats(t, op, out offset);
    }

    /// <summary>The int32 array behind <paramref name="t"/> and the element offset of its view.</summary>
    public static int[] Ints(Tensor t, string op, out int offset)
    {
        _ = CpuDevice.I(t, op);
        offset = (int)t.Offset;
        return ((CpuStorage)t.Storage).Ints!;
    }
}
