using Dsl.Tests.Gradients;
using Dsl.Tests.Networks;
using Specs.Networks;
using Xunit;

namespace Dsl.Tests.Transfer;

/// <summary>
/// Freezing keeps a steady-state training step allocation-free: a frozen layer between trained ones (its weight gradient
/// going to scratch) and a frozen bottom (its backward skipped), counted as <see cref="SteadyStateAllocationTests"/> counts.
/// </summary>
[Collection(SteadyStateAllocationCollection.Name)]
public sealed class FrozenAllocationTests
{
    [Theory]
    [InlineData("conv2")]
    [InlineData("conv1")]
    public void A_training_step_with_a_frozen_layer_allocates_almost_nothing_after_warm_up(string frozen)
    {
        var rng = new Random(1);
        var net = new MnistNet(Device.Cpu, seed: 1);
        net.Freeze(frozen);
        var x = Tensor.From(RandomInputs.Normal(rng, 32 * 784), Device.Cpu, 32, 1, 28, 28);
        var labels = Tensor.From(RandomInputs.Labels(rng, 32, 10), Device.Cpu, 32);
        var sgd = new Sgd(net.Parameters, lr: 0.01f, momentum: 0.5f);
        LossResult? loss = null;
        long measured = 0;
        for (int step = 0; step < 55; step++)
        {
            long before = global::Dsl.Tests.Networks.StepAllocations.Now();
            loss = Loss.Nll(net.Forward(x), labels, loss);
            net.ZeroGrad();
            net.Backward(loss.Gradient);
            sgd.Step();
            long after = global::Dsl.Tests.Networks.StepAllocations.Now();
            if (step >= 50)
            {
                measured += after - before;
            }
        }
        Assert.True(float.IsFinite(loss!.Value));
        long handle = global::Dsl.Tests.Networks.StepAllocations.HandleBytes;
        Assert.True(measured / 5.0 == handle, $"a steady-state step with {frozen} frozen allocated {measured / 5.0:F0} bytes, expected only Forward's result handle ({handle})");
        Assert.Equal(frozen == "conv2" ? 2 * 55 : 0, net.FrozenSinkWrites);
    }
}
