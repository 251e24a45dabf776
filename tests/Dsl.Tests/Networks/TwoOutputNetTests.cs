using Dsl.Tests.Gradients;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Networks;

/// <summary>
/// A network returning two values (<see cref="TwoOutputNet"/>): ForwardAll returns a named tuple, Backward takes one
/// gradient per output (null for an unused one), checked against finite differences of L = sum(logits * R1) + sum(hidden * R2).
/// </summary>
public sealed class TwoOutputNetTests
{
    private readonly ITestOutputHelper _output;

    public TwoOutputNetTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Backward_with_both_gradients_matches_finite_differences()
    {
        var net = new TwoOutputNet(Device.Cpu, seed: 4);
        _output.WriteLine(new NetworkGradientCheck().Run(net, new[] { new[] { 6 } },
            inputs =>
            {
                var (logits, hidden) = net.ForwardAll(inputs[0]);
                return new[] { logits, hidden };
            },
            gradients => net.Backward(gradients[0], gradients[1]), batch: 3, seed: 9));
    }

    [Fact]
    public void Backward_with_only_the_second_gradient_matches_finite_differences()
    {
        // The loss uses only the hidden output: the classifier's parameters get no gradient, the first layer's do.
        var net = new TwoOutputNet(Device.Cpu, seed: 6);
        _output.WriteLine(new NetworkGradientCheck().Run(net, new[] { new[] { 6 } },
            inputs => new[] { net.ForwardAll(inputs[0]).hidden },
            gradients => net.Backward(null, gradients[0]), batch: 3, seed: 10));
        Assert.All(net.Parameters.Where(p => p.Name.StartsWith("fc2", StringComparison.Ordinal)), p => Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g)));
    }

    [Fact]
    public void A_null_gradient_is_the_same_as_zeros()
    {
        var rng = new Random(1);
        var x = Tensor.From(RandomInputs.Normal(rng, 4 * 6), Device.Cpu, 4, 6);
        var d = Tensor.From(RandomInputs.Normal(rng, 4 * 3), Device.Cpu, 4, 3);
        var a = new TwoOutputNet(Device.Cpu, seed: 2);
        a.ForwardAll(x);
        a.Backward(d, null);
        var b = new TwoOutputNet(Device.Cpu, seed: 2);
        b.ForwardAll(x);
        b.Backward(d, Tensor.Zeros(Device.Cpu, 4, 5));
        for (int i = 0; i < a.Parameters.Count; i++)
        {
            Assert.Equal(b.Parameters[i].Grad.ToArray(), a.Parameters[i].Grad.ToArray());
        }
    }

    [Fact]
    public void Shapes_and_the_single_value_members_say_what_to_call()
    {
        Assert.Equal(new[] { new[] { 3 }, new[] { 5 } }, TwoOutputNet.OutputShapes);
        var net = new TwoOutputNet(Device.Cpu);
        var forward = Assert.Throws<InvalidOperationException>(() => net.Forward(Tensor.Zeros(Device.Cpu, 2, 6)));
        Assert.Equal("TwoOutputNet returns 2 outputs: call ForwardAll(x).", forward.Message);
        net.ForwardAll(Tensor.Zeros(Device.Cpu, 2, 6));
        var backward = Assert.Throws<InvalidOperationException>(() => net.Backward(Tensor.Zeros(Device.Cpu, 2, 3)));
        Assert.Equal("TwoOutputNet returns 2 outputs: call Backward(dLogits, dHidden), one gradient per output (null for an unused one).", backward.Message);
    }

    [Fact]
    public void A_gradient_of_the_wrong_shape_is_refused()
    {
        var net = new TwoOutputNet(Device.Cpu);
        net.ForwardAll(Tensor.Zeros(Device.Cpu, 2, 6));
        var e = Assert.Throws<ArgumentException>(() => net.Backward(null, Tensor.Zeros(Device.Cpu, 2, 4)));
        Assert.Contains("TwoOutputNet.Backward expects a gradient shaped like the last output [2,5] but received [2,4]", e.Message);
    }

    [Fact]
    public void After_an_evaluation_forward_Backward_gives_the_training_gradients_and_the_outputs_stay_valid()
    {
        // Evaluation frees values once consumed and Backward replays the forward: the returned tensors must survive it.
        var rng = new Random(5);
        var x = Tensor.From(RandomInputs.Normal(rng, 4 * 6), Device.Cpu, 4, 6);
        var dl = Tensor.From(RandomInputs.Normal(rng, 4 * 3), Device.Cpu, 4, 3);
        var dh = Tensor.From(RandomInputs.Normal(rng, 4 * 5), Device.Cpu, 4, 5);
        var trained = new TwoOutputNet(Device.Cpu, seed: 3);
        var (l0, h0) = trained.ForwardAll(x);
        float[] logits = l0.ToArray(), hidden = h0.ToArray();
        trained.Backward(dl, dh);
        var evaluated = new TwoOutputNet(Device.Cpu, seed: 3);
        evaluated.Eval();
        var (l1, h1) = evaluated.ForwardAll(x);
        Assert.Equal(logits, l1.ToArray());
        Assert.Equal(hidden, h1.ToArray());
        evaluated.Backward(dl, dh);
        Assert.Equal(logits, l1.ToArray());
        Assert.Equal(hidden, h1.ToArray());
        for (int i = 0; i < trained.Parameters.Count; i++)
        {
            Assert.Equal(trained.Parameters[i].Grad.ToArray(), evaluated.Parameters[i].Grad.ToArray());
        }
    }
}
