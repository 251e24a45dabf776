using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>Attention pooling straight on a masked input, whose gradient exists only when asked for: [N,T,4] -> [N,2].</summary>
[Network]
public partial class PoolNet
{
    static Net Define()
    {
        var x = Input("x", "T", 4);
        var mask = Mask("mask", "T");
        return x | AttentionPool(mask: mask) | Linear(2);
    }
}
