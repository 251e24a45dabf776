using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>
/// The combinators around training-mode batch norm: an identity Residual, a projected Residual that halves the size,
/// a three-branch Concat (one branch without parameters) and a Repeat whose copies have their own parameters.
/// </summary>
[Network]
public partial class CombinatorNet
{
    static Net Define() =>
        Input(2, 6, 6)
        | Conv2d(4, kernel: 3, padding: 1) | BatchNorm2d() | Tanh
        | Residual(Conv2d(4, kernel: 3, padding: 1) | Tanh)
        | Residual(Conv2d(6, kernel: 3, stride: 2, padding: 1) | Elu(1.0), Conv2d(6, kernel: 1, stride: 2))
        | BatchNorm2d()
        | Concat(Conv2d(2, kernel: 1), Conv2d(3, kernel: 3, padding: 1) | Tanh, AvgPool2d(3, stride: 1, padding: 1))
        | Repeat(2, Conv2d(11, kernel: 1) | Tanh)
        | GlobalAvgPool2d
        | Flatten
        | Linear(3);
}
