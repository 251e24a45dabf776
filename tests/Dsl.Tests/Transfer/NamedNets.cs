using static Dsl.Layers;

namespace Dsl.Tests.Transfer;

/// <summary>A network whose trunk is a named block: its parameters are <c>trunk.conv1.weight</c>, ...</summary>
[Network]
public partial class TrunkNet
{
    static Layer Trunk() => Conv2d(4, kernel: 3, padding: 1) | BatchNorm2d() | Relu | Conv2d(4, kernel: 3, padding: 1) | Relu;

    static Net Define() => Input(2, 6, 6) | Named("trunk", Trunk()) | Flatten | Linear(3) | LogSoftmax;
}

/// <summary>
/// The same trunk (a copy of the block: a block is a static method of its own network class), frozen in the DSL, under a
/// new two-layer head whose last layer is a named block too.
/// </summary>
[Network]
public partial class FrozenTrunkNet
{
    static Layer Trunk() => Conv2d(4, kernel: 3, padding: 1) | BatchNorm2d() | Relu | Conv2d(4, kernel: 3, padding: 1) | Relu;

    static Net Define() => Input(2, 6, 6) | Frozen(Named("trunk", Trunk())) | Flatten | Linear(8) | Relu | Named("head", Linear(5)) | LogSoftmax;
}
