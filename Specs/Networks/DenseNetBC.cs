using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// DenseNet-BC (Huang et al., 2017) for 28x28: in a dense block every layer sees all earlier feature maps (each
/// layer concatenates its input with growth-rate new channels), bottleneck 1x1 convolutions of 4 x growth, and
/// transitions that halve channels and H and W (compression 0.5).
/// </summary>
[Network]
public partial class DenseNetBC
{
    const int Growth = 12;

    /// <summary>BN-ReLU-Conv1x1-BN-ReLU-Conv3x3, kept alongside its input.</summary>
    static Layer DenseLayer(int growth) =>
        Concat(
            Identity,
            BatchNorm2d() | Relu | Conv2d(4 * growth, kernel: 1, bias: false)
            | BatchNorm2d() | Relu | Conv2d(growth, kernel: 3, padding: 1, bias: false));

    static Layer DenseBlock(int layers) => Repeat(layers, DenseLayer(Growth));

    static Layer Transition(int channels) =>
        BatchNorm2d() | Relu | Conv2d(channels, kernel: 1, bias: false) | AvgPool2d(2);

    static Net Define() =>
        Input(1, 28, 28)
        | Conv2d(2 * Growth, kernel: 3, padding: 1, bias: false)   // 24 channels
        | DenseBlock(4) | Transition(36)                           // 24 + 4*12 = 72 -> 36, 14x14
        | DenseBlock(4) | Transition(42)                           // 36 + 48 = 84 -> 42, 7x7
        | DenseBlock(4)                                            // 42 + 48 = 90
        | BatchNorm2d() | Relu
        | GlobalAvgPool2d
        | Flatten
        | Linear(10) | LogSoftmax;
}
