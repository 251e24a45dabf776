namespace Dsl.Generator.Model;

internal enum ParamType
{
    Int,
    Number,
    Bool,
    String,
    Net,
    Layer,
    /// <summary><c>int[]</c>: a constant list (a VGG's widths) that a <c>foreach</c> runs over.</summary>
    IntArray,
    Unsupported,
}

/// <summary>A block's parameter: its name and DSL type, and (for a shared block) its default value as declared.</summary>
internal sealed record BlockParameter(string Name, ParamType Type, string TypeName, ArgValue? Default = null);

/// <summary>A <c>var</c> binding in a block body: the DSL's <c>let</c>.</summary>
internal sealed record Binding(string Name, DslExpr Value, LocationInfo Location);

/// <summary>
/// A static method that returns <c>Net</c> or <c>Layer</c>: <c>Define()</c> itself, a block of the network class, or a
/// shared block of a static class (issue 9). Its body is a list of <c>var</c> bindings and a result, or, when it uses
/// more, <see cref="Statements"/>.
/// </summary>
/// <param name="Key">What calls name it by: the method's name for the network's own blocks, the containing class's full
/// name, the method's name and (when overloaded) its parameter types for a shared block.</param>
/// <param name="Shared">True for a block of a static class outside the network.</param>
/// <param name="Extent">The whole method, for a shared block: an error inside it is also reported at the network's call.</param>
/// <param name="SharedCalls">The keys of the shared blocks its body calls, so the pipeline adds exactly those (and theirs).</param>
internal sealed record BlockSource(
    string Name,
    bool ReturnsNet,
    EquatableArray<BlockParameter> Parameters,
    EquatableArray<Binding> Bindings,
    DslExpr Result,
    LocationInfo Location,
    string? Key = null,
    bool Shared = false,
    EquatableArray<string> SharedCalls = default,
    EquatableArray<Statement> Statements = default,
    LocationInfo? Extent = null)
{
    public string Id => Key ?? Name;
}
