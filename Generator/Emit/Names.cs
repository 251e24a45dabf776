using System;
using System.Globalization;
using System.Linq;
using System.Text;
using Dsl.Generator.Model;
using Microsoft.CodeAnalysis.CSharp;

namespace Dsl.Generator.Emit;

/// <summary>
/// Names and literals of the generated code: <c>h3_maxPool2d</c> for a value, <c>dh3_maxPool2d</c> for its gradient,
/// <c>_h3_maxPool2d</c> for its slot. Everything the user typed reaches the code through <see cref="Literal"/> or
/// <see cref="CommentText"/>, never pasted raw.
/// </summary>
internal static class Names
{
    public static string Kind(GraphNode node)
    {
        if (node.Op == Ops.AddOp.Name)
        {
            return "add";
        }
        if (node.Op == Ops.InputOp.Name && node.HasAttr(Ops.InputOp.NameAttr))
        {
            // An input's value is named after it: h0_image.
            return node.Attr(Ops.InputOp.NameAttr);
        }
        string label = node.Label;
        int paren = label.IndexOf('(');
        string head = paren >= 0 ? label.Substring(0, paren) : label;
        head = new string(head.Where(c => c < 128 && char.IsLetterOrDigit(c)).ToArray());
        if (head.Length == 0 || !char.IsLetter(head[0]))
        {
            head = node.Op;
        }
        return char.ToLowerInvariant(head[0]) + head.Substring(1);
    }

    public static string Value(GraphNode node) => "h" + Int(node.Id) + "_" + Kind(node);

    public static string Grad(GraphNode node) => "d" + Value(node);

    /// <summary>The field behind a local: <c>_h3_relu</c>.</summary>
    public static string Field(string local) => "_" + local;

    /// <summary>A field name for a parameter or buffer: <c>fc1.weight</c> becomes <c>_fc1_weight</c>.</summary>
    public static string Parameter(string name)
    {
        var sb = new StringBuilder("_");
        foreach (char c in name)
        {
            sb.Append(c < 128 && char.IsLetterOrDigit(c) ? c : '_');
        }
        return sb.ToString();
    }

    /// <summary><c>_fc1_weight.Value</c>, or <c>null</c> when the layer has no such parameter (bias: false).</summary>
    public static string ParamValue(GraphNode node, string suffix) => ParamMember(node, suffix, "Value");

    /// <summary>
    /// <c>GradFor(_fc1_weight)</c> (its <c>Grad</c>, or a scratch buffer while it is frozen: <c>Module.GradFor</c>), or <c>null</c>.
    /// </summary>
    public static string ParamGrad(GraphNode node, string suffix)
    {
        var p = node.Params.FirstOrDefault(q => q.Name.EndsWith("." + suffix, StringComparison.Ordinal));
        return p is null ? "null" : "GradFor(" + Parameter(p.Name) + ")";
    }

    /// <summary>The local that says at run time whether the gradient of <paramref name="node"/>'s value is needed: <c>flow_h3_relu</c>.</summary>
    public static string Flow(GraphNode node) => "flow_" + Value(node);

    private static string ParamMember(GraphNode node, string suffix, string member)
    {
        var p = node.Params.FirstOrDefault(q => q.Name.EndsWith("." + suffix, StringComparison.Ordinal));
        return p is null ? "null" : Parameter(p.Name) + "." + member;
    }

    /// <summary>A C# string literal, escaped (quotes, backslashes, newlines).</summary>
    public static string Literal(string text) => SymbolDisplay.FormatLiteral(text, quote: true);

    /// <summary>Text safe inside a <c>//</c> comment: line breaks and other control characters escaped (<c>\n</c> as <c>\u000a</c>).</summary>
    public static string CommentText(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085')
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    /// <summary>Text safe inside a <c>///</c> XML comment: <see cref="CommentText"/> with <c>&amp;</c> and <c>&lt;</c> as entities.</summary>
    public static string DocText(string text) => CommentText(text).Replace("&", "&amp;").Replace("<", "&lt;");

    /// <summary>A float literal: <c>0.5f</c>. Non-finite values are refused by the expander; reaching here is a bug.</summary>
    public static string Float(double value)
    {
        float f = (float)value;
        if (float.IsNaN(f) || float.IsInfinity(f))
        {
            throw new InvalidOperationException($"non-finite float {value.ToString("R", CultureInfo.InvariantCulture)} reached the emitter");
        }
        string text = f.ToString("R", CultureInfo.InvariantCulture);
        return (text.Contains('.') || text.Contains('E') ? text : text + ".0").Replace("E", "e") + "f";
    }

    /// <summary>A node's numeric attribute as a float literal: <c>0.5f</c>.</summary>
    public static string FloatAttr(GraphNode node, string key)
        => Float(double.Parse(node.Attr(key), CultureInfo.InvariantCulture));

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Bool(bool value) => value ? "true" : "false";

    public static string Shape(EquatableArray<int> shape) => string.Join(", ", shape.Select(d => Int(d)));

    /// <summary>
    /// The buffer of a value, gradient or op buffer shaped like <paramref name="node"/>'s value when that has symbolic
    /// dimensions: a <c>SymbolicSlot</c> of its own, outside the memory plan (whose slots are sized per sample at compile
    /// time), growing to the largest size seen. <see cref="BufferDecl.Elements"/> counts each symbol as 1.
    /// </summary>
    public static Ops.BufferDecl SymbolicSlot(string local, GraphNode node, bool evaluation = false)
        => new(Field(local), "global::Dsl.SymbolicSlot", "new global::Dsl.SymbolicSlot(device)", Shapes.ShapeText.Of(node) + ", grows to the largest size seen",
            Elements: node.Elements, Evaluation: evaluation);

    /// <summary>
    /// The call fetching the current batch from a slot shaped like <paramref name="node"/>'s value: <c>Rows(n)</c>
    /// (<c>Rows(n, keep)</c> in a forward that may not keep it for backward), or <c>Rows(n, dimT, 16)</c> with the bound symbols.
    /// </summary>
    public static string Rows(GraphNode node, bool keep = false)
        => node.IsSymbolic ? "Rows(n, " + string.Join(", ", node.Symbolic.Select(d => d.Code)) + ")" : keep ? "Rows(n, keep)" : "Rows(n)";

    /// <summary>
    /// The product of <paramref name="dims"/> (times <paramref name="first"/>, a local such as <c>n</c>) as code: constants
    /// folded, symbolic dimensions kept (<c>checked(n * dimT)</c>, <c>16</c>, <c>1</c> for none).
    /// </summary>
    public static string Product(string? first, System.Collections.Generic.IEnumerable<Shapes.Dim> dims)
    {
        long constant = 1;
        var factors = new System.Collections.Generic.List<string>();
        if (first is not null)
        {
            factors.Add(first);
        }
        foreach (var d in dims)
        {
            if (d.IsConstant)
            {
                constant *= d.Constant;
            }
            else
            {
                factors.Add(d.Code);
            }
        }
        if (constant != 1 || factors.Count == 0)
        {
            factors.Add(Int(constant));
        }
        return factors.Count == 1 ? factors[0] : "checked(" + string.Join(" * ", factors) + ")";
    }

    public static string Thousands(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);
}
