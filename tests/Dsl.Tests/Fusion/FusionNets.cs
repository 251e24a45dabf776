using static Dsl.Layers;

namespace Dsl.Tests.Fusion;

// One network written twice: FusedNet as the generator fuses it (the default) and UnfusedNet with [Network(Fuse = false)],
// one kernel per layer as written. Every fusion appears: conv + batch norm + ReLU (batch norm + ReLU fused forward and
// backward, the convolution folded in evaluation), conv + batch norm before a residual sum (folded), the residual sum + ReLU,
// a convolution with bias + ReLU, a linear + BatchNorm1d + ReLU; and one batch norm read twice (bn6), which must not fuse.

/// <summary>The fusion test network, fused.</summary>
[Network]
public partial class FusedNet
{
    static Layer Block(int channels) =>
        Residual(Conv2d(channels, kernel: 3, padding: 1) | BatchNorm2d() | Relu | Conv2d(channels, kernel: 3, padding: 1, bias: false) | BatchNorm2d()) | Relu;

    static Net Define()
    {
        var x = Input(2, 6, 6)
            | Conv2d(4, kernel: 3, padding: 1) | BatchNorm2d() | Relu
            | Block(4)
            | Conv2d(4, kernel: 3, padding: 1) | Relu
            | Conv2d(4, kernel: 3, stride: 2, padding: 1) | BatchNorm2d();
        var y = x + (x | Relu);
        return y | Flatten | Linear(8) | BatchNorm1d() | Relu | Linear(3) | LogSoftmax;
    }
}

/// <summary>The fusion test network, every layer as written.</summary>
[Network(Fuse = false)]
public partial class UnfusedNet
{
    static Layer Block(int channels) =>
        Residual(Conv2d(channels, kernel: 3, padding: 1) | BatchNorm2d() | Relu | Conv2d(channels, kernel: 3, padding: 1, bias: false) | BatchNorm2d()) | Relu;

    static Net Define()
    {
        var x = Input(2, 6, 6)
            | Conv2d(4, kernel: 3, padding: 1) | BatchNorm2d() | Relu
            | Block(4)
            | Conv2d(4, kernel: 3, padding: 1) | Relu
            | Conv2d(4, kernel: 3, stride: 2, padding: 1) | BatchNorm2d();
        var y = x + (x | Relu);
        return y | Flatten | Linear(8) | BatchNorm1d() | Relu | Linear(3) | LogSoftmax;
    }
}

/// <summary>
/// A smaller fused network for finite differences in training mode: conv + batch norm + ReLU, a residual block closed by
/// add + ReLU, conv + ReLU. Few ReLUs behind batch norm keep the kinks a central difference may straddle rare.
/// </summary>
[Network]
public partial class FusedFdNet
{
    static Net Define() =>
        Input(2, 4, 4)
        | Conv2d(3, kernel: 3, padding: 1) | BatchNorm2d() | Relu
        | Residual(Conv2d(3, kernel: 3, padding: 1, bias: false) | BatchNorm2d()) | Relu
        | Conv2d(2, kernel: 3) | Relu
        | Flatten | Linear(3);
}

/// <summary>
/// PyTorch's MNIST example's order of layers, fused: max pool + ReLU (one pass), Dropout2d and Dropout (the identity in
/// evaluation, where their value is their input's memory), a linear + ReLU.
/// </summary>
[Network]
public partial class PoolFusedNet
{
    static Net Define() =>
        Input(1, 12, 12)
        | Conv2d(3, kernel: 3) | MaxPool2d(2) | Relu
        | Conv2d(4, kernel: 3) | Dropout2d(0.5) | MaxPool2d(2, stride: 1) | Relu
        | Flatten
        | Linear(8) | Relu | Dropout(0.5)
        | Linear(3) | LogSoftmax;
}

/// <summary>The same network, every layer as written.</summary>
[Network(Fuse = false)]
public partial class PoolUnfusedNet
{
    static Net Define() =>
        Input(1, 12, 12)
        | Conv2d(3, kernel: 3) | MaxPool2d(2) | Relu
        | Conv2d(4, kernel: 3) | Dropout2d(0.5) | MaxPool2d(2, stride: 1) | Relu
        | Flatten
        | Linear(8) | Relu | Dropout(0.5)
        | Linear(3) | LogSoftmax;
}

/// <summary>
/// ReLUs read only by a max pool, whose backward the pool's does: after a convolution (its ReLU fused forward into the
/// convolution) with a 2x2 pool, with an overlapping padded 3x3 stride-2 pool, and after a convolution read twice (the ReLU
/// apart, its gradient added to the other reader's); and the ReLU fused after a pool that also does the one before it.
/// </summary>
[Network]
public partial class ReluPoolFusedNet
{
    static Net Define()
    {
        var a = Input(2, 10, 10) | Conv2d(4, kernel: 3, padding: 1);
        var x = (a | Relu | MaxPool2d(2)) + (a | MaxPool2d(2));
        return x
            | Conv2d(4, kernel: 3, padding: 1) | Relu | MaxPool2d(3, stride: 2, padding: 1) | Relu
            | Flatten | Linear(3) | LogSoftmax;
    }
}

/// <summary>The same network, every layer as written.</summary>
[Network(Fuse = false)]
public partial class ReluPoolUnfusedNet
{
    static Net Define()
    {
        var a = Input(2, 10, 10) | Conv2d(4, kernel: 3, padding: 1);
        var x = (a | Relu | MaxPool2d(2)) + (a | MaxPool2d(2));
        return x
            | Conv2d(4, kernel: 3, padding: 1) | Relu | MaxPool2d(3, stride: 2, padding: 1) | Relu
            | Flatten | Linear(3) | LogSoftmax;
    }
}

/// <summary>The same over sequences: a 1-d convolution's ReLU read only by a max pool, then an overlapping padded pool.</summary>
[Network]
public partial class ReluPool1dFusedNet
{
    static Net Define() =>
        Input(3, 12)
        | Conv1d(4, kernel: 3, padding: 1) | Relu | MaxPool1d(2)
        | Conv1d(4, kernel: 3) | Relu | MaxPool1d(3, stride: 2, padding: 1)
        | Flatten | Linear(3) | LogSoftmax;
}

/// <summary>The same network, every layer as written.</summary>
[Network(Fuse = false)]
public partial class ReluPool1dUnfusedNet
{
    static Net Define() =>
        Input(3, 12)
        | Conv1d(4, kernel: 3, padding: 1) | Relu | MaxPool1d(2)
        | Conv1d(4, kernel: 3) | Relu | MaxPool1d(3, stride: 2, padding: 1)
        | Flatten | Linear(3) | LogSoftmax;
}
