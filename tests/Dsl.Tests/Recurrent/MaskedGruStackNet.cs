using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>Two GRU layers over a padded batch from initial states [N,2,4], their last state through a Linear: [N,T,3] -> [N,2].</summary>
[Network]
public partial class MaskedGruStackNet
{
    static Net Define()
    {
        var x = Input("x", "T", 3);
        var h0 = Input("h0", 2, 4);
        var mask = Mask("mask", "T");
        return x | Gru(4, layers: 2, mask: mask, h0: h0) | Last | Linear(2);
    }
}
