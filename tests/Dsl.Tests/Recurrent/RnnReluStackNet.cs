using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>Two stacked ReLU RNN layers, bidirectional: [N,T,3] -> [N,T,8].</summary>
[Network]
public partial class RnnReluStackNet
{
    static Net Define() => Input("x", "T", 3) | Rnn(4, nonlinearity: "relu", layers: 2, bidirectional: true);
}
