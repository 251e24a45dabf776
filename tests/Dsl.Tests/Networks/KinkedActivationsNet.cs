using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>
/// The activations with a kink at 0 (Elu with alpha != 1, LeakyRelu, Relu) between Linear layers, with a LogSoftmax
/// output.
/// </summary>
[Network]
public partial class KinkedActivationsNet
{
    static Net Define() =>
        Input(5)
        | Linear(6) | Elu(0.7)
        | Linear(6, 5) | LeakyRelu(0.1)
        | Linear(4, bias: false) | Relu
        | Linear(3) | LogSoftmax;
}
