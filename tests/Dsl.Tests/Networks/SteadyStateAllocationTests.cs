using Dsl.Tests.Gradients;
using Specs.Networks;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Networks;

/// <summary>
/// A training step of a generated network reuses its buffers: after the warm-up steps, Forward, Loss.Nll (reusing its
/// result), ZeroGrad, Backward and Sgd.Step of MnistNet at batch 64 should allocate (almost) nothing. Counted with
/// <see cref="StepAllocations"/>: the calling thread and the worker threads the CPU kernels run on, not the test host's
/// other threads; the tests also run alone (<see cref="SteadyStateAllocationCollection"/>).
/// </summary>
[Collection(SteadyStateAllocationCollection.Name)]
public sealed class SteadyStateAllocationTests
{
    private const int Batch = 64;
    // Enough steps for tiered compilation to settle: re-jitting hot methods allocates a little, once.
    private const int WarmUpSteps = 50;
    private const int MeasuredSteps = 5;
    private readonly ITestOutputHelper _output;

    public SteadyStateAllocationTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Mnist_net_training_step_at_batch_64_allocates_only_the_result_handle_after_warm_up()
    {
        // Forward returns a fresh handle over its reused output buffer (so a stale result cannot be read): exactly that.
        var (perStep, breakdown) = Measure(Device.Cpu);
        Assert.True(perStep[0] == StepAllocations.HandleBytes && perStep.Sum() == StepAllocations.HandleBytes,
            $"a steady-state training step allocated {perStep.Sum():F0} bytes, expected only Forward's result handle ({StepAllocations.HandleBytes}): {breakdown}.");
    }

    [Fact]
    public void Mnist_net_loss_zero_grad_and_sgd_step_allocate_nothing_after_warm_up()
    {
        // The phases that already allocate nothing stay that way while the kernels are being fixed.
        var (perStep, breakdown) = Measure(Device.Cpu);
        Assert.True(perStep[1] == 0 && perStep[2] == 0 && perStep[4] == 0, $"Loss.Nll with reuse, ZeroGrad and Sgd.Step should allocate nothing: {breakdown}.");
    }

    [Fact]
    public void Kim_cnn_training_steps_alternating_two_lengths_allocate_nothing_after_warm_up()
    {
        // Embedding, Transpose, three Conv1d, masked max over time, Concat, Dropout, Linear; batches of 16 and 11 tokens in
        // turn, so the symbolic buffers are reused below their capacity every other step. Counted on the threads the step
        // runs on (StepAllocations), so the budget is zero: the whole-process count also sees the test host's threads.
        var rng = new Random(3);
        var net = new KimCnn(Device.Cpu, seed: 1);
        var batches = new[] { 16, 11 }.Select(t => (
            Tokens: Tensor.From(Enumerable.Range(0, 8 * t).Select(_ => (long)rng.Next(1, 500)).ToArray(), Device.Cpu, 8, t),
            Mask: Tensor.From(Enumerable.Range(0, 8 * t).Select(i => i % t < t - i / t ? 1f : 0f).ToArray(), Device.Cpu, 8, t))).ToArray();
        var labels = Tensor.From(RandomInputs.Labels(rng, 8, KimCnn.Topics), Device.Cpu, 8);
        var sgd = new Sgd(net.Parameters, lr: 0.01f, momentum: 0.5f);
        LossResult? loss = null;
        void Steps(int count)
        {
            for (int step = 0; step < count; step++)
            {
                var (tokens, mask) = batches[step % 2];
                var logits = net.Forward(tokens, mask);
                loss = Loss.CrossEntropy(logits, labels, loss);
                net.ZeroGrad();
                net.Backward(loss.Gradient);
                sgd.Step();
            }
        }
        Steps(WarmUpSteps);
        double perStep = StepAllocations.FewestInRounds(() => Steps(MeasuredSteps * 2)) / (MeasuredSteps * 2.0);
        _output.WriteLine($"{perStep:F0} bytes per Kim CNN step in the quietest of three rounds of {MeasuredSteps * 2} steps after {WarmUpSteps} warm-up steps");
        Assert.True(float.IsFinite(loss!.Value), "the loss is not finite");
        Assert.True(perStep == StepAllocations.HandleBytes,
            $"a steady-state Kim CNN step allocated {perStep:F0} bytes on the threads that ran it, expected only Forward's result handle ({StepAllocations.HandleBytes}).");
    }

    [Fact]
    public void Two_conv_training_steps_on_the_blocked_kernel_allocate_only_the_result_handle_after_warm_up()
    {
        // TwoConv's 32-to-64-channel 5x5 layer runs forward and input gradient on the blocked-layout kernel (each worker's
        // blocked copy and row buffer are made on first use and reused); its other layers on im2col + GEMM.
        var rng = new Random(5);
        var net = new TwoConvNet(Device.Cpu, seed: 1);
        const int batch = 8;
        var x = Tensor.From(RandomInputs.Uniform(rng, batch * 28 * 28, 0, 1), Device.Cpu, batch, 1, 28, 28);
        var labels = Tensor.From(RandomInputs.Labels(rng, batch, 10), Device.Cpu, batch);
        var sgd = new Sgd(net.Parameters, lr: 0.01f, momentum: 0.5f);
        LossResult? loss = null;
        void Steps(int count)
        {
            for (int step = 0; step < count; step++)
            {
                loss = Loss.Nll(net.Forward(x), labels, loss);
                net.ZeroGrad();
                net.Backward(loss.Gradient);
                sgd.Step();
            }
        }
        Steps(WarmUpSteps);
        double perStep = StepAllocations.FewestInRounds(() => Steps(MeasuredSteps)) / (double)MeasuredSteps;
        _output.WriteLine($"{perStep:F0} bytes per TwoConv step at batch {batch} in the quietest of three rounds of {MeasuredSteps} steps");
        Assert.True(float.IsFinite(loss!.Value), "the loss is not finite");
        Assert.True(perStep == StepAllocations.HandleBytes,
            $"a steady-state TwoConv step allocated {perStep:F0} bytes on the threads that ran it, expected only Forward's result handle ({StepAllocations.HandleBytes}).");
    }

    [Theory]
    [InlineData(64)]
    [InlineData(37)]
    public void Split_evaluation_forwards_allocate_only_the_result_handle_after_warm_up(int batch)
    {
        // Two threads: the forward runs as row parts (Module.RunEvaluationParts), whose buffers, views and delegates are
        // made on first use and reused. 37 samples make parts of 18 and 19.
        var device = Device.CpuWithThreads(2);
        var rng = new Random(4);
        var net = new ResNet20(device, seed: 1);
        net.Eval();
        var x = Tensor.From(RandomInputs.Uniform(rng, batch * 28 * 28, 0, 1), device, batch, 1, 28, 28);
        long splits = net.SplitEvaluations, measured = 0;
        for (int step = 0; step < WarmUpSteps + MeasuredSteps; step++)
        {
            long before = StepAllocations.Now();
            net.Forward(x);
            long after = StepAllocations.Now();
            if (step >= WarmUpSteps)
            {
                measured += after - before;
            }
        }
        double perForward = measured / (double)MeasuredSteps;
        _output.WriteLine($"{perForward:F0} bytes per evaluation forward of ResNet-20 at batch {batch}, {net.SplitEvaluations - splits} forwards split");
        Assert.Equal(global::Dsl.Devices.Cpu.ForkJoin.MaxParts >= 2 ? WarmUpSteps + MeasuredSteps : 0, net.SplitEvaluations - splits);
        Assert.True(perForward == StepAllocations.HandleBytes,
            $"a steady-state evaluation forward allocated {perForward:F0} bytes on the threads that ran it, expected only its result handle ({StepAllocations.HandleBytes}).");
    }

    /// <summary>Average bytes per measured step for each phase (Forward, Loss.Nll, ZeroGrad, Backward, Sgd.Step).</summary>
    private (double[] PerStep, string Breakdown) Measure(Device device)
    {
        var rng = new Random(1);
        var net = new MnistNet(device, seed: 1);
        var x = Tensor.From(RandomInputs.Uniform(rng, Batch * 28 * 28, 0, 1), device, Batch, 1, 28, 28);
        var labels = Tensor.From(RandomInputs.Labels(rng, Batch, 10), device, Batch);
        var sgd = new Sgd(net.Parameters, lr: 0.01f, momentum: 0.5f);
        LossResult? loss = null;
        LossResult? firstLoss = null;
        Tensor? logp = null;

        // One step in its phases, so a failure says which phase allocates.
        var phases = new (string Name, Action Run)[]
        {
            ("Forward", () => logp = net.Forward(x)),
            ("Loss.Nll", () => loss = Loss.Nll(logp!, labels, loss)),
            ("ZeroGrad", () => net.ZeroGrad()),
            ("Backward", () => net.Backward(loss!.Gradient)),
            ("Sgd.Step", () => sgd.Step()),
        };
        var bytes = new long[phases.Length];
        for (int step = 0; step < WarmUpSteps + MeasuredSteps; step++)
        {
            for (int p = 0; p < phases.Length; p++)
            {
                long before = global::Dsl.Tests.Networks.StepAllocations.Now();
                phases[p].Run();
                long after = global::Dsl.Tests.Networks.StepAllocations.Now();
                if (step >= WarmUpSteps)
                {
                    bytes[p] += after - before;
                }
            }
            firstLoss ??= loss;
        }

        Assert.Same(firstLoss, loss);
        Assert.True(float.IsFinite(loss!.Value), "the loss is not finite: the steps did not compute anything useful");
        var perStep = bytes.Select(b => b / (double)MeasuredSteps).ToArray();
        string breakdown = $"{perStep.Sum():F0} bytes per step on {device.Name} over {MeasuredSteps} steps after {WarmUpSteps} warm-up steps ("
            + string.Join(", ", phases.Select((ph, p) => $"{ph.Name} {perStep[p]:F0}")) + ")";
        _output.WriteLine(breakdown);
        return (perStep, breakdown);
    }
}
