using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>Accelerator memory: one ILGPU buffer per storage, of the storage's element type.</summary>
public sealed class GpuStorage : Storage
{
    private bool _disposed;

    internal GpuStorage(GpuDevice device, DType dtype, long length)
        : base(device, dtype, length)
    {
        // ILGPU rejects zero-length buffers on some backends; a one-element buffer costs nothing.
        long n = Math.Max(1, length);
        switch (dtype)
        {
            case DType.Float32:
                Floats = device.Accelerator.Allocate1D<float>(n);
                break;
            case DType.Int64:
                Longs = device.Accelerator.Allocate1D<long>(n);
                break;
            default:
                Ints = device.Accelerator.Allocate1D<int>(n);
                break;
        }
    }

    internal MemoryBuffer1D<float, Stride1D.Dense>? Floats { get; }
    internal MemoryBuffer1D<long, Stride1D.Dense>? Longs { get; }
    internal MemoryBuffer1D<int, Stride1D.Dense>? Ints { get; }

    public override void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            Floats?.Dispose();
            Longs?.Dispose();
            Ints?.Dispose();
        }
        base.Dispose();
    }
}
