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
    {
        var sides = new Module[] { new ReluPoolFusedNet(Device.Cpu, Seed), new ReluPoolUnfusedNet(Device.Cpu, Seed) };
        var x = Input(Device.Cpu, 50);
        var dy = Tensor.From(RandomInputs.Normal(new Random(51), Batch * 3), Device.Cpu, Batch, 3);
        var gradients = new float[2][];
        for (int k = 0; k < 2; k++)
        {
            sides[k].ComputeInputGradient = true;
            sides[k].ReluBackward = rule;
            sides[k].Forward(x);
            sides[k].ZeroGrad();
            sides[k].Backward(dy);
            gradients[k] = sides[k].InputGradient!.ToArray();
        }
        FusionTests.Close(gradients[1], gradients[0], $"input gradient under {rule}");
        sides[1].ReluBackward = ReluBackwardRule.Standard;
        sides[1].ZeroGrad();
        sides[1].Forward(x);
        sides[1].Backward(dy);
        Assert.NotEqual(gradients[1], sides[1].InputGradient!.ToArray()); // the rule changed something, so the comparison saw it
    }

    internal static void Agree(Device device)
    {
        var sides = new Module[] { new ReluPoolFusedNet(device, Seed), new ReluPoolUnfusedNet(device, Seed) };
        var optimizers = sides.Select(n => new Sgd(n.Parameters, lr: 0.05f, momentum: 0.9f)).ToArray();
        var rng = new Random(12);
        for (int step = 0; step < 3; step++)
        {
            var x = Input(device, 20 + step);
            var labels = Tensor.From(RandomInputs.Labels(rng, Batch, 3), device, Batch);
            var ys = new float[2][];
            for (int k = 0; k < 2; k++)
            {
                sides[k].ComputeInputGradient = true;
                var y = sides[k].Forward(x);
                ys[k] = y.ToArray();
                var loss = Loss.Nll(y, labels);
                sides[k].ZeroGrad();
                sides[k].Backward(loss.Gradient);
            }
            FusionTests.Close(ys[1], ys[0], $"training output, step {step}");
            for (int i = 0; i < sides[0].Parameters.Count; i++)
            {
                FusionTests.Close(sides[1].Parameters[i].Grad.ToArray(), sides[0].Parameters[i].Grad.ToArray(), $"{sides[0].Parameters[i].Name} gradient, step {step}");
            }
            FusionTests.Close(sides[1].InputGradient!.ToArray(), sides[0].InputGradient!.ToArray(), $"input gradient, step {step}");
            foreach (var o in optimizers)
            {
                o.Step();
            }
        }
    }

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
