using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>The network of Fixtures/tiny_mlp.json (PyTorch's names and layouts fc1..fc3).</summary>
[Network]
public partial class TinyMlp
{
    static Net Define() => Input(6) | Linear(5) | Tanh | Linear(4) | Relu | Linear(3) | LogSoftmax;
}
