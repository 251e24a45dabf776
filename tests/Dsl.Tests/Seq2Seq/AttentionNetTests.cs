using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Dsl.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Seq2Seq;

/// <summary>
/// The generated <c>Attention</c> against central finite differences (double-precision L, <see cref="NetworkGradientCheck"/>)
/// with and without a key mask, and when one value is query, keys and values at once.
/// </summary>
public sealed class AttentionGradientTests
{
    private readonly ITestOutputHelper _output;

    public AttentionGradientTests(ITestOutputHelper output) => _output = output;

    private static Device Target => Device.Cpu;

    [Fact]
    public void Masked_attention_matches_finite_differences_for_parameters_queries_and_memory()
    {
        var net = new AttentionNet(Target, seed: 3);
        var mask = AttentionNetTests.KeyMask(Target, 5, 5, 2, 4);
        _output.WriteLine(new NetworkGradientCheck { ConstantInputs = 1 }.Run(net, new[] { new[] { 4, 4 }, new[] { 5, 6 } },
            xs => net.Forward(xs[0], xs[1], mask), batch: 3, seed: 21));
    }

    [Fact]
    public void Attention_with_a_given_scale_matches_finite_differences()
    {
        var net = new AttentionScaleNet(Target, seed: 4);
        _output.WriteLine(new NetworkGradientCheck().Run(net, new[] { new[] { 3, 4 }, new[] { 6, 6 } },
            xs => net.Forward(xs[0], xs[1]), batch: 2, seed: 22));
    }

    [Fact]
    public void Self_attention_adds_the_query_key_and_value_gradients_of_one_value()
    {
        var net = new SelfAttentionNet(Target, seed: 5);
        _output.WriteLine(new NetworkGradientCheck().Run(net, new[] { 6, 5 }, batch: 2, seed: 23));
    }

}

/// <summary>
/// The generated <c>Attention</c> with PyTorch's numbers through the generated network (Fixtures/attention_net.json), the
/// weights readable after Forward, masked keys weighing exactly 0; on the CPU here, on ILGPU's CPU accelerator below.
/// </summary>
public class AttentionNetTests
{
    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    /// <summary>A key mask [N,S] whose row i keeps its first lengths[i] keys.</summary>
    internal static Tensor KeyMask(Device device, int s, params int[] lengths)
    {
        var mask = new float[lengths.Length * s];
        for (int i = 0; i < lengths.Length; i++)
        {
            mask.AsSpan(i * s, lengths[i]).Fill(1f);
        }
        return Tensor.From(mask, device, lengths.Length, s);
    }

    [Theory]
    [InlineData("masked_default_scale")]
    [InlineData("unmasked_scale_half")]
    public void Generated_network_reproduces_pytorch_outputs_weights_and_gradients(string name)
    {
        var c = FixtureFile.Load("attention_net.json").Case(name);
        Module net = name == "masked_default_scale" ? new AttentionNet(Target, seed: 9) : new AttentionScaleNet(Target, seed: 9);
        foreach (var p in net.Parameters)
        {
            Target.Upload(c.Input(p.Name).Data, p.Value);
        }
        var query = c.Input("query").ToTensor(Target);
        var memory = c.Input("memory").ToTensor(Target);
        net.ComputeInputGradient = true;
        var output = net is AttentionNet masked
            ? masked.Forward(query, memory, c.Input("mask").ToTensor(Target))
            : ((AttentionScaleNet)net).Forward(query, memory);
        Tolerance.Reduction.AssertClose(c.Expected("out").Data, output.ToArray(), "out");
        Tolerance.Reduction.AssertClose(c.Expected("weights").Data, net.Readout("attention1.weights").ToArray(), "weights");
        net.ZeroGrad();
        net.Backward(c.Input("dy").ToTensor(Target));
        foreach (var p in net.Parameters)
        {
            Tolerance.Reduction.AssertClose(c.Expected(p.Name + ".grad").Data, p.Grad.ToArray(), p.Name + ".grad");
        }
        Tolerance.Reduction.AssertClose(c.Expected("query.grad").Data, net.InputGradients[0]!.ToArray(), "query.grad");
        Tolerance.Reduction.AssertClose(c.Expected("memory.grad").Data, net.InputGradients[1]!.ToArray(), "memory.grad");
    }

    [Fact]
    public void Weights_are_a_distribution_over_the_unmasked_keys_with_exact_zeros_at_padding()
    {
        var net = new AttentionNet(Target, seed: 6);
        var rng = new Random(8);
        var query = Tensor.From(RandomInputs.Normal(rng, 2 * 3 * 4), Target, 2, 3, 4);
        var memory = Tensor.From(RandomInputs.Normal(rng, 2 * 5 * 6), Target, 2, 5, 6);
        Assert.Throws<InvalidOperationException>(() => net.Readout("attention1.weights"));
        net.Forward(query, memory, KeyMask(Target, 5, 5, 2));
        var weights = net.Readout("attention1.weights");
        Assert.Equal([2, 3, 5], weights.Shape);
        var w = weights.ToArray();
        for (int row = 0; row < 6; row++)
        {
            var r = w.AsSpan(row * 5, 5);
            Assert.Equal(1.0, r.ToArray().Sum(v => (double)v), 5);
            if (row >= 3)
            {
                Assert.Equal([0f, 0f, 0f], r[2..].ToArray());
            }
        }
        var e = Assert.Throws<KeyNotFoundException>(() => net.Readout("attention2.weights"));
        Assert.Contains("attention1.weights", e.Message);
    }
}

/// <summary>The same tests on ILGPU's CPU accelerator (the GPU kernels).</summary>
[Collection(Kernels.IlgpuCpuAcceleratorCollection.Name)]
public sealed class AttentionNetAcceleratorTests : AttentionNetTests
{
    private readonly Device _device;

    public AttentionNetAcceleratorTests(Kernels.IlgpuCpuAcceleratorFixture fixture) => _device = fixture.Device;

    protected override Device Target => _device;
}
