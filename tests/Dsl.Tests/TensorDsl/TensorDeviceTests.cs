using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Dsl.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.TensorDsl;

/// <summary>
/// The tensor-operation networks built with the same seed on the CPU and on ILGPU's CPU accelerator (the GPU kernels on
/// emulated threads): the same outputs, parameter gradients and input gradients on tiny shapes.
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class TensorDeviceTests(IlgpuCpuAcceleratorFixture fixture)
{
    private readonly Device _gpu = fixture.Device;

    [Fact]
    public void Broadcasting_arithmetic_agrees()
    {
        var rng = new Random(3);
        var inputs = new[] { new[] { 2, 3, 4 }, new[] { 2, 4 }, new[] { 2, 3, 1 } }.Select(s => Tensor.From(RandomInputs.Normal(rng, s.Aggregate(1, (a, b) => a * b)), Device.Cpu, s)).ToArray();
        Agree(new BroadcastNet(Device.Cpu, 1), new BroadcastNet(_gpu, 1), inputs, 0,
            (net, x) => ((BroadcastNet)net).Forward(x[0], x[1], x[2]));
    }

    [Fact]
    public void MatMul_in_every_case_agrees()
    {
        var x = Tensor.From(RandomInputs.Normal(new Random(4), 3 * 12), Device.Cpu, 3, 12);
        Agree(new MatMulNet(Device.Cpu, 2), new MatMulNet(_gpu, 2), new[] { x }, 0, (net, i) => ((MatMulNet)net).Forward(i[0]));
    }

    [Fact]
    public void Heads_softmax_over_a_dimension_masked_fill_and_slices_agree()
    {
        var x = Tensor.From(RandomInputs.Normal(new Random(5), 2 * 4 * 8), Device.Cpu, 2, 4, 8);
        var keep = TensorGradientTests.Keep(2, 4);
        Agree(new HeadsNet(Device.Cpu, 3), new HeadsNet(_gpu, 3), new[] { x, keep }, 1, (net, i) => ((HeadsNet)net).Forward(i[0], i[1]));
    }

    /// <summary>Forward and backward on both devices; the last <paramref name="constant"/> inputs carry no gradient.</summary>
    internal static void Agree(Module cpu, Module gpu, Tensor[] inputs, int constant, Func<Module, Tensor[], Tensor> forward)
    {
        cpu.ComputeInputGradient = true;
        gpu.ComputeInputGradient = true;
        var yCpu = forward(cpu, inputs);
        var yGpu = forward(gpu, inputs.Select(t => t.To(gpu.Device)).ToArray());
        Tolerance.Reduction.AssertClose(yCpu.ToArray(), yGpu.ToArray(), "output");
        var dy = Tensor.From(Enumerable.Range(0, (int)yCpu.Length).Select(i => (float)Math.Sin(i)).ToArray(), Device.Cpu, yCpu.Shape);
        cpu.Backward(dy);
        gpu.Backward(dy.To(gpu.Device));
        for (int i = 0; i < cpu.Parameters.Count; i++)
        {
            Tolerance.Reduction.AssertClose(cpu.Parameters[i].Grad.ToArray(), gpu.Parameters[i].Grad.ToArray(), cpu.Parameters[i].Name + ".grad");
        }
        for (int i = 0; i < inputs.Length - constant; i++)
        {
            Tolerance.Reduction.AssertClose(cpu.InputGradients[i]!.ToArray(), gpu.InputGradients[i]!.ToArray(), $"input {i} gradient");
        }
    }
}

/// <summary>A steady-state training step of a network of tensor operations allocates (almost) nothing, alternating two lengths.</summary>
[Collection(SteadyStateAllocationCollection.Name)]
public sealed class TensorAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public void Heads_net_training_steps_alternating_two_lengths_allocate_almost_nothing_after_warm_up()
    {
        const int warmUp = 50, measuredSteps = 10;
        var rng = new Random(3);
        var net = new HeadsNet(Device.Cpu, seed: 1);
        var batches = new[] { 7, 5 }.Select(t => (
            X: Tensor.From(RandomInputs.Normal(rng, 4 * t * 8), Device.Cpu, 4, t, 8),
            Keep: TensorGradientTests.Keep(4, t),
            Target: Tensor.From(RandomInputs.Normal(rng, 4 * t * 2), Device.Cpu, 4, t, 2))).ToArray();
        var sgd = new Sgd(net.Parameters, lr: 0.01f, momentum: 0.5f);
        LossResult? loss = null;
        long measured = 0;
        for (int step = 0; step < warmUp + measuredSteps; step++)
        {
            var (x, keep, target) = batches[step % 2];
            long before = global::Dsl.Tests.Networks.StepAllocations.Now();
            var y = net.Forward(x, keep);
            loss = Loss.Mse(y, target, loss);
            net.ZeroGrad();
            net.Backward(loss.Gradient);
            sgd.Step();
            long after = global::Dsl.Tests.Networks.StepAllocations.Now();
            if (step >= warmUp)
            {
                measured += after - before;
            }
        }
        double perStep = measured / (double)measuredSteps;
        output.WriteLine($"{perStep:F0} bytes per HeadsNet step over {measuredSteps} steps after {warmUp} warm-up steps");
        Assert.True(float.IsFinite(loss!.Value), "the loss is not finite");
        Assert.True(perStep <= 1024, $"a steady-state HeadsNet step allocated {perStep:F0} bytes (budget 1024).");
    }
}
