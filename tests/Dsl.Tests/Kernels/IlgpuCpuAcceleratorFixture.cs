using Dsl.Devices.Gpu;

namespace Dsl.Tests.Kernels;

/// <summary>
/// One ILGPU CPU accelerator for the whole collection: creating a context and compiling kernels is slow, and each
/// kernel is compiled once per device. Not disposed here: <see cref="GpuDevice.CreateCpuAccelerator"/> returns a
/// shared device that other test classes may still be using.
/// </summary>
public sealed class IlgpuCpuAcceleratorFixture
{
    public Device Device { get; } = GpuDevice.CreateCpuAccelerator();
}
