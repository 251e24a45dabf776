using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>A small convolutional classifier run on two devices side by side: conv, batch norm, pooling, dropout, linear.</summary>
[Network]
public partial class AgreementNet
{
    static Net Define() =>
        Input(1, 6, 6)
        | Conv2d(3, kernel: 3, padding: 1) | BatchNorm2d() | MaxPool2d(2) | Relu
        | Dropout2d(0.25)
        | Flatten
        | Linear(27, 8) | Tanh | Dropout(0.5)
        | Linear(4) | LogSoftmax;
}
