using System.Globalization;
using System.Linq;

namespace Dsl.Generator.Model;

internal enum ArgKind
{
    /// <summary>An integer constant.</summary>
    Int,
    /// <summary>A floating-point constant.</summary>
    Number,
    Bool,
    String,
    Null,
    /// <summary>An array of integer constants (<c>Input(1, 28, 28)</c>).</summary>
    IntArray,
    /// <summary>Dimensions that are constants or symbols (<c>Input("x", "T", 16)</c>): <see cref="ArgValue.Ints"/> with 0 where <see cref="ArgValue.Symbols"/> names a symbol.</summary>
    DimArray,
    /// <summary>A reference to a parameter of the enclosing block, resolved at expansion.</summary>
    ParameterRef,
    /// <summary>A <c>Net</c> or <c>Layer</c> expression passed to a block or a combinator.</summary>
    Expression,
    /// <summary>Several Layer expressions (<c>Concat(a, b, c)</c>).</summary>
    ExpressionList,
    /// <summary>Integer or floating arithmetic over constants and block parameters (<c>4 * growth</c>), folded at expansion.</summary>
    Arithmetic,
    /// <summary>Something that is not a compile-time constant: a diagnostic if it decides a shape.</summary>
    NotConstant,
}

/// <summary>One argument of a layer or block call, bound to its parameter by name (defaults included).</summary>
internal sealed record ArgValue(
    string Parameter,
    ArgKind Kind,
    long Int,
    double Number,
    string? Text,
    EquatableArray<int> Ints,
    DslExpr? Expression,
    EquatableArray<DslExpr> Expressions,
    bool Explicit,
    LocationInfo Location,
    EquatableArray<string> Symbols = default)
{
    /// <summary>The argument as the user would read it, for messages and comments.</summary>
    public string Display => Kind switch
    {
        ArgKind.Int => Int.ToString(CultureInfo.InvariantCulture),
        ArgKind.Number => Number.ToString("R", CultureInfo.InvariantCulture),
        ArgKind.Bool => Int != 0 ? "true" : "false",
        ArgKind.String => "\"" + Text + "\"",
        ArgKind.Null => "null",
        ArgKind.IntArray => string.Join(", ", Ints),
        ArgKind.DimArray => string.Join(", ", Ints.Select((d, i) => Symbols[i].Length > 0 ? "\"" + Symbols[i] + "\"" : d.ToString(CultureInfo.InvariantCulture))),
        _ => Text ?? "?",
    };
}
