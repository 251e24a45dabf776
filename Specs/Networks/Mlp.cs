using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// The multilayer perceptron 784-256-128-100-10 of the Fashion-MNIST benchmark table (0.883 there):
/// ReLU hidden layers, log-probabilities out, trained with NLL.
/// </summary>
[Network]
public partial class Mlp
{
    static Net Define() =>
        Input(1, 28, 28)
        | Flatten
        | Linear(256) | Relu
        | Linear(128) | Relu
        | Linear(100) | Relu
        | Linear(10) | LogSoftmax;
}
