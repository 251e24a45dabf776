using Dsl.Tests.Gradients;
using Dsl.Tests.Networks;
using Specs.Networks;
using Xunit;

namespace Dsl.Tests.Visualization;

/// <summary>
/// The per-layer probe hook costs a training step nothing: without a probe (after one was registered and disposed) and
/// with one copying two layers, a steady-state MnistNet step allocates no more than <see cref="SteadyStateAllocationTests"/> allows.
/// </summary>
[Collection(SteadyStateAllocationCollection.Name)]
public sealed class ProbeAllocationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_training_step_allocates_almost_nothing_after_warm_up_with_or_without_a_probe(bool probing)
    {
        var rng = new Random(1);
        var net = new MnistNet(Device.Cpu, seed: 1);
        var probe = net.Probe("conv1", "fc1");
        if (!probing)
        {
            probe.Dispose();
        }
        var x = Tensor.From(RandomInputs.Normal(rng, 32 * 784), Device.Cpu, 32, 1, 28, 28);
        var labels = Tensor.From(RandomInputs.Labels(rng, 32, 10), Device.Cpu, 32);
        var sgd = new Sgd(net.Parameters, lr: 0.01f, momentum: 0.5f);
        LossResult? loss = null;
        long measured = 0;
        for (int step = 0; step < 55; step++)
        {
            long before = StepAllocations.Now();
            loss = Loss.Nll(net.Forward(x), labels, loss);
            net.ZeroGrad();
            net.Backward(loss.Gradient);
            sgd.Step();
            long after = StepAllocations.Now();
            if (step >= 50)
            {
                measured += after - before;
            }
        }
        Assert.True(float.IsFinite(loss!.Value));
        Assert.True(measured / 5.0 <= 1024, $"a steady-state step {(probing ? "with" : "without")} a probe allocated {measured / 5.0:F0} bytes");
        if (probing)
        {
            Assert.Equal(new[] { 32, 50 }, probe["fc1"].Shape);
        }
        probe.Dispose();
    }
}
