using Dsl.Tests.Gradients;
using Dsl.Tests.Networks;
using Xunit;

namespace Dsl.Tests.Fusion;

/// <summary>
/// The fused kernels and the folded weights' cache allocate nothing in steady state: a training step of the fused network
/// allocates no more than the unfused one (whose few bytes per step are outside the fused kernels), and an evaluation
/// forward, folds refreshed or reused, nothing (counted with <see cref="StepAllocations"/>, the tests running alone).
/// </summary>
[Collection(SteadyStateAllocationCollection.Name)]
public sealed class FusionAllocationTests
{
    private const int WarmUp = 50;
    private const int Measured = 5;

    [Fact]
    public void A_fused_training_step_and_a_folded_evaluation_allocate_no_more_than_the_unfused_ones()
    {
        var (fusedTraining, fusedEvaluation) = Measure(new FusedNet(Device.Cpu, seed: 3));
        var (unfusedTraining, unfusedEvaluation) = Measure(new UnfusedNet(Device.Cpu, seed: 3));
        Assert.True(fusedTraining <= unfusedTraining, $"{fusedTraining} bytes allocated by {Measured} fused training steps, {unfusedTraining} unfused");
        Assert.True(fusedEvaluation <= unfusedEvaluation, $"{fusedEvaluation} bytes allocated by {2 * Measured} folded evaluation forwards, {unfusedEvaluation} unfused");
    }

    [Fact]
    public void Refreshing_the_folded_weights_allocates_nothing()
    {
        var net = new FusedNet(Device.Cpu, seed: 3);
        var p = net.Parameters;
        var fold = new FoldedConv(Device.Cpu, p[0].Shape);
        var (mean, variance) = (net.Buffers[0].Value, net.Buffers[1].Value);
        for (int i = 0; i < WarmUp; i++)
        {
            net.StateChanged();
            fold.Refresh(net, p[0], p[1], p[2], p[3], mean, variance, 1e-5f);
        }
        long before = StepAllocations.Now();
        for (int i = 0; i < Measured; i++)
        {
            net.StateChanged();
            fold.Refresh(net, p[0], p[1], p[2], p[3], mean, variance, 1e-5f);
        }
        long allocated = StepAllocations.Now() - before;
        Assert.Equal(WarmUp + Measured, fold.Refreshes);
        Assert.True(allocated == 0, $"{allocated} bytes allocated by {Measured} refreshes");
    }

    private static (long Training, long Evaluation) Measure(Module net)
    {
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
        return (training, evaluation);
    }
}
