using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Gradients;

// The PyTorch fixture suites again on ILGPU's CPU accelerator: the GPU kernels, run on emulated threads, against the
// same PyTorch files and finite differences as the CPU backend. One subclass per suite, each only overriding Target;
// all share the collection's one accelerator and run one at a time (a GPU stream is not thread-safe). Every fixture
// here is tiny (at most 2x6x8x8 inputs), so every case runs: the accelerator is thousands of times slower than the
// CPU backend, which matters for batches, not for these. The float64-oracle checks do not touch the device and run
// again harmlessly.

/// <summary><see cref="ActivationTests"/> on the ILGPU CPU accelerator.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorActivationTests(IlgpuCpuAcceleratorFixture fixture) : ActivationTests
{
    protected override Device Target => fixture.Device;
}

/// <summary><see cref="BatchNormFixtureTests"/> on the ILGPU CPU accelerator.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorBatchNormFixtureTests(IlgpuCpuAcceleratorFixture fixture) : BatchNormFixtureTests
{
    protected override Device Target => fixture.Device;
}

/// <summary><see cref="Conv2dFixtureTests"/> on the ILGPU CPU accelerator.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorConv2dFixtureTests(IlgpuCpuAcceleratorFixture fixture) : Conv2dFixtureTests
{
    protected override Device Target => fixture.Device;
}

/// <summary><see cref="LinearTests"/> on the ILGPU CPU accelerator.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorLinearTests(IlgpuCpuAcceleratorFixture fixture) : LinearTests
{
    protected override Device Target => fixture.Device;
}

/// <summary><see cref="LossTests"/> on the ILGPU CPU accelerator.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorLossTests(IlgpuCpuAcceleratorFixture fixture) : LossTests
{
    protected override Device Target => fixture.Device;
}

/// <summary><see cref="PoolFixtureTests"/> on the ILGPU CPU accelerator.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorPoolFixtureTests(IlgpuCpuAcceleratorFixture fixture) : PoolFixtureTests
{
    protected override Device Target => fixture.Device;
}

/// <summary><see cref="SoftmaxTests"/> on the ILGPU CPU accelerator.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorSoftmaxTests(IlgpuCpuAcceleratorFixture fixture) : SoftmaxTests
{
    protected override Device Target => fixture.Device;
}

/// <summary><see cref="TinyMlpKernelChainTests"/> on the ILGPU CPU accelerator.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuCpuAcceleratorTinyMlpKernelChainTests(IlgpuCpuAcceleratorFixture fixture) : TinyMlpKernelChainTests
{
    protected override Device Target => fixture.Device;
}
