using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>
/// Two named inputs: an image through a convolution and an extra feature vector, joined by <c>+</c> after a Linear
/// layer, and the extra vector used a second time (its gradient accumulates from both uses).
/// </summary>
[Network]
public partial class TwoInputNet
{
    static Net Define()
    {
        var image = Input("image", 1, 4, 4);
        var extra = Input("extra", 3);
        var seen = image | Conv2d(2, kernel: 3) | Tanh | Flatten | Linear(3);
        return (seen + (extra | Linear(3) | Sigmoid) + extra) | LogSoftmax;
    }
}
