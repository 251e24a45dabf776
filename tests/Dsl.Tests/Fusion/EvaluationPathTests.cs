using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Dsl.Tests.Networks;
using Xunit;

namespace Dsl.Tests.Fusion;

/// <summary>
/// The evaluation path of PyTorch's MNIST example's layer order: max pool + ReLU in one pass (the argmax skipped when
/// nothing is kept for backward) and dropout as the identity without a copy, against the same network with
/// <c>[Network(Fuse = false)]</c>, same seed, same data. Max, ReLU and identity are exact, so evaluation outputs must be
/// equal bit for bit; training (dropout active, the same masks on both sides) and a Backward after an evaluation forward
/// within <see cref="FusionTests.Close"/>'s tolerance.
/// </summary>
public sealed class EvaluationPathTests
{
    private const int Seed = 5;

    [Fact]
    public void Pool_relu_and_dropout_agree_with_the_unfused_network_on_the_cpu() => Agree(Device.Cpu);

    internal static void Agree(Device device)
    {
        var sides = new Module[] { new PoolFusedNet(device, Seed), new PoolUnfusedNet(device, Seed) };
        var rng = new Random(3);
        FusionTests.TrainSideBySide(sides[0], sides[1], device, step => Input(device, 4, 10 + step), batch: 4, steps: 2, rng);
        foreach (var net in sides)
        {
            net.Eval();
            net.ComputeInputGradient = false;
        }
        // Two batch sizes, alternating: the evaluation plan's memory is reused across calls and batch sizes.
        foreach (int batch in new[] { 5, 1, 5 })
        {
            var x = Input(device, batch, 20 + batch);
            var fused = sides[0].Forward(x).ToArray();
            var unfused = sides[1].Forward(x).ToArray();
            Assert.Equal(unfused, fused);
        }
        // A Backward after an evaluation forward runs it again, kept: the argmax it needs is recorded then.
        var xe = Input(device, 5, 30);
        var dy = Tensor.From(RandomInputs.Normal(rng, 5 * 3), device, 5, 3);
        var gradients = new float[2][];
        for (int k = 0; k < 2; k++)
        {
            sides[k].Forward(xe);
            sides[k].ComputeInputGradient = true;
            sides[k].ZeroGrad();
            sides[k].Backward(dy);
            gradients[k] = sides[k].InputGradient!.ToArray();
        }
        FusionTests.Close(gradients[1], gradients[0], "input gradient after an evaluation forward");
    }

    [Fact]
    public void An_evaluation_forward_leaves_the_input_of_an_evaluation_dropout_unchanged_and_probes_the_dropout_as_its_input()
    {
        // The dropout's value is its input's memory in evaluation: a probe of it sees the convolution's output, and the
        // probe of the convolution agrees.
        var net = new PoolFusedNet(Device.Cpu, Seed);
        net.Eval();
        var x = Input(Device.Cpu, 2, 40);
        using var probe = net.Probe("conv2", "5");
        net.Forward(x);
        Assert.Equal(probe["conv2"].ToArray(), probe["5"].ToArray());
    }

    private static Tensor Input(Device device, int batch, int seed)
        => Tensor.From(RandomInputs.Normal(new Random(seed), batch * 144), device, batch, 1, 12, 12);
}

/// <summary>The same agreement on ILGPU's CPU accelerator, whose max pool + ReLU is the default pool-then-ReLU.</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class EvaluationPathGpuTests
{
    private readonly Device _gpu;

    public EvaluationPathGpuTests(IlgpuCpuAcceleratorFixture fixture) => _gpu = fixture.Device;

    [Fact]
    public void Pool_relu_and_dropout_agree_with_the_unfused_network_on_the_ilgpu_cpu_accelerator() => EvaluationPathTests.Agree(_gpu);
}
