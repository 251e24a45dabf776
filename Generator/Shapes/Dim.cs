using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Dsl.Generator.Model;

namespace Dsl.Generator.Shapes;

/// <summary>
/// One term of a symbolic dimension: <see cref="Coefficient"/> times an atom, which is a symbol (<c>T</c>) or a
/// product or floor quotient kept whole (<c>T*S</c>, <c>(T-3)/2</c>). <see cref="Code"/> is the atom as generated C#
/// reads it, with each symbol bound to its local (<c>dimT</c>).
/// </summary>
internal sealed record DimTerm(string Atom, string Code, long Coefficient);

/// <summary>
/// A dimension of a shape: a constant, or an integer expression over named symbols (<c>T</c>, <c>T - 4</c>, <c>2*T</c>,
/// <c>T*S</c>, <c>(T-3)/2 + 1</c>) kept in a canonical form (terms sorted by atom, like terms combined), so two dimensions
/// agree exactly when their forms are equal: equal symbols agree, a symbol never equals a constant, and two different
/// symbols never agree. Arithmetic is <c>checked</c>: an overflow throws <see cref="OverflowException"/>, which the
/// expander reports as DSL1010 at the call.
/// </summary>
internal sealed record Dim(long Constant, EquatableArray<DimTerm> Terms)
{
    /// <summary>The batch symbol every shape starts with; reserved, a user symbol cannot take its name.</summary>
    public const string Batch = "N";

    public static Dim Of(long value) => new(value, EquatableArray<DimTerm>.Empty);

    public static Dim Symbol(string name) => new(0, EquatableArray.From(new[] { new DimTerm(name, Local(name), 1) }));

    /// <summary>The local of generated code holding the bound size of symbol <paramref name="name"/>: <c>dimT</c>.</summary>
    public static string Local(string name) => "dim" + name;

    public bool IsConstant => Terms.Count == 0;

    /// <summary>The symbols this dimension depends on (the atoms' symbols), sorted.</summary>
    public IEnumerable<string> Symbols => Terms.SelectMany(t => SymbolsOf(t.Atom)).Distinct().OrderBy(s => s, StringComparer.Ordinal);

    public static Dim operator +(Dim a, Dim b) => Combine(checked(a.Constant + b.Constant), a.Terms.Concat(b.Terms));

    public static Dim operator +(Dim a, long b) => a + Of(b);

    public static Dim operator -(Dim a, long b) => a + Of(checked(-b));

    public static Dim operator -(Dim a, Dim b) => a + b * -1;

    public static Dim operator *(Dim a, long k)
        => k == 0 ? Of(0) : Combine(checked(a.Constant * k), a.Terms.Select(t => t with { Coefficient = checked(t.Coefficient * k) }));

    /// <summary>A product: scaled when either side is constant, otherwise one atom (<c>T*S</c>, factors sorted).</summary>
    public static Dim operator *(Dim a, Dim b)
    {
        if (a.IsConstant)
        {
            return b * a.Constant;
        }
        if (b.IsConstant)
        {
            return a * b.Constant;
        }
        var factors = new[] { a, b }.OrderBy(d => d.ToString(), StringComparer.Ordinal).ToArray();
        string atom = string.Join("*", factors.Select(f => f.Terms.Count == 1 && f.Constant == 0 && f.Terms[0].Coefficient == 1 ? f.ToString() : "(" + f + ")"));
        string code = string.Join(" * ", factors.Select(f => "(" + f.Code + ")"));
        return new Dim(0, EquatableArray.From(new[] { new DimTerm(atom, "checked(" + code + ")", 1) }));
    }

    /// <summary>
    /// Floor division by a positive constant (strided windows: <c>(T - k) / s + 1</c>): exact when every coefficient and the
    /// constant divide, otherwise one atom <c>(T-3)/2</c>.
    /// </summary>
    public Dim FloorDiv(long divisor)
    {
        if (divisor <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(divisor), "a dimension is divided by a positive constant");
        }
        if (IsConstant)
        {
            return Of(FloorDiv(Constant, divisor));
        }
        if (Constant % divisor == 0 && Terms.All(t => t.Coefficient % divisor == 0))
        {
            return new Dim(Constant / divisor, EquatableArray.From(Terms.Select(t => t with { Coefficient = t.Coefficient / divisor })));
        }
        string d = divisor.ToString(CultureInfo.InvariantCulture);
        string atom = "(" + this + ")/" + d;
        // C#'s '/' truncates toward zero; the floor differs only for a negative numerator, which the size checks refuse.
        return new Dim(0, EquatableArray.From(new[] { new DimTerm(atom, $"({Code}) / {d}", 1) }));
    }

    /// <summary>The dimension as C# computing it from the symbols' locals (<c>dimT - 4</c>, <c>2 * dimT</c>), int arithmetic checked.</summary>
    public string Code
    {
        get
        {
            if (IsConstant)
            {
                return Constant.ToString(CultureInfo.InvariantCulture);
            }
            var parts = Terms.Select(t => t.Coefficient == 1 ? t.Code : $"{t.Coefficient.ToString(CultureInfo.InvariantCulture)} * {t.Code}").ToList();
            string sum = string.Join(" + ", parts);
            if (Constant != 0)
            {
                // T - 2 rather than T + -2.
                sum += (Constant < 0 ? " - " : " + ") + Math.Abs(Constant).ToString(CultureInfo.InvariantCulture);
            }
            return Constant == 0 && Terms.Count == 1 && Terms[0].Coefficient == 1 ? parts[0] : "checked(" + sum + ")";
        }
    }

    /// <summary>The dimension as messages and comments print it: <c>128</c>, <c>T</c>, <c>T-4</c>, <c>2*T+1</c>, <c>T*S</c>.</summary>
    public override string ToString()
    {
        if (IsConstant)
        {
            return Constant.ToString(CultureInfo.InvariantCulture);
        }
        var sb = new StringBuilder();
        foreach (var t in Terms)
        {
            long c = t.Coefficient;
            if (sb.Length > 0 || c < 0)
            {
                sb.Append(c < 0 ? "-" : "+");
            }
            long magnitude = Math.Abs(c);
            if (magnitude != 1)
            {
                sb.Append(magnitude.ToString(CultureInfo.InvariantCulture)).Append('*');
            }
            sb.Append(t.Atom);
        }
        if (Constant != 0)
        {
            sb.Append(Constant < 0 ? "-" : "+").Append(Math.Abs(Constant).ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>A valid symbol name: a letter, then letters or digits (at most 16), not the batch symbol N.</summary>
    public static bool IsSymbolName(string name)
        => name.Length is > 0 and <= 16 && char.IsLetter(name[0]) && name[0] < 128
            && name.All(ch => ch < 128 && char.IsLetterOrDigit(ch)) && name != Batch;

    public static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    private static Dim Combine(long constant, IEnumerable<DimTerm> terms)
    {
        var combined = terms
            .GroupBy(t => t.Atom, StringComparer.Ordinal)
            .Select(g => g.First() with { Coefficient = g.Aggregate(0L, (s, t) => checked(s + t.Coefficient)) })
            .Where(t => t.Coefficient != 0)
            .OrderBy(t => t.Atom, StringComparer.Ordinal);
        return new Dim(constant, EquatableArray.From(combined));
    }

    private static IEnumerable<string> SymbolsOf(string atom)
    {
        var current = new StringBuilder();
        foreach (char ch in atom + " ")
        {
            if (char.IsLetterOrDigit(ch))
            {
                current.Append(ch);
                continue;
            }
            if (current.Length > 0 && char.IsLetter(current[0]))
            {
                yield return current.ToString();
            }
            current.Clear();
        }
    }
}
