using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// An MLP built from a block with <c>var</c> bindings: each hidden block adds its input back (a shortcut),
/// so the value entering the block has two consumers and its gradient is accumulated.
/// </summary>
[Network]
public partial class ResidualMlp
{
    /// <summary>x + W2 relu(W1 x): a pre-activation residual unit of the given width.</summary>
    static Net Residual(Net x, int width, double dropout)
    {
        var h = x | Linear(width) | Relu | Dropout(dropout);
        var update = h | Linear(width);
        return x + update;
    }

    static Net Define()
    {
        var x = Input(1, 28, 28) | Flatten | Linear(256) | Relu;
        var h = Residual(x, 256, 0.1);
        var g = Residual(h | Relu, 256, 0.1);
        return g | Relu | Linear(10) | LogSoftmax;
    }
}
