using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>
/// The proof layers: LayerNorm over the last three, two and one dimensions (with and without the affine parameters) and
/// Softplus with its defaults and with another beta, between convolutions and Linear layers.
/// </summary>
[Network]
public partial class NormNet
{
    static Net Define() =>
        Input(2, 3, 4)
        | LayerNorm(2, 3, 4)
        | Conv2d(3, kernel: 1) | Softplus()
        | LayerNorm(3, 4, eps: 1e-3)
        | Flatten
        | Linear(5) | Softplus(beta: 2.0, threshold: 20)
        | LayerNorm(5, elementwiseAffine: false)
        | Linear(3) | LogSoftmax;
}
