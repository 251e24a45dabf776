using Dsl.Tests.Fixtures;
using Dsl.Tests.Networks;
using Xunit;

namespace Dsl.Tests.SeqDsl;

/// <summary>
/// Generated sequence networks with PyTorch's weights (Fixtures/seq_nets.json, loaded by parameter name): logits, the
/// cross-entropy loss and every parameter's gradient against PyTorch autograd, Embedding (a padding row, a repeated id) and
/// Conv1d (padding, stride, dilation, groups) included, and the masked max over time against each sequence run alone.
/// </summary>
public class SeqFixtureTests
{
    private const string File = "seq_nets.json";

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Fact]
    public void Embedding_and_convolutions_reproduce_pytorch()
    {
        var c = FixtureFile.Load(File).Case("embedding_conv");
        var net = Load(new SeqFixtureNet(Target), c, parameters: 7);
        Check(net, c, () => net.Forward(c.Input("tokens").ToTensor(Target)));
    }

    [Fact]
    public void Masked_max_over_time_reproduces_each_sequence_alone_in_pytorch()
    {
        var c = FixtureFile.Load(File).Case("masked_max");
        var net = Load(new MaskedFixtureNet(Target), c, parameters: 5);
        Check(net, c, () => net.Forward(c.Input("tokens").ToTensor(Target), c.Input("mask").ToTensor(Target)));
    }

    private void Check(Module net, FixtureCase c, Func<Tensor> forward)
    {
        var logits = forward();
        var loss = Loss.CrossEntropy(logits, c.Input("labels").ToTensor(Target));
        Tolerance.Reduction.AssertClose(c.Expected("logits").Data, logits.ToArray(), "logits");
        Tolerance.Reduction.AssertClose(c.Expected("loss").Data[0], loss.Value, "loss");
        net.ZeroGrad();
        net.Backward(loss.Gradient);
        foreach (var p in net.Parameters)
        {
            Tolerance.Reduction.AssertClose(c.Expected(p.Name + ".grad").Data, p.Grad.ToArray(), p.Name + ".grad");
        }
    }

    private static T Load<T>(T net, FixtureCase c, int parameters) where T : Module
    {
        Assert.Equal(parameters, net.Parameters.Count);
        foreach (var p in net.Parameters)
        {
            Assert.Equal(c.Input(p.Name).Shape, p.Shape);
            p.Load(c.Input(p.Name).Data);
        }
        return net;
    }
}
