using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>Two bidirectional LSTM layers over a padded batch from h0 and c0 [N,4,H]. Checked against PyTorch (recurrent_nets.json).</summary>
[Network]
public partial class FixtureLstmStackNet
{
    static Net Define()
    {
        var x = Input("x", "T", 3);
        var mask = Mask("mask", "T");
        var h0 = Input("h0", 4, 3);
        var c0 = Input("c0", 4, 3);
        var y = x | Lstm(3, layers: 2, bidirectional: true, mask: mask, h0: h0, c0: c0);
        return Outputs(y, y | Last);
    }
}
