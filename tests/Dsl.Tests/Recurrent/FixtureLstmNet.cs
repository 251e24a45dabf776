using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>A one-layer LSTM over a padded batch from given h0 and c0 [N,H]. Checked against PyTorch (recurrent_nets.json).</summary>
[Network]
public partial class FixtureLstmNet
{
    static Net Define()
    {
        var x = Input("x", "T", 3);
        var mask = Mask("mask", "T");
        var h0 = Input("h0", 4);
        var c0 = Input("c0", 4);
        var y = x | Lstm(4, mask: mask, h0: h0, c0: c0);
        return Outputs(y, y | Last);
    }
}
