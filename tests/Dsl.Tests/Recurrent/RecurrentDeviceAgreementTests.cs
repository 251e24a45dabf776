using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Recurrent;

/// <summary>
/// Generated recurrent networks on <see cref="Device.Cpu"/> and on ILGPU's CPU accelerator (the GPU kernels) with the same
/// seed and tiny shapes: the same outputs, input gradients and parameter gradients within <see cref="Tolerance.Reduction"/>,
/// for stacked, bidirectional, Last, attention pooling and dropout (the same masks from the same seed).
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class RecurrentDeviceAgreementTests
{
    private readonly Device _gpu;

    public RecurrentDeviceAgreementTests(IlgpuCpuAcceleratorFixture fixture) => _gpu = fixture.Device;

    [Fact]
    public void Lstm_stack_bidirectional_with_last() => Agree(d => new LstmLastNet(d, 3), new[] { 2, 5, 3 });

    [Fact]
    public void Gru_stack() => Agree(d => new GruStackNet(d, 4), new[] { 2, 5, 3 });

    [Fact]
    public void Rnn_relu_stack_bidirectional() => Agree(d => new RnnReluStackNet(d, 5), new[] { 2, 4, 3 });

    [Fact]
    public void Lstm_attention_pool() => Agree(d => new LstmPoolNet(d, 6), new[] { 2, 6, 3 });

    [Fact]
    public void Lstm_with_dropout_in_training() => Agree(d => new LstmDropoutNet(d, 7), new[] { 2, 5, 3 });

    private void Agree(Func<Device, Module> create, int[] shape)
    {
        var rng = new Random(11);
        float[] x = RandomInputs.Normal(rng, shape.Aggregate(1, (a, b) => a * b));
        var cpu = create(Device.Cpu);
        var gpu = create(_gpu);
        cpu.ComputeInputGradient = gpu.ComputeInputGradient = true;
        var yCpu = cpu.Forward(Tensor.From(x, Device.Cpu, shape));
        var yGpu = gpu.Forward(Tensor.From(x, _gpu, shape));
        Tolerance.Reduction.AssertClose(yCpu.ToArray(), yGpu.ToArray(), "output");
        float[] r = RandomInputs.Normal(rng, (int)yCpu.Length);
        cpu.Backward(Tensor.From(r, Device.Cpu, yCpu.Shape));
        gpu.Backward(Tensor.From(r, _gpu, yGpu.Shape));
        for (int i = 0; i < cpu.Parameters.Count; i++)
        {
            var p = cpu.Parameters[i];
            Assert.True(p.Grad.ToArray().Any(v => v != 0f), $"{p.Name} has no gradient: the comparison would be vacuous");
            Tolerance.Reduction.AssertClose(p.Grad.ToArray(), gpu.Parameters[i].Grad.ToArray(), p.Name + ".grad");
        }
        Tolerance.Reduction.AssertClose(cpu.InputGradient!.ToArray(), gpu.InputGradient!.ToArray(), "input gradient");
    }
}
