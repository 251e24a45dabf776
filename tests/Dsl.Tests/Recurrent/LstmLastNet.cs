using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>A bidirectional two-layer LSTM whose last state feeds a Linear: [N,T,3] -> [N,2].</summary>
[Network]
public partial class LstmLastNet
{
    static Net Define() => Input("x", "T", 3) | Lstm(3, layers: 2, bidirectional: true) | Last | Linear(2);
}
