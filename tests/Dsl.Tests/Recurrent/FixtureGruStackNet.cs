using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>Two GRU layers over a padded batch from initial states [N,2,H]. Checked against PyTorch (recurrent_nets.json).</summary>
[Network]
public partial class FixtureGruStackNet
{
    static Net Define()
    {
        var x = Input("x", "T", 3);
        var mask = Mask("mask", "T");
        var h0 = Input("h0", 2, 4);
        var y = x | Gru(4, layers: 2, mask: mask, h0: h0);
        return Outputs(y, y | Last);
    }
}
