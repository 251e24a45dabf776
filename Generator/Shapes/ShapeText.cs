using System.Collections.Generic;
using System.Linq;

namespace Dsl.Generator.Shapes;

/// <summary>Prints per-sample shapes with the implicit batch dimension, the way every message shows them: <c>[N,20,4,4]</c>.</summary>
internal static class ShapeText
{
    public static string Batch(IEnumerable<int> sample) => "[N" + string.Concat(sample.Select(d => "," + d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

    public static string Batch(IEnumerable<long> sample) => "[N" + string.Concat(sample.Select(d => "," + d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

    public static string Batch(IEnumerable<Dim> sample) => "[N" + string.Concat(sample.Select(d => "," + d)) + "]";

    /// <summary>A node's shape with its symbols: <c>[N,T,128]</c>.</summary>
    public static string Of(Model.GraphNode node) => Batch(node.Dims);

    public static long Elements(IEnumerable<int> sample) => sample.Aggregate(1L, (a, b) => a * b);
}
