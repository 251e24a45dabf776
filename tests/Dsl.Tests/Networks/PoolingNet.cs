using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>
/// Every pooling layer in a row: padded max pooling, average pooling with and without padded zeros in the divisor,
/// adaptive pooling with overlapping windows (5 to 3), and global average pooling.
/// </summary>
[Network]
public partial class PoolingNet
{
    static Net Define() =>
        Input(2, 7, 7)
        | Conv2d(3, kernel: 3, padding: 1)
        | MaxPool2d(3, stride: 2, padding: 1)
        | AvgPool2d(3, stride: 1, padding: 1, countIncludePad: false)
        | AvgPool2d(2, stride: 1, padding: 1)
        | AdaptiveAvgPool2d(3) | Tanh
        | Conv2d(4, kernel: 1)
        | GlobalAvgPool2d
        | Flatten
        | Linear(3);
}
