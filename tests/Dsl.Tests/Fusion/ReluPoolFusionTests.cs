using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Fusion;

/// <summary>
/// ReLUs whose backward their max pool does (<see cref="ReluPoolFusedNet"/>) against the same network with
/// <c>[Network(Fuse = false)]</c>, same seed, same data: training outputs, every parameter gradient and the input gradient
/// within <see cref="FusionTests.Close"/>'s tolerance through steps with momentum, and the input gradient under the
/// visualisation rules, which the ReLU applies itself (the pool's backward then runs without the mask).
/// </summary>
public sealed class ReluPoolFusionTests
{
    private const int Seed = 11;
    private const int Batch = 3;

    [Fact]
    public void The_pool_doing_the_relu_backward_agrees_with_the_unfused_network_on_the_cpu() => Agree(Device.Cpu);

    [Theory]
    [InlineData(ReluBackwardRule.DeconvNet)]
    [InlineData(ReluBackwardRule.Guided)]
    public void The_visualisation_relu_rules_give_the_unfused_input_gradient(ReluBackwardRule rule)
        => FusionTests.SaliencyAgrees(new ReluPoolFusedNet(Device.Cpu, Seed), new ReluPoolUnfusedNet(Device.Cpu, Seed), rule,
            Input(Device.Cpu, 50), Tensor.From(RandomInputs.Normal(new Random(51), Batch * 3), Device.Cpu, Batch, 3));

    internal static void Agree(Device device)
        => FusionTests.TrainSideBySide(new ReluPoolFusedNet(device, Seed), new ReluPoolUnfusedNet(device, Seed), device,
            step => Input(device, 20 + step), Batch, steps: 3, new Random(12));

    private static Tensor Input(Device device, int seed)
        => Tensor.From(RandomInputs.Normal(new Random(seed), Batch * 200), device, Batch, 2, 10, 10);
}

/// <summary>The same agreement on ILGPU's CPU accelerator: its masked pool backward against its separate ReLU backward.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class ReluPoolFusionGpuTests(IlgpuCpuAcceleratorFixture fixture)
{
    [Fact]
    public void The_pool_doing_the_relu_backward_agrees_with_the_unfused_network_on_the_ilgpu_cpu_accelerator()
        => ReluPoolFusionTests.Agree(fixture.Device);
}
