using Dsl.Devices.Gpu;
using Xunit;

namespace Dsl.Tests.Faults;

/// <summary>
/// Devices said plainly: <c>Device.Gpu()</c> is a real GPU or a clear error, never ILGPU's CPU emulator; the emulator
/// only by name; <c>DSL_DEVICE</c> mistakes are one line naming the variable.
/// </summary>
public sealed class DeviceSelectionTests
{
    private static bool HasGpu => Device.GpuNames.Count > 0;

    [Fact]
    public void Gpu_is_a_real_gpu_or_a_clear_error_never_the_emulator()
    {
        if (HasGpu)
        {
            var gpu = Assert.IsType<GpuDevice>(Device.Gpu());
            Assert.False(gpu.IsCpuAccelerator);
            return;
        }
        var e = Assert.Throws<NotSupportedException>(() => Device.Gpu());
        Assert.Contains("No GPU was found", e.Message);
        Assert.Contains("gpu:cpu", e.Message);
    }

    [Fact]
    public void Gpu_index_out_of_range_names_the_index_and_lists_the_cards()
    {
        var e = Assert.Throws<NotSupportedException>(() => Device.Gpu(99));
        Assert.Contains(HasGpu ? "There is no GPU 99: the GPUs are 0: " : "No GPU was found", e.Message);
    }

    [Fact]
    public void Emulator_only_when_asked_for_by_name()
    {
        var emulator = Assert.IsType<GpuDevice>(Device.GpuEmulator());
        Assert.True(emulator.IsCpuAccelerator);
        Assert.Same(emulator, Device.Parse("gpu:cpu"));
        Assert.Same(emulator, Device.FromEnvironment("gpu:cpu"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("cpu")]
    public void Unset_or_cpu_variable_means_the_cpu(string? value) => Assert.Same(Device.Cpu, Device.FromEnvironment(value));

    [Theory]
    [InlineData("bogus")]
    [InlineData("cpu:0")]
    [InlineData("gpu:-1")]
    public void Unknown_device_in_the_variable_is_one_line_naming_it(string value)
    {
        var e = Assert.Throws<DeviceSelectionException>(() => Device.FromEnvironment(value));
        Assert.StartsWith($"DSL_DEVICE={value}: Unknown device '{value}'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Gpu_in_the_variable_without_a_gpu_is_one_line_naming_it()
    {
        if (HasGpu)
        {
            Assert.IsType<GpuDevice>(Device.FromEnvironment("gpu"));
            return;
        }
        var e = Assert.Throws<DeviceSelectionException>(() => Device.FromEnvironment("gpu"));
        Assert.StartsWith("DSL_DEVICE=gpu: No GPU was found", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
