using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// LeNet-5 (LeCun et al., 1998) as the course builds it for 28x28 inputs: the first convolution pads by 2 so the
/// 32x32 geometry of the paper is kept; average pooling ("subsampling") and tanh as in the paper.
/// </summary>
[Network]
public partial class LeNet5
{
    static Net Define() =>
        Input(1, 28, 28)
        | Conv2d(6, kernel: 5, padding: 2) | Tanh | AvgPool2d(2)
        | Conv2d(16, kernel: 5) | Tanh | AvgPool2d(2)
        | Flatten
        | Linear(16 * 5 * 5, 120) | Tanh
        | Linear(84) | Tanh
        | Linear(10) | LogSoftmax;
}
