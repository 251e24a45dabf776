using Dsl.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Recurrent;

/// <summary>
/// Generated recurrent networks against central finite differences (L = sum(output * R) accumulated in double from the
/// float32 outputs, <see cref="NetworkGradientCheck"/>): every parameter of every layer-direction and the input, through
/// time over six to seven steps, stacked and bidirectional layers, <c>Last</c> (alone and beside the sequence) and
/// attention pooling.
/// </summary>
public sealed class RecurrentGradientTests
{
    private readonly ITestOutputHelper _output;

    public RecurrentGradientTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Rnn_tanh_over_seven_steps()
    {
        var net = new RnnNet(Device.Cpu, seed: 3);
        _output.WriteLine(new NetworkGradientCheck().Run(net, new[] { 7, 3 }, batch: 2, seed: 11));
    }

    [Fact]
    public void Rnn_relu_two_layers_bidirectional()
    {
        var net = new RnnReluStackNet(Device.Cpu, seed: 4);
        _output.WriteLine(new NetworkGradientCheck { AllowKinks = true }.Run(net, new[] { 6, 3 }, batch: 2, seed: 12));
    }

    [Fact]
    public void Gru_two_layers()
    {
        var net = new GruStackNet(Device.Cpu, seed: 5);
        _output.WriteLine(new NetworkGradientCheck().Run(net, new[] { 6, 3 }, batch: 2, seed: 13));
    }

    [Fact]
    public void Lstm_two_layers_bidirectional_through_Last()
    {
        var net = new LstmLastNet(Device.Cpu, seed: 6);
        _output.WriteLine(new NetworkGradientCheck().Run(net, new[] { 6, 3 }, batch: 3, seed: 14));
    }

    [Fact]
    public void Lstm_sequence_and_last_state_together()
    {
        var net = new LstmBothNet(Device.Cpu, seed: 7);
        _output.WriteLine(new NetworkGradientCheck().Run(net, new[] { new[] { 5, 3 } },
            inputs =>
            {
                var (y, state) = net.ForwardAll(inputs[0]);
                return new[] { y, state };
            },
            gradients => net.Backward(gradients[0], gradients[1]), batch: 2, seed: 15));
    }

    [Fact]
    public void Lstm_attention_pool()
    {
        var net = new LstmPoolNet(Device.Cpu, seed: 8);
        _output.WriteLine(new NetworkGradientCheck().Run(net, new[] { 6, 3 }, batch: 3, seed: 16));
    }

    /// <summary>A padded batch: lengths 6, 3 and 1 of T = 6 (1s then 0s).</summary>
    private static Tensor Padded(int t, params int[] lengths)
        => Tensor.From(lengths.SelectMany(l => Enumerable.Range(0, t).Select(s => s < l ? 1f : 0f)).ToArray(), Device.Cpu, lengths.Length, t);

    [Fact]
    public void Masked_bidirectional_lstm_from_initial_states_with_attention_pool_and_last()
    {
        var net = new MaskedLstmNet(Device.Cpu, seed: 9);
        var mask = Padded(6, 6, 3, 1);
        _output.WriteLine(new NetworkGradientCheck { ConstantInputs = 1 }.Run(net, new[] { new[] { 6, 3 }, new[] { 2, 3 }, new[] { 2, 3 } },
            inputs =>
            {
                var (pooled, last) = net.ForwardAll(inputs[0], inputs[1], inputs[2], mask);
                return new[] { pooled, last };
            },
            gradients => net.Backward(gradients[0], gradients[1]), batch: 3, seed: 17));
    }

    [Fact]
    public void Masked_two_layer_gru_from_initial_states_through_last()
    {
        var net = new MaskedGruStackNet(Device.Cpu, seed: 10);
        var mask = Padded(5, 2, 5, 4);
        _output.WriteLine(new NetworkGradientCheck { ConstantInputs = 1 }.Run(net, new[] { new[] { 5, 3 }, new[] { 2, 4 } },
            inputs => net.Forward(inputs[0], inputs[1], mask), batch: 3, seed: 18));
    }

    [Fact]
    public void Masked_rnn_whose_initial_state_also_feeds_the_output()
    {
        var net = new MaskedRnnNet(Device.Cpu, seed: 11);
        var mask = Padded(6, 4, 6, 1);
        _output.WriteLine(new NetworkGradientCheck { ConstantInputs = 1 }.Run(net, new[] { new[] { 6, 3 }, new[] { 4 } },
            inputs =>
            {
                var (y, state) = net.ForwardAll(inputs[0], inputs[1], mask);
                return new[] { y, state };
            },
            gradients => net.Backward(gradients[0], gradients[1]), batch: 3, seed: 19));
    }

    [Fact]
    public void Padding_does_not_change_the_valid_steps_or_the_pooled_and_last_values()
    {
        // A sample alone at its own length and the same sample padded inside a longer batch give the same pooled vector and
        // last state: the recurrence and the pooling ignore the padding (and padded outputs are not read).
        var rng = new Random(4);
        var net = new MaskedLstmNet(Device.Cpu, seed: 12);
        net.Eval();
        const int t = 7;
        float[] x = Gradients.RandomInputs.Normal(rng, 2 * t * 3);
        float[] h0 = Gradients.RandomInputs.Normal(rng, 2 * 2 * 3);
        float[] c0 = Gradients.RandomInputs.Normal(rng, 2 * 2 * 3);
        var (pooled, last) = net.ForwardAll(Tensor.From(x, Device.Cpu, 2, t, 3), Tensor.From(h0, Device.Cpu, 2, 2, 3), Tensor.From(c0, Device.Cpu, 2, 2, 3), Padded(t, 7, 4));
        float[] pooledBatch = pooled.ToArray(), lastBatch = last.ToArray();
        float[] weightsBatch = net.Readout("attention1.weights").ToArray();
        Assert.Equal(2 * t, weightsBatch.Length);
        Assert.All(weightsBatch.Skip(t + 4).Take(3), w => Assert.Equal(0f, w));
        Assert.Equal(1.0, weightsBatch.Skip(t).Take(4).Sum(), 5);
        // The second sample, cut to its 4 valid steps.
        float[] alone = x.Skip(t * 3).Take(4 * 3).ToArray();
        var (pooledAlone, lastAlone) = net.ForwardAll(Tensor.From(alone, Device.Cpu, 1, 4, 3), Tensor.From(h0.Skip(6).ToArray(), Device.Cpu, 1, 2, 3),
            Tensor.From(c0.Skip(6).ToArray(), Device.Cpu, 1, 2, 3), Padded(4, 4));
        Fixtures.Tolerance.Reduction.AssertClose(pooledAlone.ToArray(), pooledBatch.Skip(6).ToArray(), "pooled");
        Fixtures.Tolerance.Reduction.AssertClose(lastAlone.ToArray(), lastBatch.Skip(6).ToArray(), "last");
        Fixtures.Tolerance.Reduction.AssertClose(net.Readout("attention1.weights").ToArray(), weightsBatch.Skip(t).Take(4).ToArray(), "attention weights");
    }

    [Fact]
    public void Attention_pool_on_a_masked_input_matches_finite_differences()
    {
        var net = new PoolNet(Device.Cpu, seed: 13);
        var mask = Padded(5, 5, 2, 3);
        _output.WriteLine(new NetworkGradientCheck { ConstantInputs = 1 }.Run(net, new[] { new[] { 5, 4 } },
            inputs => net.Forward(inputs[0], mask), batch: 3, seed: 20));
    }

    [Fact]
    public void Attention_pool_gives_the_context_its_gradient_without_the_inputs()
    {
        // Without the input's gradient the kernel's dx goes to a scratch buffer: the context's gradient is unchanged.
        var rng = new Random(14);
        var x = Tensor.From(Gradients.RandomInputs.Normal(rng, 3 * 5 * 4), Device.Cpu, 3, 5, 4);
        var dy = Tensor.From(Gradients.RandomInputs.Normal(rng, 3 * 2), Device.Cpu, 3, 2);
        var mask = Padded(5, 5, 2, 3);
        var with = new PoolNet(Device.Cpu, seed: 15) { ComputeInputGradient = true };
        with.Forward(x, mask);
        with.Backward(dy);
        var without = new PoolNet(Device.Cpu, seed: 15);
        without.Forward(x, mask);
        without.Backward(dy);
        Assert.Null(without.InputGradients[0]);
        Assert.NotNull(with.InputGradients[0]);
        Assert.Contains(with.Parameters[0].Grad.ToArray(), g => g != 0f);
        Assert.Equal(with.Parameters[0].Grad.ToArray(), without.Parameters[0].Grad.ToArray());
    }
}
