using Dsl.Devices.Gpu;
using Xunit;

namespace Dsl.Tests.Kernels;

/// <summary>The kernel suite on ILGPU's CPU accelerator: the GPU kernels, run on emulated threads.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorKernelTests : DeviceKernelTests
{
    public IlgpuCpuAcceleratorKernelTests(IlgpuCpuAcceleratorFixture fixture)
        : base(fixture.Device)
    {
    }

    [Fact]
    public void Cpu_accelerator_is_named_and_cached()
    {
        Assert.Equal("gpu (CPU accelerator)", Device.Name);
        Assert.Same(Device, GpuDevice.CreateCpuAccelerator());
        Assert.Same(Device, Dsl.Device.Parse("gpu:cpu"));
    }

    [Fact]
    public void Best_device_without_cpu_fallback_throws_a_clear_error_when_no_gpu_is_present()
    {
        Device? best = null;
        try
        {
            best = GpuDevice.Create(0);
        }
        catch (NotSupportedException e)
        {
            Assert.Contains("No GPU was found", e.Message);
            return;
        }
        // A machine with a GPU: the device must then be a real one.
        Assert.DoesNotContain("CPU accelerator", best.Name);
    }

    [Fact]
    public void Tensor_from_another_device_is_rejected_before_launch()
    {
        var onCpu = Tensor.From(new float[] { 1, 2, 3 }, 3);
        var y = Device.Allocate(DType.Float32, 3);
        var e = Assert.Throws<ArgumentException>(() => Device.Add(onCpu, onCpu, y));
        Assert.Contains("is not on gpu (CPU accelerator)", e.Message);
    }
}
