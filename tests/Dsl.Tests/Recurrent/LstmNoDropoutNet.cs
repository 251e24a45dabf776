using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary><see cref="LstmDropoutNet"/> without its dropout: the same parameters in the same order, so the same seed gives the same weights.</summary>
[Network]
public partial class LstmNoDropoutNet
{
    static Net Define() => Input("x", "T", 3) | Lstm(4, layers: 2);
}
