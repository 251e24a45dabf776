using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>A one-layer tanh RNN over a symbolic length: [N,T,3] -> [N,T,4].</summary>
[Network]
public partial class RnnNet
{
    static Net Define() => Input("x", "T", 3) | Rnn(4);
}
