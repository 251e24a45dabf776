using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>Two LSTM layers with dropout 0.5 between them (training only): [N,T,3] -> [N,T,4].</summary>
[Network]
public partial class LstmDropoutNet
{
    static Net Define() => Input("x", "T", 3) | Lstm(4, layers: 2, dropout: 0.5);
}
