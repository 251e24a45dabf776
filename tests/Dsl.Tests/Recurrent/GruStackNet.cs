using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>A two-layer GRU: [N,T,3] -> [N,T,4].</summary>
[Network]
public partial class GruStackNet
{
    static Net Define() => Input("x", "T", 3) | Gru(4, layers: 2);
}
