using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Dsl.Generator.Model;
using Dsl.Generator.Ops;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Emit;

/// <summary>
/// The table behind the generated static <c>Summary</c> (layer, output shape, parameters, FLOPs), fitted to
/// <see cref="Width"/> columns: block calls and the branches of <c>Residual</c> and <c>Concat</c> are a tree of
/// indented headings, long layer labels wrap onto continuation lines, FLOPs are abbreviated (<c>1.81M</c>; the
/// footer keeps the exact total), and shapes print their symbols (<c>[N,100,T-2]</c>).
/// </summary>
internal static class Summary
{
    /// <summary>Every line of the summary fits a classic terminal.</summary>
    public const int Width = 80;

    private const string Indent = "  ";

    public static string Build(Plan plan)
    {
        var nodes = plan.LiveNodes.ToList();
        var branches = Branches(plan.Model, nodes);
        var rows = new List<(string Layer, string Shape, string Params, string Flops, bool Heading)>();
        var open = new List<(string Key, string Heading)>();
        foreach (var n in nodes)
        {
            var scopes = Scopes(n, branches.TryGetValue(n.Id, out var b) ? b : new List<Branch>());
            int shared = 0;
            while (shared < scopes.Count && shared < open.Count && scopes[shared].Key == open[shared].Key)
            {
                shared++;
            }
            for (int d = shared; d < scopes.Count; d++)
            {
                rows.Add((Pad(d) + scopes[d].Heading, "", "", "", true));
            }
            open = scopes;
            string label = $"[{n.Id}] " + (n.Name.Length > 0 ? n.Name + ": " : "") + n.Label + (Plan.IsFrozen(n) ? " (frozen)" : "");
            rows.Add((Pad(scopes.Count) + Names.CommentText(label), ShapeText.Of(n),
                Names.Thousands(n.Params.Sum(p => p.Count)), Compact(n.Flops), false));
        }

        var body = rows.Where(r => !r.Heading).ToList();
        int w2 = Math.Max("Output shape".Length, body.Max(r => r.Shape.Length));
        int w3 = Math.Max("Params".Length, body.Max(r => r.Params.Length));
        int w4 = Math.Max("FLOPs".Length, body.Max(r => r.Flops.Length));
        // The layer column takes what the others leave, and no more than its longest line needs.
        int w1 = Math.Max(16, Math.Min(Width - (w2 + w3 + w4 + 6), rows.Max(r => r.Layer.Length)));
        int total = Math.Min(Width, w1 + w2 + w3 + w4 + 6);
        string rule = new string('-', total);
        var sb = new StringBuilder();
        sb.Append("Network: ").Append(plan.Model.ClassName).Append('\n');
        sb.Append(rule).Append('\n');
        sb.Append("Layer (name)".PadRight(w1)).Append("  ").Append("Output shape".PadRight(w2)).Append("  ")
          .Append("Params".PadLeft(w3)).Append("  ").Append("FLOPs".PadLeft(w4)).Append('\n');
        sb.Append(rule).Append('\n');
        foreach (var r in rows)
        {
            var lines = Wrap(r.Layer, r.Heading ? total : w1);
            if (r.Heading)
            {
                foreach (string line in lines)
                {
                    sb.Append(line.TrimEnd()).Append('\n');
                }
                continue;
            }
            sb.Append(lines[0].PadRight(w1)).Append("  ").Append(r.Shape.PadRight(w2)).Append("  ")
              .Append(r.Params.PadLeft(w3)).Append("  ").Append(r.Flops.PadLeft(w4)).Append('\n');
            foreach (string line in lines.Skip(1))
            {
                sb.Append(line.TrimEnd()).Append('\n');
            }
        }
        sb.Append(rule).Append('\n');
        long parameters = plan.Parameters.Sum(p => p.Count);
        long flops = plan.LiveNodes.Sum(n => n.Flops);
        sb.Append("Total params: ").Append(Names.Thousands(parameters)).Append('\n');
        long frozen = plan.FrozenParameters.Sum(p => p.Count);
        if (frozen > 0)
        {
            // Frozen(...) at compile time; Module.ParameterSummary() shows what Freeze and Unfreeze changed since.
            sb.Append("Trainable params: ").Append(Names.Thousands(parameters - frozen)).Append(" (frozen: ").Append(Names.Thousands(frozen)).Append(")\n");
        }
        // A symbolic dimension counts as 1: the FLOPs of a sequence network are per position.
        bool symbolic = plan.LiveNodes.Any(n => n.IsSymbolic);
        string perSample = symbolic ? " per sample, each symbol counted as 1" : " per sample";
        sb.Append("Forward FLOPs").Append(perSample).Append(": ").Append(Names.Thousands(flops)).Append('\n');
        var memory = plan.Memory;
        var owned = plan.Buffers().Where(b => b.Elements > 0).ToList();
        long ownedTraining = owned.Sum(b => b.Elements) * MemoryPlan.ElementBytes;
        long ownedEvaluation = owned.Where(b => b.Evaluation).Sum(b => b.Elements) * MemoryPlan.ElementBytes;
        sb.Append("Activation memory").Append(perSample).Append(":\n");
        sb.Append(Indent).Append("training ").Append(Names.Thousands(memory.TrainingBytes + ownedTraining))
          .Append(" bytes, evaluation ").Append(Names.Thousands(memory.EvaluationBytes + ownedEvaluation)).Append(" bytes\n");
        sb.Append(Indent).Append("(one buffer per value and gradient: ").Append(Names.Thousands(memory.UnplannedBytes + ownedTraining)).Append(" bytes)\n");
        return sb.ToString();
    }

    /// <summary>A branch of a merge (<c>Residual</c>, <c>Concat</c>) that encloses a node.</summary>
    private sealed class Branch
    {
        public Branch(int merge, string heading, int level)
        {
            Merge = merge;
            Heading = heading;
            Level = level;
        }

        public int Merge { get; }

        public string Heading { get; }

        /// <summary>How many block calls enclose the merge: the branch nests inside those, around any deeper ones.</summary>
        public int Level { get; }
    }

    /// <summary>
    /// The scopes that enclose <paramref name="node"/>, outermost first, each with the heading printed when it opens: its
    /// block calls (<c>block Basic(16)</c>) and the merge branches it lies in, a branch placed inside the blocks around its
    /// merge. Consecutive calls of one block with the same arguments read as one scope (the plan keeps no call identity).
    /// </summary>
    private static List<(string Key, string Heading)> Scopes(GraphNode node, List<Branch> branches)
    {
        var path = node.Block.Length == 0 ? new string[0] : node.Block.Split(new[] { " > " }, StringSplitOptions.None);
        var scopes = new List<(int Position, int Order, string Key, string Heading)>();
        for (int d = 0; d < path.Length; d++)
        {
            scopes.Add((d, 1, "block:" + string.Join(" > ", path.Take(d + 1)), "block " + path[d]));
        }
        // Outer merges (higher ids: an inner merge is evaluated inside its outer branch) before inner ones.
        foreach (var b in branches.OrderByDescending(b => b.Merge))
        {
            scopes.Add((Math.Min(b.Level, path.Length), 0, $"branch:{b.Merge}:{b.Heading}", b.Heading));
        }
        return scopes.Select((s, i) => (s, i)).OrderBy(x => x.s.Position).ThenBy(x => x.s.Order).ThenBy(x => x.i)
            .Select(x => (x.s.Key, x.s.Heading)).ToList();
    }

    /// <summary>
    /// For each node inside a branch of a <c>Residual</c> or <c>Concat</c>, the branches that enclose it
    /// (<c>branch 2 of [17] Concat(4 branches)</c>, <c>body of [9] Residual</c>). A branch is what lies between the
    /// merge's input and the last value every branch shares (the fork); an identity shortcut has no nodes.
    /// </summary>
    private static Dictionary<int, List<Branch>> Branches(NetworkModel model, List<GraphNode> live)
    {
        var byId = model.Nodes.ToDictionary(n => n.Id);
        var liveIds = new HashSet<int>(live.Select(n => n.Id));
        var result = new Dictionary<int, List<Branch>>();
        foreach (var merge in live.Where(IsMerge))
        {
            var ancestors = merge.Inputs.Select(i => Ancestors(byId, i)).ToList();
            var common = new HashSet<int>(ancestors[0]);
            foreach (var a in ancestors.Skip(1))
            {
                common.IntersectWith(a);
            }
            int fork = common.Count == 0 ? -1 : common.Max();
            int level = merge.Block.Length == 0 ? 0 : merge.Block.Split(new[] { " > " }, StringSplitOptions.None).Length;
            var seen = new HashSet<int>();
            for (int j = 0; j < ancestors.Count; j++)
            {
                string what = merge.Op == AddOp.Name ? (j == 0 ? "body" : "shortcut") : $"branch {j + 1}";
                var branch = new Branch(merge.Id, $"{what} of [{merge.Id}] {Names.CommentText(merge.Label)}", level);
                foreach (int id in ancestors[j].Where(id => id > fork && liveIds.Contains(id) && seen.Add(id)))
                {
                    if (!result.TryGetValue(id, out var list))
                    {
                        result[id] = list = new List<Branch>();
                    }
                    list.Add(branch);
                }
            }
        }
        return result;
    }

    private static bool IsMerge(GraphNode n)
        => n.Inputs.Count > 1 && (n.Op == ConcatOp.Name || (n.Op == AddOp.Name && n.Label.StartsWith("Residual", StringComparison.Ordinal)));

    private static HashSet<int> Ancestors(Dictionary<int, GraphNode> byId, int start)
    {
        var result = new HashSet<int>();
        var stack = new Stack<int>();
        stack.Push(start);
        while (stack.Count > 0)
        {
            int id = stack.Pop();
            if (result.Add(id) && byId.TryGetValue(id, out var n))
            {
                foreach (int i in n.Inputs)
                {
                    stack.Push(i);
                }
            }
        }
        return result;
    }

    private static string Pad(int depth) => string.Concat(Enumerable.Repeat(Indent, Math.Max(depth, 0)));

    /// <summary>
    /// <paramref name="text"/> in lines of at most <paramref name="width"/>, broken after a comma or space; continuation
    /// lines keep the first line's indentation and two more spaces. A word longer than a line is cut.
    /// </summary>
    internal static List<string> Wrap(string text, int width)
    {
        var lines = new List<string>();
        string lead = new string(' ', text.Length - text.TrimStart(' ').Length) + Indent + Indent;
        string rest = text;
        while (rest.Length > width)
        {
            int cut = rest.LastIndexOf(' ', width - 1);
            int floor = lines.Count == 0 ? text.Length - text.TrimStart(' ').Length : lead.Length;
            if (cut <= floor)
            {
                cut = width;
            }
            lines.Add(rest.Substring(0, cut).TrimEnd());
            rest = lead + rest.Substring(cut).TrimStart(' ');
        }
        lines.Add(rest);
        return lines;
    }

    /// <summary>A count in at most five characters past 9,999: <c>452K</c>, <c>1.81M</c>, <c>21.2G</c> (three significant digits).</summary>
    internal static string Compact(long value)
    {
        if (value < 10_000)
        {
            return Names.Thousands(value);
        }
        string[] units = { "K", "M", "G", "T", "P" };
        double v = value;
        int u = -1;
        while (v >= 999.5 && u < units.Length - 1)
        {
            v /= 1000;
            u++;
        }
        string digits = v >= 99.95 ? v.ToString("0", System.Globalization.CultureInfo.InvariantCulture)
            : v >= 9.995 ? v.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)
            : v.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
        return digits + units[u];
    }
}
