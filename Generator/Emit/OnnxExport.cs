using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Dsl.Generator.Model;
using Dsl.Generator.Ops;

namespace Dsl.Generator.Emit;

/// <summary>
/// Emits <c>DescribeOnnx</c>: the evaluation forward as calls on the runtime's <c>OnnxGraph</c>, the inputs first, then
/// every live layer in definition order under its shape comment, written by its op's <see cref="Op.Export"/> (an op
/// without a mapping writes a refusal naming the layer), then the outputs named as <c>Forward</c> returns them.
/// </summary>
internal static class OnnxExport
{
    /// <summary>The member's signature, also listed among the generated members for clash checks.</summary>
    public const string Member = "DescribeOnnx(global::Dsl.OnnxGraph)";

    /// <summary>The single output's name in the graph (Backward's <c>gradOutput</c> is its gradient).</summary>
    public const string SingleOutput = "output";

    public static void Write(CodeWriter w, Plan plan)
    {
        w.Line("/// <summary>");
        w.Line($"/// Describes {plan.Model.ClassName}'s evaluation forward as an ONNX graph (opset 17) for <c>global::Dsl.Onnx.Export</c>: values named");
        w.Line("/// as above, parameters by their PyTorch names, the batch and every symbolic size dynamic.");
        w.Line("/// </summary>");
        using (w.Block("protected override void DescribeOnnx(global::Dsl.OnnxGraph graph)"))
        {
            var c = new ExportContext(w, plan);
            foreach (var input in plan.Inputs)
            {
                OpTable.Of(input).Export(c, input);
            }
            foreach (var node in plan.LiveNodes.Where(n => n.Op != InputOp.Name))
            {
                w.Line();
                NetworkEmitter.Comments(w, plan, node);
                OpTable.Of(node).Export(c, node);
            }
            w.Line();
            var outputs = plan.Outputs;
            for (int k = 0; k < outputs.Count; k++)
            {
                string name = plan.Model.SeveralOutputs ? plan.OutputName(k) : SingleOutput;
                w.Line($"graph.Output({c.Value(outputs[k])}, {Names.Literal(name)}, {ExportContext.Dims(outputs[k])});");
            }
        }
    }
}

/// <summary>
/// What an op's ONNX emission may use: the names of its values (as C# string literals: <c>"h3_relu"</c>, an input by its
/// <c>Forward</c> parameter) and parameters (<c>"conv1.weight"</c>), attribute builders, and <see cref="Node"/>, which
/// writes one <c>graph.Node(...)</c> call.
/// </summary>
internal sealed class ExportContext
{
    public ExportContext(CodeWriter writer, Plan plan)
    {
        W = writer;
        Plan = plan;
    }

    public CodeWriter W { get; }
    public Plan Plan { get; }

    public GraphNode Input(GraphNode node, int index = 0) => Plan.Nodes[node.Inputs[index]];

    /// <summary>The graph name of a node's value: an input's <c>Forward</c> parameter, otherwise the generated local's name.</summary>
    public string Value(GraphNode node) => Names.Literal(node.Op == InputOp.Name ? InputOp.Parameter(node) : Names.Value(node));

    /// <summary>Input <paramref name="index"/> of <paramref name="node"/>.</summary>
    public string X(GraphNode node, int index = 0) => Value(Input(node, index));

    /// <summary>The node's value.</summary>
    public string Y(GraphNode node) => Value(node);

    /// <summary>An intermediate value of a mapping that takes several ONNX nodes: <c>"h5_gelu_erf"</c>.</summary>
    public string Temp(GraphNode node, string suffix) => Names.Literal(Names.Value(node) + "_" + suffix);

    /// <summary>A name as a literal (a part of a chunk: <c>"h4_chunk_1"</c>).</summary>
    public string Name(string name) => Names.Literal(name);

    /// <summary>The parameter ending in <paramref name="suffix"/> (<c>"fc1.bias"</c>), or null when the layer has none (bias: false).</summary>
    public string? Param(GraphNode node, string suffix)
    {
        var p = node.Params.FirstOrDefault(q => q.Name.EndsWith("." + suffix, System.StringComparison.Ordinal));
        return p is null ? null : Names.Literal(p.Name);
    }

    /// <summary>The value given to the Net parameter <paramref name="parameter"/> (<c>mask</c>, <c>h0</c>), or null when none was.</summary>
    public string? Net(GraphNode node, string parameter) => node.NetInput(parameter) is var k && k >= 0 ? X(node, k) : null;

    /// <summary>The graph node given to the Net parameter <paramref name="parameter"/>, or null.</summary>
    public GraphNode? NetNode(GraphNode node, string parameter) => node.NetInput(parameter) is var k && k >= 0 ? Input(node, k) : null;

    /// <summary>
    /// <c>graph.Node("Conv", new[] { x, w, b }, y, attributes...);</c>. A null input is an absent optional one: left out at
    /// the end, written as <c>""</c> (ONNX's empty name) before a present one.
    /// </summary>
    public void Node(string opType, IEnumerable<string?> inputs, string output, params string[] attributes)
        => Node(opType, inputs, new[] { output }, attributes);

    public void Node(string opType, IEnumerable<string?> inputs, IReadOnlyList<string> outputs, params string[] attributes)
    {
        var list = inputs.ToList();
        while (list.Count > 0 && list[list.Count - 1] is null)
        {
            list.RemoveAt(list.Count - 1);
        }
        string ins = "new[] { " + string.Join(", ", list.Select(i => i ?? "\"\"")) + " }";
        string outs = outputs.Count == 1 ? outputs[0] : "new[] { " + string.Join(", ", outputs) + " }";
        string attrs = attributes.Length == 0 ? "" : ", " + string.Join(", ", attributes);
        W.Line($"graph.Node({Names.Literal(opType)}, {ins}, {outs}{attrs});");
    }

    /// <summary>A float constant filled with <paramref name="value"/> (a scalar without <paramref name="dims"/>).</summary>
    public void Fill(string name, double value, params long[] dims)
        => W.Line($"graph.Fill({name}, {Names.Float(value)}{string.Concat(dims.Select(d => ", " + Names.Int(d)))});");

    /// <summary>A one-dimensional int64 constant.</summary>
    public void Int64s(string name, params long[] values)
        => W.Line($"graph.Int64s({name}{string.Concat(values.Select(v => ", " + Names.Int(v)))});");

    public string Int(string name, long value) => $"global::Dsl.OnnxAttribute.Int({Names.Literal(name)}, {Names.Int(value)})";

    public string Ints(string name, params long[] values) => $"global::Dsl.OnnxAttribute.Ints({Names.Literal(name)}, {string.Join(", ", values.Select(v => Names.Int(v)))})";

    public string String(string name, string value) => $"global::Dsl.OnnxAttribute.String({Names.Literal(name)}, {Names.Literal(value)})";

    public string Strings(string name, params string[] values) => $"global::Dsl.OnnxAttribute.Strings({Names.Literal(name)}, {string.Join(", ", values.Select(Names.Literal))})";

    public string Float(string name, double value) => $"global::Dsl.OnnxAttribute.Float({Names.Literal(name)}, {Names.Float(value)})";

    public string FloatAttr(string name, GraphNode node, string key)
        => Float(name, double.Parse(node.Attr(key), CultureInfo.InvariantCulture));

    /// <summary>
    /// The refusal of a layer whose op has no ONNX mapping: <c>graph.Refuse("[3] emb1: Embedding(100, 8)", "Embedding");</c>.
    /// Export then names every such layer and writes nothing.
    /// </summary>
    public void Refuse(GraphNode node)
    {
        string name = node.Name.Length > 0 ? node.Name + ": " : "";
        W.Line($"graph.Refuse({Names.Literal($"[{node.Id}] {name}{node.Label}")}, {Names.Literal(node.Op)});");
    }

    public void Line(string line) => W.Line(line);

    /// <summary>The declared shape with the batch: <c>"N", 1, 28, 28</c>; a symbolic size by its text (<c>"T"</c>).</summary>
    public static string Dims(GraphNode node)
        => string.Join(", ", new[] { Names.Literal("N") }.Concat(node.Dims.Select(d => d.IsConstant ? Names.Int(d.Constant) : Names.Literal(d.ToString()))));
}
