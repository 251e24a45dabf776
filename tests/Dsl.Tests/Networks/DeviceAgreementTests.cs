using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Networks;

/// <summary>
/// One generated network built with the same seed on <see cref="Device.Cpu"/> and on ILGPU's CPU accelerator (the GPU
/// kernels): the same initial weights bit for bit, and within <see cref="Tolerance.Reduction"/> (atol 1e-5, rtol 1e-4) the
/// same training-mode outputs (dropout draws the same masks from the same seed), loss, gradients, batch-norm running
/// statistics and parameters after SGD steps with momentum.
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class DeviceAgreementTests
{
    private const int Seed = 17;
    private const int Batch = 3;
    private readonly Device _gpu;

    public DeviceAgreementTests(IlgpuCpuAcceleratorFixture fixture) => _gpu = fixture.Device;

    [Fact]
    public void Same_seed_gives_bitwise_identical_initial_weights_and_buffers_on_both_devices()
    {
        var cpu = new AgreementNet(Device.Cpu, Seed);
        var gpu = new AgreementNet(_gpu, Seed);
        Assert.Equal(cpu.Parameters.Select(p => p.Name), gpu.Parameters.Select(p => p.Name));
        for (int i = 0; i < cpu.Parameters.Count; i++)
        {
            Assert.Equal(cpu.Parameters[i].Value.ToArray(), gpu.Parameters[i].Value.ToArray());
        }
        Assert.Equal(cpu.Buffers.Select(b => b.Name), gpu.Buffers.Select(b => b.Name));
        for (int i = 0; i < cpu.Buffers.Count; i++)
        {
            Assert.Equal(cpu.Buffers[i].Value.ToArray(), gpu.Buffers[i].Value.ToArray());
        }
    }

    [Fact]
    public void Training_steps_agree_on_outputs_loss_gradients_running_statistics_and_updated_parameters()
    {
        var rng = new Random(5);
        float[] x = RandomInputs.Normal(rng, Batch * 36);
        long[] labels = RandomInputs.Labels(rng, Batch, 4);
        var cpu = new Side(new AgreementNet(Device.Cpu, Seed), x, labels);
        var gpu = new Side(new AgreementNet(_gpu, Seed), x, labels);

        for (int step = 1; step <= 2; step++)
        {
            string at = $" (step {step})";
            var yCpu = cpu.Net.Forward(cpu.X);
            var yGpu = gpu.Net.Forward(gpu.X);
            Tolerance.Reduction.AssertClose(yCpu.ToArray(), yGpu.ToArray(), "log-probabilities" + at);

            var lossCpu = Loss.Nll(yCpu, cpu.Labels);
            var lossGpu = Loss.Nll(yGpu, gpu.Labels);
            Tolerance.Reduction.AssertClose(lossCpu.Value, lossGpu.Value, "loss" + at);

            cpu.Optimizer.ZeroGrad();
            gpu.Optimizer.ZeroGrad();
            cpu.Net.Backward(lossCpu.Gradient);
            gpu.Net.Backward(lossGpu.Gradient);
            for (int i = 0; i < cpu.Net.Parameters.Count; i++)
            {
                var p = cpu.Net.Parameters[i];
                Assert.True(p.Grad.ToArray().Any(v => v != 0f), $"{p.Name} has no gradient{at}: the comparison would be vacuous");
                Tolerance.Reduction.AssertClose(p.Grad.ToArray(), gpu.Net.Parameters[i].Grad.ToArray(), p.Name + ".grad" + at);
            }
            Tolerance.Reduction.AssertClose(cpu.Net.InputGradient!.ToArray(), gpu.Net.InputGradient!.ToArray(), "input gradient" + at);
            for (int i = 0; i < cpu.Net.Buffers.Count; i++)
            {
                Tolerance.Reduction.AssertClose(cpu.Net.Buffers[i].Value.ToArray(), gpu.Net.Buffers[i].Value.ToArray(), cpu.Net.Buffers[i].Name + at);
            }

            cpu.Optimizer.Step();
            gpu.Optimizer.Step();
            for (int i = 0; i < cpu.Net.Parameters.Count; i++)
            {
                var p = cpu.Net.Parameters[i];
                Tolerance.Reduction.AssertClose(p.Value.ToArray(), gpu.Net.Parameters[i].Value.ToArray(), p.Name + " after SGD" + at);
            }
        }
    }

    [Fact]
    public void Training_mode_dropout_draws_the_same_masks_on_both_devices()
    {
        // Dropout in training changes the output (so the agreement above is not an evaluation-mode accident), and the
        // masks are equal: a mask differing in one element would move the output far beyond the tolerance.
        var rng = new Random(9);
        float[] x = RandomInputs.Normal(rng, Batch * 36);
        var cpu = new AgreementNet(Device.Cpu, Seed);
        var gpu = new AgreementNet(_gpu, Seed);
        var train = cpu.Forward(Tensor.From(x, Device.Cpu, Batch, 1, 6, 6)).ToArray();
        var trainGpu = gpu.Forward(Tensor.From(x, _gpu, Batch, 1, 6, 6)).ToArray();
        Tolerance.Reduction.AssertClose(train, trainGpu, "training-mode output");
        cpu.Eval();
        var eval = cpu.Forward(Tensor.From(x, Device.Cpu, Batch, 1, 6, 6)).ToArray();
        Assert.Contains(Enumerable.Range(0, eval.Length), i => Math.Abs(eval[i] - train[i]) > 1e-3);
    }

    private sealed class Side
    {
        public Side(AgreementNet net, float[] x, long[] labels)
        {
            Net = net;
            Net.ComputeInputGradient = true;
            X = Tensor.From(x, net.Device, Batch, 1, 6, 6);
            Labels = Tensor.From(labels, net.Device, Batch);
            Optimizer = new Sgd(net.Parameters, lr: 0.1f, momentum: 0.9f);
        }

        public AgreementNet Net { get; }
        public Tensor X { get; }
        public Tensor Labels { get; }
        public Sgd Optimizer { get; }
    }
}
