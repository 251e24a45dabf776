using static Dsl.Layers;

namespace Dsl.Tests.Transfer;

/// <summary>A small trunk (two convolutions, a batch norm) and a two-layer head: the layers tests freeze and unfreeze.</summary>
[Network]
public partial class FreezeNet
{
    static Net Define() =>
        Input(2, 6, 6)
        | Conv2d(4, kernel: 3, padding: 1) | BatchNorm2d() | Relu
        | Conv2d(4, kernel: 3, padding: 1) | Tanh
        | Flatten
        | Linear(8) | Tanh
        | Linear(3) | LogSoftmax;
}
