using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// "2 Conv+pooling" of the Fashion-MNIST benchmark table (0.916 there): two 5x5 "same" convolutions with
/// pooling, a 1024-unit dense layer, dropout 0.4, and 10 outputs.
/// </summary>
[Network]
public partial class TwoConvNet
{
    static Net Define() =>
        Input(1, 28, 28)
        | Conv2d(32, kernel: 5, padding: "same") | Relu | MaxPool2d(2)
        | Conv2d(64, kernel: 5, padding: "same") | Relu | MaxPool2d(2)
        | Flatten
        | Linear(1024) | Relu | Dropout(0.4)
        | Linear(10) | LogSoftmax;
}
