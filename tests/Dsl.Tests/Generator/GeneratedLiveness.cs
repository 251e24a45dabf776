using System.Text.RegularExpressions;
using Xunit.Sdk;

namespace Dsl.Tests.Generator;

/// <summary>
/// Reads a generated network back as text and checks its memory plan without the planner: each local of
/// <c>RunForward</c> and <c>Backward</c> is traced to the slot view it was fetched from (a view of a flattened value, an
/// alias of a gradient, the output), each view to its slot in the training and the evaluation plan (from the constructor),
/// and every statement that names a local counts as a use of that memory. Two memories in one slot whose first-to-last
/// uses overlap fail: a value alive while another overwrites it. The training timeline is RunForward then Backward; the
/// evaluation timeline is RunForward alone; the output stays alive to the end of both.
/// </summary>
internal static partial class GeneratedLiveness
{
    public static void Check(string code, string network)
    {
        var lines = code.Replace("\r\n", "\n").Split('\n');
        var training = new Dictionary<string, string>();
        var evaluation = new Dictionary<string, string>();
        var root = new Dictionary<string, string>();
        foreach (var line in lines)
        {
            var m = ViewRegex().Match(line);
            if (m.Success)
            {
                training[m.Groups["field"].Value] = m.Groups["train"].Value;
                evaluation[m.Groups["field"].Value] = m.Groups["eval"].Success ? m.Groups["eval"].Value : m.Groups["train"].Value;
                root[m.Groups["field"].Value] = m.Groups["field"].Value;
                continue;
            }
            var a = AliasRegex().Match(line);
            if (a.Success)
            {
                string source = root[a.Groups["source"].Value];
                root[a.Groups["field"].Value] = source;
                training[a.Groups["field"].Value] = training[source];
            }
        }
        if (root.Count == 0)
        {
            throw new XunitException($"{network}: no slot views found in the generated code");
        }
        var forward = Body(lines, "private global::Dsl.Tensor RunForward(");
        var backward = Body(lines, "public override void Backward(");
        var views = new Dictionary<string, string?>();  // Flatten's ViewSlot field -> memory it views
        string? output = null;

        // Binds locals to memories (roots of slot views) in one method; returns per statement the memories it names.
        // A value an evaluation forward never stores is declared `keep ? _view.Rows(n) : other` (other: its input, or null!):
        // each timeline binds its own side.
        List<HashSet<string>> Uses(List<string> body, bool evaluationTimeline)
        {
            var local = new Dictionary<string, string?>();
            var uses = new List<HashSet<string>>();
            foreach (var line in body)
            {
                var d = DeclarationRegex().Match(line);
                if (d.Success)
                {
                    string name = d.Groups["local"].Value, source = d.Groups["source"].Value;
                    var kept = KeptOnlyRegex().Match(source);
                    if (kept.Success)
                    {
                        source = kept.Groups[evaluationTimeline ? "evaluation" : "kept"].Value;
                    }
                    var rows = RowsRegex().Match(source);
                    var of = OfRegex().Match(source);
                    var current = CurrentRegex().Match(source);
                    local[name] = rows.Success ? (root.TryGetValue(rows.Groups["field"].Value, out var r) ? r : null)
                        : of.Success ? views[of.Groups["field"].Value] = local.GetValueOrDefault(of.Groups["source"].Value)
                        : current.Success ? views.GetValueOrDefault(current.Groups["field"].Value)
                        : source.StartsWith("_output", StringComparison.Ordinal) ? output
                        : local.GetValueOrDefault(source.TrimEnd('!'));
                }
                var o = OutputRegex().Match(line);
                if (o.Success)
                {
                    output = local.GetValueOrDefault(o.Groups["local"].Value);
                }
                var named = new HashSet<string>();
                foreach (Match id in IdentifierRegex().Matches(line))
                {
                    if (local.TryGetValue(id.Value, out var memory) && memory is not null)
                    {
                        named.Add(memory);
                    }
                }
                uses.Add(named);
            }
            return uses;
        }

        var forwardUses = Uses(forward, evaluationTimeline: false);
        var backwardUses = Uses(backward, evaluationTimeline: false);
        Verify(network, "training", forwardUses.Concat(backwardUses).ToList(), training, output);
        Verify(network, "evaluation", Uses(forward, evaluationTimeline: true), evaluation, output);
    }

    private static void Verify(string network, string planName, List<HashSet<string>> uses, Dictionary<string, string> slotOf, string? output)
    {
        var first = new Dictionary<string, int>();
        var last = new Dictionary<string, int>();
        for (int t = 0; t < uses.Count; t++)
        {
            foreach (var memory in uses[t])
            {
                first.TryAdd(memory, t);
                last[memory] = t;
            }
        }
        if (output is not null && last.ContainsKey(output))
        {
            last[output] = uses.Count;
        }
        var memories = first.Keys.Where(slotOf.ContainsKey).ToList();
        foreach (var a in memories)
        {
            foreach (var b in memories.Where(b => string.CompareOrdinal(a, b) < 0 && slotOf[a] == slotOf[b]))
            {
                if (first[a] <= last[b] && first[b] <= last[a])
                {
                    throw new XunitException($"{network} ({planName}): {a} (statements {first[a]}..{last[a]}) and {b} ({first[b]}..{last[b]}) are alive at once in {slotOf[a]}");
                }
            }
        }
    }

    /// <summary>The statement lines of a method: from its signature to its closing brace, without comments and braces.</summary>
    private static List<string> Body(string[] lines, string signature)
    {
        int start = Array.FindIndex(lines, l => l.TrimStart().StartsWith(signature, StringComparison.Ordinal));
        if (start < 0)
        {
            throw new XunitException($"no method '{signature}' in the generated code");
        }
        var body = new List<string>();
        for (int i = start + 2; i < lines.Length && lines[i] != "    }"; i++)
        {
            string t = lines[i].Trim();
            if (t.Length > 0 && !t.StartsWith("//", StringComparison.Ordinal) && t != "{" && t != "}")
            {
                body.Add(t);
            }
        }
        return body;
    }

    [GeneratedRegex(@"^\s*(?<field>_\w+) = new global::Dsl\.SlotView\((?<train>_slot\d+), (?:(?<eval>_slot\d+), )?[\d, ]+\);")]
    private static partial Regex ViewRegex();

    [GeneratedRegex(@"^\s*(?<field>_\w+) = (?<source>_\w+)\.Alias\(")]
    private static partial Regex AliasRegex();

    [GeneratedRegex(@"^var (?<local>\w+) = (?<source>.+);$")]
    private static partial Regex DeclarationRegex();

    [GeneratedRegex(@"^keep \? (?<kept>.+) : (?<evaluation>[^:]+)$")]
    private static partial Regex KeptOnlyRegex();

    [GeneratedRegex(@"(?<field>_\w+)\.Rows\(n")]
    private static partial Regex RowsRegex();

    [GeneratedRegex(@"^(?<field>_\w+)\.Of\((?<source>\w+)\)$")]
    private static partial Regex OfRegex();

    [GeneratedRegex(@"^(?<field>_\w+)\.Current$")]
    private static partial Regex CurrentRegex();

    [GeneratedRegex(@"^_output = (?<local>\w+);$")]
    private static partial Regex OutputRegex();

    [GeneratedRegex(@"\b[A-Za-z_]\w*\b")]
    private static partial Regex IdentifierRegex();
}
