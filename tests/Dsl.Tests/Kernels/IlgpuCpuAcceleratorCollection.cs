using Xunit;

namespace Dsl.Tests.Kernels;

/// <summary>Runs every test on the ILGPU CPU accelerator one at a time, sharing one device (a GPU stream is not thread-safe).</summary>
[CollectionDefinition(Name)]
public sealed class IlgpuCpuAcceleratorCollection : ICollectionFixture<IlgpuCpuAcceleratorFixture>
{
    public const string Name = "ILGPU CPU accelerator";
}
