using System.Globalization;
using System.Linq;
using System.Text;
using Dsl.Generator.Model;

namespace Dsl.Generator.Emit;

/// <summary>Names of the generated locals and fields: <c>h3_maxPool2d</c> for a value, <c>dh3_maxPool2d</c> for its gradient.</summary>
internal static class Names
{
    public static string Kind(GraphNode node)
    {
        if (node.Op == "Add")
        {
            return "add";
        }
        string label = node.Label;
        int paren = label.IndexOf('(');
        string head = paren >= 0 ? label.Substring(0, paren) : label;
        head = new string(head.Where(char.IsLetterOrDigit).ToArray());
        if (head.Length == 0)
        {
            head = node.Op;
        }
        return char.ToLowerInvariant(head[0]) + head.Substring(1);
    }

    public static string Value(GraphNode node) => "h" + node.Id.ToString(CultureInfo.InvariantCulture) + "_" + Kind(node);

    public static string Grad(GraphNode node) => "d" + Value(node);

    public static string Mask(GraphNode node) => "mask" + node.Id.ToString(CultureInfo.InvariantCulture);

    public static string Argmax(GraphNode node) => "argmax" + node.Id.ToString(CultureInfo.InvariantCulture);

    /// <summary>Batch statistics saved by batch norm's forward pass for its backward pass.</summary>
    public static string SaveMean(GraphNode node) => "saveMean" + node.Id.ToString(CultureInfo.InvariantCulture);

    public static string SaveInvStd(GraphNode node) => "saveInvStd" + node.Id.ToString(CultureInfo.InvariantCulture);

    /// <summary>A buffer field: <c>bn1.running_mean</c> becomes <c>_bn1_running_mean</c>.</summary>
    public static string Buffer(string name) => Parameter(name);

    /// <summary>The layer name behind a node's parameters (<c>bn1</c> from <c>bn1.weight</c>).</summary>
    public static string Owner(GraphNode node)
    {
        string first = node.Params[0].Name;
        return first.Substring(0, first.LastIndexOf('.'));
    }

    /// <summary>A field name for a parameter: <c>fc1.weight</c> becomes <c>_fc1_weight</c>.</summary>
    public static string Parameter(string name)
    {
        var sb = new StringBuilder("_");
        foreach (char c in name)
        {
            sb.Append(char.IsLetterOrDigit(c) ? c : '_');
        }
        return sb.ToString();
    }

    public static string Float(double value)
    {
        string text = ((float)value).ToString("R", CultureInfo.InvariantCulture);
        return (text.Contains('.') || text.Contains('E') ? text : text + ".0").Replace("E", "e") + "f";
    }

    /// <summary>A node's numeric attribute as a float literal: <c>0.5f</c>.</summary>
    public static string FloatAttr(GraphNode node, string key)
        => Float(double.Parse(node.Attr(key), CultureInfo.InvariantCulture));

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Shape(EquatableArray<int> shape) => string.Join(", ", shape.Select(d => Int(d)));

    public static string Thousands(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);
}
