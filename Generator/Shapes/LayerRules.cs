using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Model;
using Microsoft.CodeAnalysis;

namespace Dsl.Generator.Shapes;

/// <summary>What a shape rule receives: the call as written, its constant arguments and the incoming value.</summary>
internal sealed record LayerInput(string Layer, string Source, LayerArgs Args, ImmutableArray<int> Shape, string From, int Outputs = 1)
{
    /// <summary>
    /// The incoming dimensions when some is a symbol (default otherwise): only an op that <see cref="Ops.Op.TakesSymbols"/>
    /// receives them, with <see cref="Shape"/> counting each symbol as 1 (so FLOPs are per unit of each symbol).
    /// </summary>
    public ImmutableArray<Dim> Dims { get; init; }

    public bool IsSymbolic => !Dims.IsDefault;

    /// <summary>
    /// The node that produced the incoming value (null for a block's parameter before expansion): <c>Last</c> checks it is a
    /// recurrent layer, and a mismatch after one explains its width (DSL1030).
    /// </summary>
    public Model.GraphNode? Producer { get; init; }

    /// <summary>The recurrent layer behind <see cref="Producer"/>: itself, or the one a <c>Last</c> reads.</summary>
    public Model.GraphNode? Recurrent { get; init; }

    /// <summary>The incoming shape as messages print it, symbols included: <c>[N,T,16]</c>.</summary>
    public string Received => IsSymbolic ? ShapeText.Batch(Dims) : ShapeText.Batch(Shape);

    /// <summary>
    /// The values given to the call's <c>Net</c> parameters (<c>mask: m</c>; both operands of <c>Concat(a, b)</c>), in the
    /// order of the C# parameters; a parameter left null is absent. Each becomes an input of the node after the piped
    /// value (a value function has none: its first Net argument is input 0).
    /// </summary>
    public ImmutableArray<NetArg> Nets { get; init; } = ImmutableArray<NetArg>.Empty;

    /// <summary>The value given to Net parameter <paramref name="parameter"/>, or null when the call leaves it null.</summary>
    public NetArg? Net(string parameter) => Nets.FirstOrDefault(a => a.Parameter == parameter);
}

/// <summary>
/// A value passed to a layer's <c>Net</c> parameter, as its shape rule sees it: its dimensions (constants and symbols),
/// its element type (<c>float32</c>, <c>int64</c> token ids or a <c>mask</c>) and where it came from, for messages.
/// </summary>
internal sealed record NetArg(string Parameter, ImmutableArray<Dim> Dims, string DType, string From)
{
    public const string Float32 = "float32";

    /// <summary>The shape as messages print it: <c>[N,T]</c>.</summary>
    public string Text => ShapeText.Batch(Dims);

    /// <summary>The per-sample shape with each symbol counted as 1.</summary>
    public ImmutableArray<int> Shape => Dims.Select(d => d.IsConstant ? (int)d.Constant : 1).ToImmutableArray();

    public bool IsSymbolic => Dims.Any(d => !d.IsConstant);

    /// <summary>The element type as messages say it (as <c>InputOp.DTypeText</c>).</summary>
    public string DTypeText => DType == Float32 ? "float32" : DType == "int64" ? "int64 token ids" : "a float32 0/1 mask";
}

/// <summary>
/// What a rule returns: the operation with its output shape, parameter shapes, attributes and FLOPs per sample,
/// or an error (descriptor and message arguments) when the layer cannot take the incoming shape. Sizes are
/// <c>long</c>: the expander checks that each fits a tensor, so a rule never truncates.
/// </summary>
internal sealed class LayerOutcome
{
    public string Op = "";
    public ImmutableArray<long> Shape = ImmutableArray<long>.Empty;
    public List<(string Suffix, long[] Shape, string Init, long FanIn)> Params = new();
    public List<Attr> Attrs = new();
    public long Flops;
    /// <summary>The prefix of default names for layers with parameters (fc, conv, bn); null when it has none.</summary>
    public string? NamePrefix;
    public DiagnosticDescriptor? Error;
    public string[] ErrorArgs = Array.Empty<string>();
    /// <summary>The output's dimensions when the input had symbols (an op that takes symbols sets it; default otherwise).</summary>
    public ImmutableArray<Dim> Dims;

    public static LayerOutcome Fail(DiagnosticDescriptor descriptor, params string[] args) => new() { Error = descriptor, ErrorArgs = args };

    public LayerOutcome With(string key, object value)
    {
        string text = value switch
        {
            bool b => b ? "true" : "false",
            double d => LayerArgs.Format(d),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        };
        Attrs.Add(new Attr(key, text));
        return this;
    }
}

/// <summary>What every shape rule shares: the exact errors, and shapes widened to <c>long</c> for checked arithmetic.</summary>
internal static class LayerRules
{
    public static ImmutableArray<long> Long(ImmutableArray<int> shape) => shape.Select(d => (long)d).ToImmutableArray();

    /// <summary>The product of the dimensions, checked (an overflow becomes DSL1010 at the call).</summary>
    public static long Elements(IEnumerable<long> shape) => shape.Aggregate(1L, (a, b) => checked(a * b));

    public static long Elements(ImmutableArray<int> shape) => shape.Aggregate(1L, (a, b) => checked(a * b));

    public static LayerOutcome TooLarge(LayerInput i, long kh, long kw, long paddedH, long paddedW, string note)
        => LayerOutcome.Fail(Descriptors.KernelTooLarge, i.Source, $"{kh}x{kw}{note}", $"{paddedH}x{paddedW}", i.Received, i.From);

    /// <summary>
    /// The layer expects <paramref name="expected"/> but receives another shape: DSL1001, or DSL1030 when the value comes
    /// from a recurrent layer (or its <c>Last</c>) and the layer declares another last dimension, saying where the recurrent
    /// width comes from (the hidden size, doubled when bidirectional).
    /// </summary>
    public static LayerOutcome Mismatch(LayerInput i, string expected)
        => LastSize(expected) is { } declared && declared != LastSize(i.Received) && Ops.RecurrentOp.WidthNote(i.Producer, i.Recurrent) is { } note
            ? LayerOutcome.Fail(Descriptors.RecurrentWidth, i.Source, expected, i.Received, i.From, note)
            : LayerOutcome.Fail(Descriptors.ShapeMismatch, i.Source, expected, i.Received, i.From);

    /// <summary>The last dimension of a printed shape when it is a number (<c>[N,T,128]</c>: 128), else null.</summary>
    private static long? LastSize(string shape)
    {
        int comma = shape.LastIndexOf(',');
        return comma >= 0 && shape.EndsWith("]", StringComparison.Ordinal)
            && long.TryParse(shape.Substring(comma + 1, shape.Length - comma - 2), NumberStyles.None, CultureInfo.InvariantCulture, out long size)
            ? size : null;
    }

    /// <summary>A dimension the op needs fixed (<paramref name="what"/>, at <paramref name="axis"/> of the per-sample shape) is a symbol: DSL1013.</summary>
    public static LayerOutcome? RequireFixed(LayerInput i, int axis, string what)
        => i.IsSymbolic && !i.Dims[axis].IsConstant
            ? LayerOutcome.Fail(Descriptors.SymbolicSize, i.Source, what, i.Received, i.From, i.Dims[axis].ToString())
            : null;

    /// <summary>The op needs every size fixed but a dimension of its input is a symbol: DSL1012.</summary>
    public static LayerOutcome Symbolic(LayerInput i)
        => LayerOutcome.Fail(Descriptors.SymbolicShape, i.Source, i.Received, i.From, string.Join(", ", i.Dims.SelectMany(d => d.Symbols).Distinct()));

    public static LayerOutcome Invalid(LayerInput i, string why) => LayerOutcome.Fail(Descriptors.InvalidArgument, i.Source, why);

    public static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
