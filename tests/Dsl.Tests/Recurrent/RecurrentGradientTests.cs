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
}
