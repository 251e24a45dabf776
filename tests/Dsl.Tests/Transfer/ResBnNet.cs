using static Dsl.Layers;

namespace Dsl.Tests.Transfer;

/// <summary>
/// The fixture script's small ResNet (a stem, a basic block, a downsampling block with a projected shortcut, a linear head)
/// written in the DSL: its flat names (<c>conv2</c>, <c>bn6</c>) take a torchvision-named state dict through a rename map.
/// </summary>
[Network]
public partial class ResBnNet
{
    static Layer ConvBn(int channels, int kernel, int stride) =>
        Conv2d(channels, kernel: kernel, stride: stride, padding: kernel / 2, bias: false) | BatchNorm2d();

    static Net Define() =>
        Input(3, 8, 8)
        | ConvBn(6, 3, 1) | Relu
        | Residual(ConvBn(6, 3, 1) | Relu | ConvBn(6, 3, 1)) | Relu
        | Residual(ConvBn(8, 3, 2) | Relu | ConvBn(8, 3, 1), projection: ConvBn(8, 1, 2)) | Relu
        | GlobalAvgPool2d
        | Flatten
        | Linear(4);
}
