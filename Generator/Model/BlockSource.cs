namespace Dsl.Generator.Model;

internal enum ParamType
{
    Int,
    Number,
    Bool,
    String,
    Net,
    Layer,
    Unsupported,
}

/// <summary>A block's parameter: its name and DSL type.</summary>
internal sealed record BlockParameter(string Name, ParamType Type, string TypeName);

/// <summary>A <c>var</c> binding in a block body: the DSL's <c>let</c>.</summary>
internal sealed record Binding(string Name, DslExpr Value, LocationInfo Location);

/// <summary>
/// A static method of the network class that returns <c>Net</c> or <c>Layer</c>: <c>Define()</c> itself, or a block.
/// Its body is a list of <c>var</c> bindings and a result.
/// </summary>
internal sealed record BlockSource(
    string Name,
    bool ReturnsNet,
    EquatableArray<BlockParameter> Parameters,
    EquatableArray<Binding> Bindings,
    DslExpr Result,
    LocationInfo Location);
