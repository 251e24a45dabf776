using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>
/// The smooth activations between Linear layers with stated and inferred in-features, one without bias, an
/// evaluation-mode Dropout and a Softmax output. Shallow, so the first layer's gradients stay well above the float32
/// rounding of the finite differences.
/// </summary>
[Network]
public partial class SmoothActivationsNet
{
    static Net Define() =>
        Input(5)
        | Linear(5, 6) | Gelu | Dropout(0.3)
        | Linear(6, bias: false) | Sigmoid
        | Linear(4) | Tanh
        | Linear(4, 3) | Softmax;
}
