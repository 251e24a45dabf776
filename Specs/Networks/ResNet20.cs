using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// ResNet-20 (He et al., 2016, the CIFAR variant: three stages of three basic blocks, 16/32/64 channels) for
/// 28x28 grey images. Downsampling blocks use a strided 3x3 convolution and a 1x1 projection on the shortcut.
/// </summary>
[Network]
public partial class ResNet20
{
    static Layer ConvBn(int channels, int kernel, int stride) =>
        Conv2d(channels, kernel: kernel, stride: stride, padding: kernel / 2, bias: false) | BatchNorm2d();

    /// <summary>Two 3x3 convolutions around the identity shortcut.</summary>
    static Layer Basic(int channels) =>
        Residual(ConvBn(channels, 3, 1) | Relu | ConvBn(channels, 3, 1)) | Relu;

    /// <summary>A block that halves H and W and changes the channels: the shortcut needs a projection.</summary>
    static Layer Down(int channels) =>
        Residual(ConvBn(channels, 3, 2) | Relu | ConvBn(channels, 3, 1), projection: ConvBn(channels, 1, 2)) | Relu;

    static Net Define() =>
        Input(1, 28, 28)
        | ConvBn(16, 3, 1) | Relu
        | Repeat(3, Basic(16))
        | Down(32) | Repeat(2, Basic(32))
        | Down(64) | Repeat(2, Basic(64))
        | GlobalAvgPool2d
        | Flatten
        | Linear(10) | LogSoftmax;
}
