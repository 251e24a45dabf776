using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>
/// <c>var</c> bindings: values consumed twice (their gradients add up), a convolution and a Linear layer each applied
/// twice (one set of parameters whose gradient is the sum over both uses), joined with <c>+</c>.
/// </summary>
[Network]
public partial class SharingNet
{
    static Net Define()
    {
        var x = Input(2, 5, 5) | Conv2d(2, kernel: 1) | Tanh;
        var conv = Conv2d(2, kernel: 3, padding: 1, name: "shared_conv");
        var y = x | conv | Tanh | conv;
        var h = (x + y) | GlobalAvgPool2d | Flatten;
        var fc = Linear(2, 2, name: "shared_fc");
        var g = h | fc | Sigmoid | fc;
        return (h + g) | Linear(3) | LogSoftmax;
    }
}
