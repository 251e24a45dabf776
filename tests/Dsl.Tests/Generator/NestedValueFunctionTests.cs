using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Generator;

/// <summary>Value functions nested directly in each other's arguments parse and generate like their var-bound form.</summary>
public class NestedValueFunctionTests
{
    [Fact]
    public void Attention_calls_nested_in_Concat_generate()
        => Clean("[Network] public partial class NestedAttention { static Net Define() { var q = Input(\"q\", \"T\", 4); var k = Input(\"k\", \"S\", 4); "
            + "return Concat(Attention(q, k, k), Attention(q | Linear(4), k, k), dim: -1) | Linear(2); } }");
}
