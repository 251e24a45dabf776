namespace Dsl.Generator.Model;

/// <summary>
/// A statement of a block with a statement body (issue 9): bindings and assignments, <c>for</c> and <c>foreach</c> loops
/// and <c>if</c> over compile-time constants, and <c>return</c>. The expander runs them at compile time (loops unrolled),
/// so a block's layers may come from a configuration list. A body of <c>var</c> bindings and one <c>return</c> keeps the
/// simpler <see cref="BlockSource.Bindings"/> form.
/// </summary>
internal abstract record Statement(LocationInfo Location);

/// <summary><c>var x = value;</c>, <c>Net x = value;</c>, <c>x = value;</c> or <c>x |= layer;</c> (its value then <c>x | layer</c>).</summary>
internal sealed record LetStatement(string Name, DslExpr Value, LocationInfo Location) : Statement(Location);

/// <summary>
/// <c>for (int i = start; condition; i = next)</c>: <see cref="Next"/> is the incrementor as the variable's new value
/// (<c>i++</c> is <c>i + 1</c>). <see cref="Header"/> is the loop as written, for messages.
/// </summary>
internal sealed record ForStatement(string Variable, DslExpr Start, DslExpr Condition, DslExpr Next, EquatableArray<Statement> Body, string Header, LocationInfo Location)
    : Statement(Location);

/// <summary><c>foreach (var w in collection)</c> over a constant integer array or an <c>int[]</c> parameter of the block.</summary>
internal sealed record ForEachStatement(string Variable, DslExpr Collection, EquatableArray<Statement> Body, string Header, LocationInfo Location)
    : Statement(Location);

/// <summary><c>if (condition) ... else ...</c> over a compile-time condition.</summary>
internal sealed record IfStatement(DslExpr Condition, EquatableArray<Statement> Then, EquatableArray<Statement> Else, string Header, LocationInfo Location)
    : Statement(Location);

/// <summary><c>return value;</c></summary>
internal sealed record ReturnStatement(DslExpr Value, LocationInfo Location) : Statement(Location);

/// <summary>A statement outside the subset; <see cref="Diagnostic"/> is null when the C# compiler already reports it.</summary>
internal sealed record InvalidStatement(DiagnosticInfo? Diagnostic, LocationInfo Location) : Statement(Location);
