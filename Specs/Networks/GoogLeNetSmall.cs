using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// GoogLeNet (Szegedy et al., 2015) for 28x28: Inception modules whose four branches (1x1; 1x1 then 3x3; 1x1 then
/// 5x5; 3x3 max-pool then 1x1) see the same input and are concatenated along channels.
/// </summary>
[Network]
public partial class GoogLeNetSmall
{
    /// <summary>An Inception module: out channels = c1 + c3 + c5 + pool.</summary>
    static Layer Inception(int c1, int c3Reduce, int c3, int c5Reduce, int c5, int pool) =>
        Concat(
            Conv2d(c1, kernel: 1) | Relu,
            Conv2d(c3Reduce, kernel: 1) | Relu | Conv2d(c3, kernel: 3, padding: 1) | Relu,
            Conv2d(c5Reduce, kernel: 1) | Relu | Conv2d(c5, kernel: 5, padding: 2) | Relu,
            MaxPool2d(3, stride: 1, padding: 1) | Conv2d(pool, kernel: 1) | Relu);

    static Net Define() =>
        Input(1, 28, 28)
        | Conv2d(32, kernel: 3, padding: 1) | Relu | MaxPool2d(2)
        | Inception(16, 16, 32, 8, 16, 16)
        | Inception(32, 32, 48, 8, 24, 24)
        | MaxPool2d(2)
        | Inception(48, 24, 64, 8, 16, 16)
        | GlobalAvgPool2d
        | Flatten
        | Linear(10) | LogSoftmax;
}
