using static Dsl.Layers;

namespace Dsl.Tests.Recurrent;

/// <summary>A bidirectional LSTM returning its outputs and its last state: the state's gradient enters BPTT beside the outputs'.</summary>
[Network]
public partial class LstmBothNet
{
    static Net Define()
    {
        var y = Input("x", "T", 3) | Lstm(4, bidirectional: true);
        var state = y | Last;
        return Outputs(y, state);
    }
}
