using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>A bidirectional LSTM pooled by attention over a fixed length: [N,6,3] -> [N,2].</summary>
[Network]
public partial class LstmPoolNet
{
    static Net Define() => Input(6, 3) | Lstm(3, bidirectional: true) | AttentionPool() | Linear(2);
}
