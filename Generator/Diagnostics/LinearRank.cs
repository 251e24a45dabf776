using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Model;
using Dsl.Generator.Ops;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Diagnostics;

/// <summary>
/// DSL1050, a warning: a <c>Linear</c> with inferred in-features that receives a sample of two or more fixed dimensions
/// (<c>[N,16,4,4]</c>) acts on the last one only, as PyTorch's does. In a network that ends in a classifier (its output is
/// a <c>Softmax</c>/<c>LogSoftmax</c> or a <c>Linear</c>) whose output keeps those extra dimensions, that is almost
/// always a forgotten <c>Flatten</c>. Stating the in-features (<c>Linear(4, 10)</c>) says it is meant and silences it;
/// symbolic dimensions (sequences, where per-position layers are the point) never warn.
/// </summary>
internal static class LinearRank
{
    public static IEnumerable<DiagnosticInfo> Find(IReadOnlyList<GraphNode> nodes, int output)
    {
        if (output < 0 || output >= nodes.Count)
        {
            yield break;
        }
        var last = nodes[output];
        bool classifier = (last.Op is SoftmaxOp.Name or LinearOp.Name) && last.Shape.Count >= 2 && !last.IsSymbolic;
        if (!classifier)
        {
            yield break;
        }
        foreach (var node in nodes.Where(n => n.Op == LinearOp.Name && n.Attr(LinearOp.StatedInAttr) == "false"))
        {
            var input = nodes[node.Inputs[0]];
            if (input.Shape.Count >= 2 && !input.IsSymbolic)
            {
                string received = ShapeText.Of(input);
                string produced = ShapeText.Of(node);
                string flat = $"[N,{input.Elements}]";
                yield return DiagnosticInfo.Create(Descriptors.LinearOnLastDimension, node.Location,
                    node.Label, received, produced, flat, node.Attr("in"), node.Attr("out"));
            }
        }
    }
}
