namespace Dsl.Devices.Gpu;

/// <summary>ILGPU backend (being written).</summary>
public static class GpuDevice
{
    public static Device CreateBest(bool allowCpuAccelerator) => throw new NotSupportedException("The GPU backend is not built yet.");
    public static Device CreateCpuAccelerator() => throw new NotSupportedException("The GPU backend is not built yet.");
}
