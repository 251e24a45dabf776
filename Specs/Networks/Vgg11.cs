using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// VGG's configuration lists (torchvision's <c>cfgs</c>) and the block that unrolls one, shared by every VGG network:
/// a width is a 3x3 convolution with padding 1 (then batch norm when asked, then ReLU), <see cref="M"/> a 2x2 max pooling.
/// The generator runs the loop at compile time, so the layers, their names and shapes are checked like written ones.
/// </summary>
public static class VggConfigs
{
    /// <summary>Marks a 2x2 max pooling in a configuration list, as torchvision's <c>"M"</c>.</summary>
    public const int M = -1;

    /// <summary>
    /// The layers of configuration list <paramref name="config"/> applied to <paramref name="x"/>: torchvision's
    /// <c>make_layers(cfg, batch_norm)</c>.
    /// </summary>
    public static Net Features(Net x, int[] config, bool batchNorm)
    {
        var net = x;
        foreach (var width in config)
        {
            if (width == M)
            {
                net = net | MaxPool2d(2);
            }
            else
            {
                net = net | Conv2d(width, kernel: 3, padding: 1);
                if (batchNorm)
                {
                    net = net | BatchNorm2d();
                }
                net = net | Relu;
            }
        }
        return net;
    }
}

/// <summary>
/// VGG-11 with batch norm (torchvision's <c>vgg11_bn</c>, configuration "A") for 28x28 Fashion-MNIST images: eight 3x3
/// convolutions of 64 to 512 channels built by a loop from the configuration list. A 28x28 image is 1x1 after four
/// poolings (28, 14, 7, 3, 1), so the list stops before torchvision's fifth; the classifier is the CIFAR-sized
/// 512-512-512-10 instead of 25088-4096-4096-1000.
/// </summary>
[Network]
public partial class Vgg11
{
    private const int M = VggConfigs.M;

    /// <summary>torchvision's <c>cfgs["A"]</c> without its last pooling.</summary>
    private static readonly int[] Config = { 64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512 };

    static Net Define() =>
        VggConfigs.Features(Input(1, 28, 28), Config, batchNorm: true)
        | Flatten
        | Linear(512) | Relu | Dropout(0.5)
        | Linear(512) | Relu | Dropout(0.5)
        | Linear(10) | LogSoftmax;
}
