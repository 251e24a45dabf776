using static Dsl.Layers;

namespace Dsl.Tests.Transfer;

/// <summary>
/// PyTorch's tuple options: a 1x3 and a dilated 3x2 convolution with per-dimension stride and padding, max pooling whose
/// ceil mode adds a window reaching past the input, and average pooling with padding whose ceil mode drops a last window
/// that would start in the padding (the fixture script's <c>PairNet</c>).
/// </summary>
[Network]
public partial class PairNet
{
    static Net Define() =>
        Input(2, 9, 11)
        | Conv2d(4, kernel: (1, 3), padding: (0, 1)) | Tanh
        | Conv2d(5, kernel: (3, 2), stride: (2, 1), padding: (1, 0), dilation: (1, 2))
        | MaxPool2d((3, 2), stride: 2, ceilMode: true)
        | AvgPool2d(3, stride: (2, 3), padding: 1, ceilMode: true)
        | Flatten
        | Linear(3);
}

/// <summary>
/// Pairs and ceil mode that ONNX Runtime computes as PyTorch does (its ceil mode lacks PyTorch's last-window rule, so
/// <see cref="PairNet"/>'s average pooling is refused at export): a max pool adding a window past the input, an average
/// pool whose last window reaches past the padded input.
/// </summary>
[Network]
public partial class OnnxCeilNet
{
    static Net Define() =>
        Input(2, 9, 11)
        | Conv2d(4, kernel: (1, 3), padding: (0, 1))
        | MaxPool2d((3, 2), stride: 2, ceilMode: true)
        | AvgPool2d((2, 3), stride: (1, 2), padding: 1, ceilMode: true)
        | Flatten
        | Linear(3);
}
