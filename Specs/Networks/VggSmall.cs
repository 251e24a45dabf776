using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// VGG (Simonyan and Zisserman, 2015) for 28x28: blocks of 3x3 convolutions with padding 1 followed by a 2x2
/// max-pooling, each block doubling the channels; the block is a function of its depth and width.
/// </summary>
[Network]
public partial class VggSmall
{
    /// <summary><paramref name="convs"/> 3x3 convolutions of <paramref name="channels"/>, then halve H and W.</summary>
    static Layer VggBlock(int convs, int channels) =>
        Repeat(convs, Conv2d(channels, kernel: 3, padding: 1) | Relu) | MaxPool2d(2);

    static Net Define() =>
        Input(1, 28, 28)
        | VggBlock(1, 16)
        | VggBlock(1, 32)
        | VggBlock(2, 64)
        | Flatten
        | Linear(64 * 3 * 3, 256) | Relu | Dropout(0.5)
        | Linear(10) | LogSoftmax;
}
