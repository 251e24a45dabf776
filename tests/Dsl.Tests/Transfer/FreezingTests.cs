using Dsl.Tests.Networks;
using Xunit;

namespace Dsl.Tests.Transfer;

/// <summary>
/// Run-time freezing: frozen parameters keep their values bit for bit while the others train, the trained layers'
/// gradients are those of the unfrozen network, and the generated Backward skips the layers under the lowest trained one.
/// </summary>
public sealed class FreezingTests
{
    private static (Tensor X, Tensor Labels) Batch(int seed, int n = 5)
    {
        var rng = new Random(seed);
        var x = Tensor.From(Enumerable.Range(0, n * 2 * 6 * 6).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), n, 2, 6, 6);
        var labels = Tensor.From(Enumerable.Range(0, n).Select(i => (long)(i % 3)).ToArray(), n);
        return (x, labels);
    }

    private static Dictionary<string, float[]> Values(Module net) => net.Parameters.ToDictionary(p => p.Name, p => p.Value.ToArray());

    private static Dictionary<string, float[]> Grads(Module net) => net.Parameters.ToDictionary(p => p.Name, p => p.Grad.ToArray());

    private static void Step(Module net, Tensor x, Tensor labels)
    {
        var loss = Loss.Nll(net.Forward(x), labels);
        net.ZeroGrad();
        net.Backward(loss.Gradient);
    }

    [Fact]
    public void Frozen_layers_stay_bit_identical_while_the_others_train()
    {
        var net = new FreezeNet(Device.Cpu, seed: 3);
        net.Freeze("conv1", "bn1");
        var before = Values(net);
        var opt = new Adam(net.Parameters, lr: 1e-2f);
        for (int step = 0; step < 4; step++)
        {
            var (x, labels) = Batch(step);
            Step(net, x, labels);
            opt.Step();
        }
        var after = Values(net);
        foreach (var name in new[] { "conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias" })
        {
            Assert.Equal(before[name], after[name]);
            Assert.All(net.Parameters.Single(p => p.Name == name).Grad.ToArray(), g => Assert.Equal(0f, g));
        }
        foreach (var name in new[] { "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias" })
        {
            Assert.NotEqual(before[name], after[name]);
        }
        Assert.Equal(0, net.FrozenSinkWrites); // the frozen layers lie under every trained one: their backward never ran
    }

    [Fact]
    public void Gradients_of_the_trained_layers_equal_the_unfrozen_networks()
    {
        var (x, labels) = Batch(11);
        var reference = new FreezeNet(Device.Cpu, seed: 5);
        Step(reference, x, labels);
        var expected = Grads(reference);

        // Frozen trunk: the head's gradients are the same bits, the trunk's stay zero and nothing below the head ran.
        var head = new FreezeNet(Device.Cpu, seed: 5);
        head.Freeze("conv1", "bn1", "conv2");
        Step(head, x, labels);
        foreach (var p in head.Parameters)
        {
            Assert.Equal(p.Name.StartsWith("fc", StringComparison.Ordinal) ? expected[p.Name] : new float[p.Length], p.Grad.ToArray());
        }
        Assert.Equal(0, head.FrozenSinkWrites);
        Assert.Null(head.InputGradient);

        // A frozen layer between trained ones still passes the gradient down; its own gradient goes to scratch, not Grad.
        var middle = new FreezeNet(Device.Cpu, seed: 5);
        middle.Freeze("conv2");
        Step(middle, x, labels);
        foreach (var p in middle.Parameters)
        {
            Assert.Equal(p.Name.StartsWith("conv2", StringComparison.Ordinal) ? new float[p.Length] : expected[p.Name], p.Grad.ToArray());
        }
        Assert.Equal(2, middle.FrozenSinkWrites); // conv2.weight and conv2.bias, once each
    }

    [Fact]
    public void Everything_frozen_still_gives_the_input_gradient_when_asked()
    {
        var (x, labels) = Batch(4);
        var reference = new FreezeNet(Device.Cpu, seed: 2) { ComputeInputGradient = true };
        Step(reference, x, labels);
        var frozen = new FreezeNet(Device.Cpu, seed: 2) { ComputeInputGradient = true };
        frozen.Freeze();
        Step(frozen, x, labels);
        Assert.Equal(reference.InputGradient!.ToArray(), frozen.InputGradient!.ToArray());
        Assert.All(frozen.Parameters, p => Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g)));
        Assert.Equal(frozen.Parameters.Count, frozen.FrozenSinkWrites);
        Assert.Equal(0, frozen.TrainableParameterCount);
    }

    [Fact]
    public void Trained_layers_above_a_frozen_trunk_match_finite_differences()
    {
        // The combinators (residuals, a concat, repeats, batch norm) with their first convolution and batch norm frozen.
        var net = new CombinatorNet(Device.Cpu, seed: 2);
        net.Freeze("conv1", "bn1");
        var reference = new CombinatorNet(Device.Cpu, seed: 2);
        var rng = new Random(1);
        var x = Tensor.From(Enumerable.Range(0, 3 * 2 * 6 * 6).Select(_ => (float)rng.NextDouble()).ToArray(), 3, 2, 6, 6);
        var dy = Tensor.From(Enumerable.Range(0, 3 * 3).Select(_ => (float)rng.NextDouble()).ToArray(), 3, 3);
        foreach (var n in new Module[] { net, reference })
        {
            n.ZeroGrad();
            n.Forward(x);
            n.Backward(dy);
        }
        foreach (var p in net.Parameters)
        {
            var r = reference.Parameters.Single(q => q.Name == p.Name);
            Assert.Equal(p.RequiresGrad ? r.Grad.ToArray() : new float[p.Length], p.Grad.ToArray());
        }
        Assert.Equal(0, net.FrozenSinkWrites);
        // The unfrozen reference itself against finite differences, so the equal gradients above are right ones.
        new NetworkGradientCheck().Run(new CombinatorNet(Device.Cpu, seed: 2), [2, 6, 6], batch: 3, seed: 4);
    }

    [Fact]
    public void Freeze_first_unfreeze_and_names()
    {
        var net = new FreezeNet(Device.Cpu, seed: 1);
        Assert.Equal(["conv1", "bn1", "conv2", "fc1", "fc2"], net.LayerNames);
        net.FreezeFirst(3);
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], net.Parameters.Where(p => p.RequiresGrad).Select(p => p.Name));
        Assert.Equal(8 * 144 + 8 + 3 * 8 + 3, net.TrainableParameterCount);
        string summary = net.ParameterSummary();
        Assert.Contains("conv1", summary);
        Assert.Matches(@"conv2\s+148\s+frozen", summary);
        Assert.Matches(@"fc1\s+1,160\s+trained", summary);
        Assert.Contains($"trainable: {8 * 144 + 8 + 3 * 8 + 3:N0}", summary);
        net.Unfreeze("conv2");
        Assert.True(net.Parameters.Single(p => p.Name == "conv2.weight").RequiresGrad);
        net.Freeze("fc1.bias");
        Assert.Matches(@"fc1\s+1,160\s+partly frozen", net.ParameterSummary());
        net.Unfreeze();
        Assert.All(net.Parameters, p => Assert.True(p.RequiresGrad));
        var e = Assert.Throws<ArgumentException>(() => net.Freeze("conv"));
        Assert.Contains("FreezeNet.Freeze: no layer or parameter is named 'conv'; the layers are conv1, bn1, conv2, fc1, fc2", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.FreezeFirst(6));
    }
}
