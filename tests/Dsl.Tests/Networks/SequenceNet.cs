using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>
/// A float sequence input [N,T,5] with a symbolic length T, through Linear layers on the last dimension, a residual sum and
/// a softmax over the features; a mask [N,T] and token ids [N,T] are declared beside it, so Forward binds T from x and
/// checks that the mask and the tokens agree (no layer consumes them yet).
/// </summary>
[Network]
public partial class SequenceNet
{
    static Net Define()
    {
        var x = Input("x", "T", 5);
        var mask = Mask("mask", "T");
        var tokens = Tokens("tokens", "T");
        var h = x | Linear(4) | Tanh;
        return (h + (h | Linear(4) | Sigmoid | Dropout(0.0))) | Linear(3) | LogSoftmax;
    }
}
