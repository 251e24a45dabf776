using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>Two bidirectional ReLU RNN layers over a padded batch from initial states [N,4,H]. Checked against PyTorch (recurrent_nets.json).</summary>
[Network]
public partial class FixtureRnnReluNet
{
    static Net Define()
    {
        var x = Input("x", "T", 3);
        var mask = Mask("mask", "T");
        var h0 = Input("h0", 4, 4);
        var y = x | Rnn(4, nonlinearity: "relu", layers: 2, bidirectional: true, mask: mask, h0: h0);
        return Outputs(y, y | Last);
    }
}
