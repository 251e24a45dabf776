using static Dsl.Layers;

namespace Dsl.Tests.Training;

/// <summary>Two float inputs joined by <c>+</c>: the smallest generated network whose Forward takes two tensors.</summary>
[Network]
public partial class PairNet
{
    static Net Define()
    {
        var a = Input("a", 4);
        var b = Input("b", 4);
        return ((a | Linear(16)) + (b | Linear(16))) | Tanh | Linear(3);
    }
}
