using Dsl;
using static Dsl.Layers;

namespace Specs.Bench;

/// <summary>
/// <see cref="Networks.MnistNet"/> without its last layer: the same layers and parameter names up to <c>fc1</c> and its
/// ReLU, so a MnistNet checkpoint loads into it with <c>strict: false</c> (only <c>fc2.*</c> left over) and
/// <see cref="Module.Forward"/> gives the 50 penultimate features t-SNE embeds. It lives outside <c>Specs.Networks</c>:
/// it is a probe, not a Spec of its own.
/// </summary>
[Network]
public partial class MnistNetFeatures
{
    static Net Define() =>
        Input(1, 28, 28)
        | Conv2d(10, kernel: 5) | MaxPool2d(2) | Relu
        | Conv2d(20, kernel: 5) | Dropout2d(0.5) | MaxPool2d(2) | Relu
        | Flatten
        | Linear(320, 50) | Relu;
}
