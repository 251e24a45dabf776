using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Fusion;

/// <summary>
/// ReLUs whose backward their max pool does (<see cref="ReluPoolFusedNet"/> over images, <see cref="ReluPool1dFusedNet"/>
/// over sequences) against the same networks with <c>[Network(Fuse = false)]</c>, same seed, same data: training outputs,
/// every parameter gradient and the input gradient within <see cref="FusionTests.Close"/>'s tolerance through steps with
/// momentum, and the input gradient under the visualisation rules, which the ReLU applies itself (the pool's backward then
/// runs without the mask).
/// </summary>
public sealed class ReluPoolFusionTests
{
    private const int Seed = 11;
    private const int Batch = 3;

    public static TheoryData<bool> Dimensions() => new() { true, false };

    [Theory]
    [MemberData(nameof(Dimensions))]
    public void The_pool_doing_the_relu_backward_agrees_with_the_unfused_network_on_the_cpu(bool images) => Agree(Device.Cpu, images);

    [Theory]
    [InlineData(ReluBackwardRule.DeconvNet, true)]
    [InlineData(ReluBackwardRule.Guided, true)]
    [InlineData(ReluBackwardRule.Guided, false)]
    public void The_visualisation_relu_rules_give_the_unfused_input_gradient(ReluBackwardRule rule, bool images)
    {
        var (fused, unfused) = Pair(Device.Cpu, images);
        FusionTests.SaliencyAgrees(fused, unfused, rule, Input(Device.Cpu, images, 50),
            Tensor.From(RandomInputs.Normal(new Random(51), Batch * 3), Device.Cpu, Batch, 3));
    }

    internal static void Agree(Device device, bool images)
    {
        var (fused, unfused) = Pair(device, images);
        FusionTests.TrainSideBySide(fused, unfused, device, step => Input(device, images, 20 + step), Batch, steps: 3, new Random(12));
    }

    private static (Module Fused, Module Unfused) Pair(Device device, bool images)
        => images
            ? (new ReluPoolFusedNet(device, Seed), new ReluPoolUnfusedNet(device, Seed))
            : (new ReluPool1dFusedNet(device, Seed), new ReluPool1dUnfusedNet(device, Seed));

    private static Tensor Input(Device device, bool images, int seed)
    {
        int[] shape = images ? ReluPoolFusedNet.InputShape : ReluPool1dFusedNet.InputShape;
        return Tensor.From(RandomInputs.Normal(new Random(seed), Batch * shape.Aggregate(1, (a, b) => a * b)), device, new[] { Batch }.Concat(shape).ToArray());
    }
}

/// <summary>The same agreement on ILGPU's CPU accelerator: its masked pool backward against its separate ReLU backward.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class ReluPoolFusionGpuTests(IlgpuCpuAcceleratorFixture fixture)
{
    [Theory]
    [MemberData(nameof(ReluPoolFusionTests.Dimensions), MemberType = typeof(ReluPoolFusionTests))]
    public void The_pool_doing_the_relu_backward_agrees_with_the_unfused_network_on_the_ilgpu_cpu_accelerator(bool images)
        => ReluPoolFusionTests.Agree(fixture.Device, images);
}
