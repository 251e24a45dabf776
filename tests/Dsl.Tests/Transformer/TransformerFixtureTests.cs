using Dsl.Tests.Fixtures;
using Xunit;

namespace Dsl.Tests.Transformer;

/// <summary>
/// The built-in <c>MultiHeadAttention</c>, <c>TransformerEncoderLayer</c> and <c>TransformerDecoderLayer</c> with PyTorch 1.13's
/// numbers through generated networks (Fixtures/transformer.json): outputs, and the gradients of the input, the memory and
/// every parameter under PyTorch's names, in train mode with dropout 0 and eval mode with dropout 0.1; on the CPU here and
/// on ILGPU's CPU accelerator below.
/// </summary>
public class TransformerFixtureTests
{
    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    /// <summary>The network of a case and how it runs on the case's inputs.</summary>
    private (Module Net, Func<Tensor> Forward) Network(FixtureCase c)
    {
        Tensor In(string name) => c.Input(name).ToTensor(Target);
        switch (c.String("network"))
        {
            case "MhaSelfNet":
            {
                var net = new MhaSelfNet(Target, seed: 1);
                return (net, () => net.Forward(In("x"), In("mask")));
            }
            case "MhaCausalNet":
            {
                var net = new MhaCausalNet(Target, seed: 1);
                return (net, () => net.Forward(In("x")));
            }
            case "MhaCrossNet":
            {
                var net = new MhaCrossNet(Target, seed: 1);
                return (net, () => net.Forward(In("x"), In("memory"), In("mask")));
            }
            case "EncoderTrainNet":
            {
                var net = new EncoderTrainNet(Target, seed: 1);
                return (net, () => net.Forward(In("x"), In("mask")));
            }
            case "EncoderEvalNet":
            {
                var net = new EncoderEvalNet(Target, seed: 1);
                return (net, () => net.Forward(In("x"), In("mask")));
            }
            case "EncoderNormFirstNet":
            {
                var net = new EncoderNormFirstNet(Target, seed: 1);
                return (net, () => net.Forward(In("x")));
            }
            case "DecoderTrainNet":
            {
                var net = new DecoderTrainNet(Target, seed: 1);
                return (net, () => net.Forward(In("x"), In("memory"), In("memoryMask")));
            }
            case "DecoderNormFirstNet":
            {
                var net = new DecoderNormFirstNet(Target, seed: 1);
                return (net, () => net.Forward(In("x"), In("memory"), In("mask"), In("memoryMask")));
            }
            default:
                throw new ArgumentException($"no network for case {c.Name}");
        }
    }

    [Theory]
    [InlineData("mha_key_padding")]
    [InlineData("mha_causal")]
    [InlineData("mha_cross_key_padding")]
    [InlineData("encoder_post_norm_train")]
    [InlineData("encoder_post_norm_eval")]
    [InlineData("encoder_norm_first_gelu_causal")]
    [InlineData("decoder_post_norm_train")]
    [InlineData("decoder_norm_first_eval")]
    public void Generated_layer_reproduces_pytorch_outputs_and_gradients(string name)
    {
        var c = FixtureFile.Load("transformer.json").Case(name);
        var (net, forward) = Network(c);
        // PyTorch's parameters, by name and number: every one of ours is among them, and there are as many.
        Assert.Equal(c.Int("parameters"), net.Parameters.Count);
        Assert.All(net.Parameters, p => Assert.True(c.HasInput(p.Name), $"PyTorch has no parameter {p.Name}"));
        foreach (var p in net.Parameters)
        {
            Target.Upload(c.Input(p.Name).Data, p.Value);
        }
        if (c.String("mode") == "eval")
        {
            net.Eval();
        }
        net.ComputeInputGradient = true;
        var y = forward();
        Tolerance.Reduction.AssertClose(c.Expected("y").Data, y.ToArray(), "y");
        net.ZeroGrad();
        net.Backward(c.Input("dy").ToTensor(Target));
        foreach (var p in net.Parameters)
        {
            Tolerance.Reduction.AssertClose(c.Expected(p.Name + ".grad").Data, p.Grad.ToArray(), p.Name + ".grad");
        }
        Tolerance.Reduction.AssertClose(c.Expected("x.grad").Data, net.InputGradients[0]!.ToArray(), "x.grad");
        if (c.HasExpected("memory.grad"))
        {
            Tolerance.Reduction.AssertClose(c.Expected("memory.grad").Data, net.InputGradients[1]!.ToArray(), "memory.grad");
        }
    }

    [Fact]
    public void Positional_table_is_the_course_formula()
    {
        var c = FixtureFile.Load("transformer.json").Case("positional_table");
        Tolerance.Elementwise.AssertClose(c.Expected("pe").Data, PositionalEncodingState.Table(c.Int("maxLen"), c.Int("d")), "pe");
    }
}

/// <summary>The same cases on ILGPU's CPU accelerator (the GPU kernels).</summary>
[Collection(Kernels.IlgpuCpuAcceleratorCollection.Name)]
public sealed class TransformerFixtureAcceleratorTests : TransformerFixtureTests
{
    private readonly Device _device;

    public TransformerFixtureAcceleratorTests(Kernels.IlgpuCpuAcceleratorFixture fixture) => _device = fixture.Device;

    protected override Device Target => _device;
}
