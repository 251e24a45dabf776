using Dsl.Tests.Fixtures;
using Dsl.Tests.Kernels;
using Dsl.Tests.Networks;
using Xunit;

namespace Dsl.Tests.SeqDsl;

/// <summary>The sequence networks against PyTorch on ILGPU's CPU accelerator (the GPU kernels on emulated threads).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuSeqFixtureTests(IlgpuCpuAcceleratorFixture fixture) : SeqFixtureTests
{
    protected override Device Target => fixture.Device;
}

/// <summary>
/// Every sequence layer of the language (<see cref="SeqConvNet"/> and <see cref="ValueFunctionNet"/>) built with the same
/// seed on the CPU and on ILGPU's CPU accelerator: the same outputs and gradients on tiny padded batches within
/// <see cref="Tolerance.Reduction"/>, and the same refusals of a bad mask and of an id outside the table.
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class SeqDeviceAgreementTests(IlgpuCpuAcceleratorFixture fixture)
{
    private readonly Device _gpu = fixture.Device;

    [Fact]
    public void Masked_convolutions_and_pools_agree_on_outputs_and_gradients()
    {
        var tokens = SeqLayerTests.Tokens(3, 8, seed: 3);
        var mask = SeqLayerTests.Mask(new[] { 8, 5, 2 }, 8);
        var cpu = new SeqConvNet(Device.Cpu, seed: 4);
        var gpu = new SeqConvNet(_gpu, seed: 4);
        var yCpu = cpu.Forward(tokens, mask);
        var yGpu = gpu.Forward(tokens.To(_gpu), mask.To(_gpu));
        Tolerance.Reduction.AssertClose(yCpu.ToArray(), yGpu.ToArray(), "output");
        var dy = Tensor.From(Enumerable.Range(0, 9).Select(i => (float)Math.Sin(i)).ToArray(), Device.Cpu, 3, 3);
        cpu.Backward(dy);
        gpu.Backward(dy.To(_gpu));
        for (int i = 0; i < cpu.Parameters.Count; i++)
        {
            Tolerance.Reduction.AssertClose(cpu.Parameters[i].Grad.ToArray(), gpu.Parameters[i].Grad.ToArray(), cpu.Parameters[i].Name + ".grad");
        }
    }

    [Fact]
    public void Value_functions_agree_on_outputs_and_gradients()
    {
        var rng = new Random(2);
        var x = Tensor.From(Gradients.RandomInputs.Normal(rng, 2 * 5 * 3), Device.Cpu, 2, 5, 3);
        var tokens = ValueFunctionTests.Tokens(2, 5, 11, seed: 6);
        var cpu = new ValueFunctionNet(Device.Cpu, seed: 1) { ComputeInputGradient = true };
        var gpu = new ValueFunctionNet(_gpu, seed: 1) { ComputeInputGradient = true };
        var yCpu = cpu.Forward(x, tokens);
        var yGpu = gpu.Forward(x.To(_gpu), tokens.To(_gpu));
        Tolerance.Reduction.AssertClose(yCpu.ToArray(), yGpu.ToArray(), "output");
        var dy = Tensor.Full(Device.Cpu, 0.5f, yCpu.Shape);
        cpu.Backward(dy);
        gpu.Backward(dy.To(_gpu));
        for (int i = 0; i < cpu.Parameters.Count; i++)
        {
            Tolerance.Reduction.AssertClose(cpu.Parameters[i].Grad.ToArray(), gpu.Parameters[i].Grad.ToArray(), cpu.Parameters[i].Name + ".grad");
        }
        Tolerance.Reduction.AssertClose(cpu.InputGradients[0]!.ToArray(), gpu.InputGradients[0]!.ToArray(), "x.grad");
    }

    [Fact]
    public void A_bad_mask_and_an_id_outside_the_table_are_refused_as_on_the_cpu()
    {
        var net = new SeqConvNet(_gpu);
        float[] m = SeqLayerTests.Mask(new[] { 4, 2 }, 4).ToArray();
        m[4 + 3] = 0.5f;
        // Reported at the next read (here the output's), not by the forward: the check does not wait for the device.
        var e = Assert.Throws<ArgumentException>(() => net.Forward(SeqLayerTests.Tokens(2, 4, seed: 1).To(_gpu), Tensor.From(m, _gpu, 2, 4)).ToArray());
        Assert.Equal("SeqConvNet.Forward: input 'mask': row 1 of the mask is not 1s followed by 0s: position 3 holds 0.5. (Parameter 'mask')", e.Message);

        var ids = Tensor.From(new long[] { 1, 2, 3, 9 }, _gpu, 1, 4);
        var bad = Assert.ThrowsAny<ArgumentException>(() => net.Forward(ids, SeqLayerTests.Mask(new[] { 4 }, 4).To(_gpu)).ToArray());
        Assert.Contains("id 9 at position 3 is outside the 9 rows of the table", bad.Message);
    }
}
