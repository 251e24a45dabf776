using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// The transfer-learning experiment's network (<c>transfer</c>): a trunk of two convolutions and a dense layer
/// (<c>conv1</c>, <c>conv2</c>, <c>fc1</c>) and a five-class head (<c>fc2</c>). Pretrained on Fashion-MNIST classes 0-4,
/// its trunk is reused for classes 5-9 with a fresh head.
/// </summary>
[Network]
public partial class TransferCnn
{
    static Net Define() =>
        Input(1, 28, 28)
        | Conv2d(16, kernel: 5) | MaxPool2d(2) | Relu
        | Conv2d(32, kernel: 5) | MaxPool2d(2) | Relu
        | Flatten
        | Linear(64) | Relu
        | Linear(5) | LogSoftmax;
}
