using static Dsl.Layers;

namespace Dsl.Tests.Visualization;

/// <summary>Two convolutions with ReLU, pooling and a head: layers [1] conv1, [2] Relu, [3] MaxPool2d, [4] conv2, [5] Relu, [6] Flatten, [7] fc1, [8] LogSoftmax.</summary>
// Every layer's own output is probed, the convolutions' before their ReLU too, so nothing is fused (a fused
// convolution stores the ReLU's output, and Probe refuses it: FusionTests).
[Network(Fuse = false)]
public partial class ProbeNet
{
    static Net Define() =>
        Input(1, 8, 8) | Conv2d(3, kernel: 3) | Relu | MaxPool2d(2) | Conv2d(4, kernel: 2) | Relu | Flatten | Linear(5) | LogSoftmax;
}

/// <summary><see cref="ProbeNet"/> cut after its first ReLU: its output is what a probe of layer "2" must hold.</summary>
[Network]
public partial class ProbeNetToRelu
{
    static Net Define() => Input(1, 8, 8) | Conv2d(3, kernel: 3) | Relu;
}

/// <summary><see cref="ProbeNet"/> cut after conv2.</summary>
[Network]
public partial class ProbeNetToConv2
{
    static Net Define() => Input(1, 8, 8) | Conv2d(3, kernel: 3) | Relu | MaxPool2d(2) | Conv2d(4, kernel: 2);
}

/// <summary>An RGB input: conv1's filters are colour tiles, conv2's one grey tile per (out, in) pair.</summary>
[Network]
public partial class RgbNet
{
    static Net Define() => Input(3, 8, 8) | Conv2d(4, kernel: 3) | Relu | Conv2d(2, kernel: 3) | Flatten | Linear(3) | LogSoftmax;
}

/// <summary>
/// A dense classifier of 8x8 images; the tests zero the columns of fc1 that read the bottom four rows, so the network only
/// looks at the top half.
/// </summary>
[Network]
public partial class HalfNet
{
    static Net Define() => Input(1, 8, 8) | Flatten | Linear(64, 6) | Relu | Linear(3) | LogSoftmax;
}

/// <summary>Logits of a small ReLU network, for the backward rules against a reference written out by hand.</summary>
[Network]
public partial class ReluMlp
{
    static Net Define() => Input(1, 2, 3) | Flatten | Linear(6, 7) | Relu | Linear(4);
}
