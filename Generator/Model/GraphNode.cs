using System.Globalization;
using System.Linq;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Model;

/// <summary>A constant attribute of a node (dropout probability, activation kind, kernel size...).</summary>
internal sealed record Attr(string Key, string Value);

/// <summary>A trainable parameter of a node, with its PyTorch name, layout and initialiser.</summary>
internal sealed record ParamSpec(string Name, EquatableArray<int> Shape, string Init, int FanIn)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// One operation of the expanded network with the per-sample shape of its output (the batch
/// dimension N is implicit; a dimension may be a symbol, see <see cref="Symbolic"/>). Nodes are numbered in evaluation order, which is a topological order.
/// <see cref="Block"/> is the path of block calls that created it, with their arguments' values
/// (<c>Basic(16) &gt; ConvBn(16, 3, 1)</c>; empty in <c>Define()</c> itself).
/// </summary>
internal sealed record GraphNode(
    int Id,
    string Op,
    EquatableArray<int> Inputs,
    EquatableArray<int> Shape,
    string Label,
    string Name,
    EquatableArray<ParamSpec> Params,
    EquatableArray<Attr> Attrs,
    long Flops,
    LocationInfo Location,
    string Block = "",
    EquatableArray<Dim> Symbolic = default)
{
    /// <summary>True when some dimension is a symbol: <see cref="Symbolic"/> then holds every dimension and <see cref="Shape"/> counts each symbol as 1.</summary>
    public bool IsSymbolic => Symbolic.Count > 0;

    /// <summary>The per-sample dimensions, constants or symbolic expressions.</summary>
    public EquatableArray<Dim> Dims => IsSymbolic ? Symbolic : EquatableArray.From(Shape.Select(d => Dim.Of(d)));

    public string Attr(string key) => Attrs.First(a => a.Key == key).Value;

    public int IntAttr(string key) => int.Parse(Attr(key), CultureInfo.InvariantCulture);

    public bool HasAttr(string key) => Attrs.Any(a => a.Key == key);

    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The attribute recording which input holds the value given to Net parameter <paramref name="parameter"/>.</summary>
    public static string NetAttr(string parameter) => "net:" + parameter;

    /// <summary>The input index of the value given to Net parameter <paramref name="parameter"/> (<c>mask</c>), or -1 when none was given.</summary>
    public int NetInput(string parameter) => HasAttr(NetAttr(parameter)) ? IntAttr(NetAttr(parameter)) : -1;
}

/// <summary>
/// The checked network: the graph with a shape on every edge and its output(s), or the diagnostics that stopped it.
/// This record is the second cache boundary: the emitter re-runs only when it changes.
/// </summary>
internal sealed record NetworkModel(
    string? Namespace,
    string ClassName,
    string Accessibility,
    EquatableArray<GraphNode> Nodes,
    int Output,
    EquatableArray<DiagnosticInfo> Diagnostics,
    bool CanEmit,
    bool HasErrors,
    EquatableArray<int> Outputs = default,
    EquatableArray<string> OutputNames = default)
{
    /// <summary>True when <c>Define()</c> returns several values (<c>Outputs(a, b)</c>); <see cref="Output"/> is then the first.</summary>
    public bool SeveralOutputs => Outputs.Count > 1;

    /// <summary>False under <c>[Network(Fuse = false)]</c>: the emitter then fuses nothing (<c>Emit/Fusion.cs</c>).</summary>
    public bool Fuse { get; init; } = true;
}
