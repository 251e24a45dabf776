using static Dsl.Layers;

namespace Dsl.Tests.SharedBlocks;

/// <summary>Blocks shared by the networks of this folder: a static class of the test project, found by the generator.</summary>
public static class TrunkBlocks
{
    /// <summary>Two 3x3 convolutions of <paramref name="width"/> channels with ReLUs: the trunk both networks share.</summary>
    public static Layer Trunk(int width = 4) => Conv2d(width, kernel: 3, padding: 1) | Relu | Conv2d(width, kernel: 3, padding: 1) | Relu;

    /// <summary>A small classifier head over the flattened trunk.</summary>
    public static Layer Head(int classes, string name) => Linear(classes, name: name) | LogSoftmax;
}

/// <summary>The shared trunk with a three-class head; its features are an output, to compare trunks.</summary>
[Network]
public partial class TrunkClassifierA
{
    static Net Define()
    {
        var features = Input("x", 2, 6, 6) | Named("trunk", TrunkBlocks.Trunk()) | Flatten;
        var logits = features | TrunkBlocks.Head(3, "classifier");
        return Outputs(logits, features);
    }
}

/// <summary>The same trunk, called through <c>using static</c>, with another head (two classes, other names).</summary>
[Network]
public partial class TrunkClassifierB
{
    static Net Define()
    {
        var features = Input("x", 2, 6, 6) | Named("trunk", TrunkBlocks.Trunk(width: 4)) | Flatten;
        var logits = features | Linear(5, name: "hidden") | Relu | TrunkBlocks.Head(2, "other");
        return Outputs(logits, features);
    }
}

/// <summary>
/// Loop-built VGG blocks (issue 9): the configuration list, with <see cref="M"/> for max pooling as torchvision's 'M',
/// unrolled at compile time into convolutions, batch norms and poolings.
/// </summary>
public static class VggBlocks
{
    /// <summary>Marks a 2x2 max pooling in a configuration list.</summary>
    public const int M = -1;

    /// <summary>The configuration list's layers: a 3x3 convolution (and batch norm) and ReLU per width, a pooling per <see cref="M"/>.</summary>
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
                    net |= BatchNorm2d();
                }
                net = net | Relu;
            }
        }
        return net;
    }
}

/// <summary>A small VGG built by a loop from a configuration list (a static readonly field of the class).</summary>
[Network]
public partial class SmallVgg
{
    private const int M = VggBlocks.M;

    /// <summary>Widths and poolings: 8x8 -> 4x4 -> 2x2.</summary>
    private static readonly int[] Config = { 4, M, 8, 8, M };

    static Net Define()
    {
        var features = VggBlocks.Features(Input(3, 8, 8), Config, batchNorm: true);
        var hidden = features | Flatten;
        for (int i = 0; i < 2; i++)
        {
            hidden = hidden | Linear(i == 0 ? 16 : 10);
            hidden = i < 1 ? hidden | Relu : hidden | LogSoftmax;
        }
        return hidden;
    }
}

/// <summary><see cref="SmallVgg"/> written out by hand, layer by layer: the loop must give exactly this network.</summary>
[Network]
public partial class SmallVggByHand
{
    static Net Define() =>
        Input(3, 8, 8)
        | Conv2d(4, kernel: 3, padding: 1) | BatchNorm2d() | Relu
        | MaxPool2d(2)
        | Conv2d(8, kernel: 3, padding: 1) | BatchNorm2d() | Relu
        | Conv2d(8, kernel: 3, padding: 1) | BatchNorm2d() | Relu
        | MaxPool2d(2)
        | Flatten
        | Linear(16) | Relu
        | Linear(10) | LogSoftmax;
}
