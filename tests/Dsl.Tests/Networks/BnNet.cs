using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>A convolution, batch norm and classifier: PyTorch's BatchNorm state_dict (num_batches_tracked included) loads into it.</summary>
[Network]
public partial class BnNet
{
    static Net Define() =>
        Input(3, 6, 6)
        | Conv2d(4, kernel: 3) | BatchNorm2d() | Relu
        | Flatten
        | Linear(3) | LogSoftmax;
}
