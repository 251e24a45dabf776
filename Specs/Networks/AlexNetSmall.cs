using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// AlexNet's design (Krizhevsky et al., 2012) sized for 28x28: five convolutions (3x3 here instead of 11x11 and 5x5,
/// since the images are 50 times smaller), three max-poolings, and two wide dropout-regularised dense layers.
/// </summary>
[Network]
public partial class AlexNetSmall
{
    static Net Define() =>
        Input(1, 28, 28)
        | Conv2d(32, kernel: 3, padding: 1) | Relu | MaxPool2d(2)
        | Conv2d(64, kernel: 3, padding: 1) | Relu | MaxPool2d(2)
        | Conv2d(128, kernel: 3, padding: 1) | Relu
        | Conv2d(128, kernel: 3, padding: 1) | Relu
        | Conv2d(64, kernel: 3, padding: 1) | Relu | MaxPool2d(2)
        | Flatten
        | Linear(64 * 3 * 3, 512) | Relu | Dropout(0.5)
        | Linear(512) | Relu | Dropout(0.5)
        | Linear(10) | LogSoftmax;
}
