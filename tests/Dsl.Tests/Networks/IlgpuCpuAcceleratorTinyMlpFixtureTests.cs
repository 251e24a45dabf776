using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Networks;

/// <summary>The generated TinyMlp against PyTorch on ILGPU's CPU accelerator (the GPU kernels on emulated threads).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorTinyMlpFixtureTests : TinyMlpFixtureTests
{
    private readonly Device _device;

    public IlgpuCpuAcceleratorTinyMlpFixtureTests(IlgpuCpuAcceleratorFixture fixture) => _device = fixture.Device;

    protected override Device Target => _device;
}
