using Dsl.Devices.Gpu;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// <c>--device gpu</c> is GPU 0 of <see cref="GpuDevice.Create"/>'s list: CUDA when a CUDA device exists, else an OpenCL
/// GPU (an OpenCL CPU device is never taken). The absent-GPU error is covered by <c>DeviceSelectionTests</c>; the order
/// is checked here on stand-ins, since this machine has neither kind.
/// </summary>
public sealed class GpuSelectionOrderTests
{
    private record Card(string Name);

    private sealed record CudaCard(string Name) : Card(Name);

    private sealed record ClCard(string Name, bool Gpu) : Card(Name);

    [Fact]
    public void Cuda_devices_come_first_then_opencl_gpus_only()
    {
        var order = GpuDevice.CudaThenOpenCl<Card, CudaCard, ClCard>(
            [new CudaCard("H100"), new CudaCard("A10")], [new ClCard("pocl cpu", false), new ClCard("Radeon", true)], c => c.Gpu);
        Assert.Equal(["H100", "A10", "Radeon"], order.Select(c => c.Name));
    }

    [Fact]
    public void Without_cuda_the_first_opencl_gpu_is_gpu_zero()
    {
        var order = GpuDevice.CudaThenOpenCl<Card, CudaCard, ClCard>([], [new ClCard("pocl cpu", false), new ClCard("Arc", true)], c => c.Gpu);
        Assert.Equal("Arc", Assert.Single(order).Name);
    }

    [Fact]
    public void Neither_gives_an_empty_list_which_create_turns_into_the_no_gpu_error()
    {
        Assert.Empty(GpuDevice.CudaThenOpenCl<Card, CudaCard, ClCard>([], [new ClCard("pocl cpu", false)], c => c.Gpu));
    }
}
