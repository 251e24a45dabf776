using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>A one-layer tanh RNN over a padded batch from a given initial state [N,H], returning its outputs and last state. Checked against PyTorch (recurrent_nets.json).</summary>
[Network]
public partial class FixtureRnnNet
{
    static Net Define()
    {
        var x = Input("x", "T", 3);
        var mask = Mask("mask", "T");
        var h0 = Input("h0", 4);
        var y = x | Rnn(4, mask: mask, h0: h0);
        return Outputs(y, y | Last);
    }
}
