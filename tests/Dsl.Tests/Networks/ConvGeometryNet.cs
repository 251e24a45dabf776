using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>
/// Convolutions with every geometry option: "same" padding with an even kernel (the extra row and column at the
/// bottom and right), dilation with grouped channels, a depthwise convolution without bias, and stride 2 with padding.
/// </summary>
[Network]
public partial class ConvGeometryNet
{
    static Net Define() =>
        Input(2, 6, 6)
        | Conv2d(4, kernel: 2, padding: "same") | Tanh
        | Conv2d(4, kernel: 3, padding: 2, dilation: 2, groups: 2) | Elu(1.0)
        | Conv2d(4, kernel: 3, padding: 1, groups: 4, bias: false) | Sigmoid
        | Conv2d(3, kernel: 3, stride: 2, padding: 1)
        | Flatten
        | Linear(27, 4) | LogSoftmax;
}
