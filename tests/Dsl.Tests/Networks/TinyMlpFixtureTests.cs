using Dsl.Tests.Fixtures;
using Xunit;

namespace Dsl.Tests.Networks;

/// <summary>
/// The generated <see cref="TinyMlp"/> with PyTorch's weights (Fixtures/tiny_mlp.json, loaded by parameter name):
/// log-probabilities, NLL loss, every parameter gradient and the input gradient against PyTorch autograd.
/// Tolerances: <see cref="Tolerance.Reduction"/> (atol 1e-5, rtol 1e-4) for everything that went through a GEMM.
/// </summary>
public class TinyMlpFixtureTests
{
    private const string File = "tiny_mlp.json";

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Fact]
    public void Every_parameter_has_a_fixture_tensor_of_the_same_name_and_shape()
    {
        var c = FixtureFile.Load(File).Case("tiny_mlp");
        var net = new TinyMlp(Target);
        Assert.Equal(6, net.Parameters.Count);
        foreach (var p in net.Parameters)
        {
            Assert.Equal(c.Input(p.Name).Shape, p.Shape);
            Assert.True(c.HasExpected(p.Name + ".grad"), $"no PyTorch gradient for {p.Name}");
        }
    }

    [Fact]
    public void Generated_forward_and_backward_reproduce_pytorch_loss_and_gradients()
    {
        var c = FixtureFile.Load(File).Case("tiny_mlp");
        var net = Load(c);
        var x = c.Input("x").ToTensor(Target);
        var labels = c.Input("labels").ToTensor(Target);

        var logp = net.Forward(x);
        var loss = Loss.Nll(logp, labels);
        Tolerance.Reduction.AssertClose(c.Expected("logp").Data, logp.ToArray(), "logp");
        Tolerance.Reduction.AssertClose(c.Expected("loss").Data[0], loss.Value, "loss");

        net.ZeroGrad();
        net.ComputeInputGradient = true;
        net.Backward(loss.Gradient);
        foreach (var p in net.Parameters)
        {
            Tolerance.Reduction.AssertClose(c.Expected(p.Name + ".grad").Data, p.Grad.ToArray(), p.Name + ".grad");
        }
        Assert.NotNull(net.InputGradient);
        Tolerance.Reduction.AssertClose(c.Expected("x.grad").Data, net.InputGradient!.ToArray(), "x.grad");
    }

    [Fact]
    public void A_second_forward_and_backward_without_zero_grad_doubles_the_gradients()
    {
        var c = FixtureFile.Load(File).Case("tiny_mlp");
        var net = Load(c);
        var loss = Loss.Nll(net.Forward(c.Input("x").ToTensor(Target)), c.Input("labels").ToTensor(Target));
        net.ZeroGrad();
        net.Backward(loss.Gradient);
        // One Backward per Forward, as in PyTorch: a second one would silently double the gradients.
        Assert.Throws<InvalidOperationException>(() => net.Backward(loss.Gradient));
        loss = Loss.Nll(net.Forward(c.Input("x").ToTensor(Target)), c.Input("labels").ToTensor(Target), loss);
        net.Backward(loss.Gradient);
        foreach (var p in net.Parameters)
        {
            var twice = c.Expected(p.Name + ".grad").Data.Select(v => 2 * v).ToArray();
            Tolerance.Reduction.AssertClose(twice, p.Grad.ToArray(), p.Name + ".grad after two backward passes");
        }
        net.ZeroGrad();
        Assert.All(net.Parameters, p => Assert.All(p.Grad.ToArray(), v => Assert.Equal(0f, v)));
    }

    private TinyMlp Load(FixtureCase c)
    {
        var net = new TinyMlp(Target, seed: 123);
        foreach (var p in net.Parameters)
        {
            Target.Upload(c.Input(p.Name).Data, p.Value);
        }
        return net;
    }
}
