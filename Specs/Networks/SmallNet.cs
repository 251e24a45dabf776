using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// A small classifier that touches every layer of the first catalogue: stated and inferred in-features,
/// named layers, a layer without bias, Tanh, Sigmoid, Dropout, and a softmax output (pair it with MSE).
/// </summary>
[Network]
public partial class SmallNet
{
    const int Hidden = 32;

    static Layer Dense(int width, double p) => Linear(width) | Tanh | Dropout(p);

    static Net Define() =>
        Input(1, 28, 28)
        | Flatten
        | Linear(784, 64, name: "encoder")
        | Sigmoid
        | Dense(Hidden, 0.25)
        | Linear(Hidden, 10, bias: false, name: "head")
        | Softmax;
}
