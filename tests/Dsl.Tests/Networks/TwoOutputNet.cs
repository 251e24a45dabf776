using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>
/// Two outputs: class log-probabilities and the hidden features they are computed from, so one output also feeds the
/// other (its gradient is the caller's plus what flows back from the classifier).
/// </summary>
[Network]
public partial class TwoOutputNet
{
    static Net Define()
    {
        var x = Input("x", 6);
        var hidden = x | Linear(5) | Tanh;
        var logits = hidden | Linear(3) | LogSoftmax;
        return Outputs(logits, hidden);
    }
}
