namespace Dsl.Generator.Model;

/// <summary>
/// The DSL as written, after the parser resolved every name with the semantic model: pipes, sums,
/// layer and block calls, and references to <c>var</c> bindings or block parameters. Pure values.
/// </summary>
internal abstract record DslExpr(LocationInfo Location);

/// <summary><c>left | right</c>: application (Net | Layer) or composition (Layer | Layer).</summary>
internal sealed record PipeExpr(DslExpr Left, DslExpr Right, LocationInfo Location) : DslExpr(Location);

/// <summary><c>left + right</c>: elementwise sum of two Nets.</summary>
internal sealed record AddExpr(DslExpr Left, DslExpr Right, LocationInfo Location) : DslExpr(Location);

/// <summary><c>left * right</c>: elementwise product of two Nets.</summary>
internal sealed record MulExpr(DslExpr Left, DslExpr Right, LocationInfo Location) : DslExpr(Location);

/// <summary>
/// <c>left op right</c> with op one of + - * / where broadcasting or a number is involved: <c>a - b</c>, <c>a / b</c>,
/// <c>scores / 8.0</c>, <c>1.0 - m</c>. A numeric operand is a <see cref="ConstantExpr"/>, an <see cref="ArithmeticExpr"/>
/// or a <see cref="RefExpr"/> to a block's parameter, folded at expansion.
/// </summary>
internal sealed record ElementwiseExpr(string Symbol, DslExpr Left, DslExpr Right, LocationInfo Location) : DslExpr(Location);

/// <summary>
/// A call of a catalogue layer (<c>Linear(10)</c>, <c>Relu</c>) with its arguments bound to parameter names.
/// <see cref="ReturnsNet"/> marks a catalogue call that returns a Net: an input declaration or a value function
/// (<c>Concat(a, b, dim: -1)</c>), whose Net arguments are its inputs.
/// </summary>
internal sealed record LayerCallExpr(string Layer, string Source, EquatableArray<ArgValue> Args, LocationInfo Location, bool ReturnsNet = false) : DslExpr(Location);

/// <summary>A call of a block: a static method of the network class returning Layer or Net.</summary>
internal sealed record BlockCallExpr(string Block, string Source, EquatableArray<ArgValue> Args, LocationInfo Location) : DslExpr(Location);

/// <summary>A <c>var</c> binding or a block parameter used as a value.</summary>
internal sealed record RefExpr(string Name, LocationInfo Location) : DslExpr(Location);

/// <summary>
/// Something the DSL does not understand. <see cref="Diagnostic"/> is null when the C# compiler already
/// reports the problem (half-typed code), so the user sees one error and not two.
/// </summary>
internal sealed record InvalidExpr(string Text, DiagnosticInfo? Diagnostic, LocationInfo Location) : DslExpr(Location);

/// <summary>A constant leaf of an argument's arithmetic.</summary>
internal sealed record ConstantExpr(ArgValue Value, LocationInfo Location) : DslExpr(Location);

/// <summary>
/// <c>left op right</c> in an argument (op is one of + - * / %, a comparison &lt; &lt;= &gt; &gt;= == !=, or &amp;&amp; ||), or unary
/// minus (op -), a negation (op !) or a square root (op sqrt) when <see cref="Left"/> is null.
/// </summary>
internal sealed record ArithmeticExpr(string Op, DslExpr? Left, DslExpr Right, LocationInfo Location) : DslExpr(Location);

/// <summary><c>condition ? whenTrue : whenFalse</c> over a compile-time condition: a value, a layer or a number.</summary>
internal sealed record ConditionalExpr(DslExpr Condition, DslExpr WhenTrue, DslExpr WhenFalse, LocationInfo Location) : DslExpr(Location);
