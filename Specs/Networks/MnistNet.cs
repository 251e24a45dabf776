using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// The network of PyTorch's MNIST example, layer for layer (conv1, conv2, conv2_drop, fc1, fc2), here on
/// Fashion-MNIST. Train it as the example does: SGD, lr 0.01, momentum 0.5, NLL loss.
/// https://github.com/pytorch/examples/blob/main/mnist/main.py (the 2017 version with Dropout2d)
/// </summary>
[Network]
public partial class MnistNet
{
    static Net Define() =>
        Input(1, 28, 28)
        | Conv2d(10, kernel: 5) | MaxPool2d(2) | Relu
        | Conv2d(20, kernel: 5) | Dropout2d(0.5) | MaxPool2d(2) | Relu
        | Flatten
        | Linear(320, 50) | Relu | Dropout(0.5)
        | Linear(10) | LogSoftmax;
}
