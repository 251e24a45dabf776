using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>Dropout alone, so its output can be compared with its input element by element.</summary>
[Network]
public partial class DropoutNet
{
    static Net Define() => Input(40) | Dropout(0.5);
}
