using Dsl.Tests.Gradients;
using Dsl.Tests.Networks;
using Xunit;

namespace Dsl.Tests.Fusion;

/// <summary>
/// The fused kernels and the folded weights' cache allocate nothing in steady state: a training step of the fused network,
/// and an evaluation forward whose folds are current (counted with <see cref="StepAllocations"/>, the tests running alone).
/// </summary>
[Collection(SteadyStateAllocationCollection.Name)]
public sealed class FusionAllocationTests
{
    private const int WarmUp = 50;
    private const int Measured = 5;

    [Fact]
    public void A_fused_training_step_and_a_folded_evaluation_forward_allocate_nothing_after_warm_up()
    {
        var net = new FusedNet(Device.Cpu, seed: 3);
        var rng = new Random(1);
        var x = Tensor.From(RandomInputs.Normal(rng, 8 * 72), Device.Cpu, 8, 2, 6, 6);
        var labels = Tensor.From(RandomInputs.Labels(rng, 8, 3), Device.Cpu, 8);
        var sgd = new Sgd(net.Parameters, lr: 0.01f, momentum: 0.5f);
        LossResult? loss = null;
        long training = 0, evaluation = 0;
        for (int step = 0; step < WarmUp + Measured; step++)
        {
            long before = StepAllocations.Now();
            net.Train();
            var y = net.Forward(x);
            loss = Loss.Nll(y, labels, reuse: loss);
            net.ZeroGrad();
            net.Backward(loss.Gradient);
            sgd.Step();
            long middle = StepAllocations.Now();
            net.Eval();
            net.Forward(x); // refreshes the folds once (the step changed the weights) ...
            long refreshed = StepAllocations.Now();
            net.Forward(x); // ... and reuses them
            long after = StepAllocations.Now();
            if (step >= WarmUp)
            {
                training += middle - before;
                evaluation += (refreshed - middle) + (after - refreshed);
            }
        }
        Assert.True(training == 0, $"{training} bytes allocated by {Measured} fused training steps");
        Assert.True(evaluation == 0, $"{evaluation} bytes allocated by {2 * Measured} folded evaluation forwards");
    }
}
