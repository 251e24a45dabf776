using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>Attention(query, keys, values, mask:, scale:)</c>: scaled dot-product attention of one head, PyTorch's
/// <c>F.scaled_dot_product_attention</c> (<see href="https://pytorch.org/docs/2.0/generated/torch.nn.functional.scaled_dot_product_attention.html"/>;
/// Luong et al. 2015 when the queries are a decoder's states and the keys and values an encoder's outputs).
/// query [N,T,D], keys [N,S,D], values [N,S,Dv] -> [N,T,Dv]: weights = softmax over S of q.k * scale (default 1/sqrt(D)),
/// output = weights * values. A key mask [N,S] (1 real, 0 padding) leaves padded keys out with weight exactly 0.
/// </summary>
/// <remarks>
/// The op runs the unfused reference kernels (<c>Device.AttentionReference</c>), which save the weights [N,T,S]: backward
/// reads them instead of recomputing, and they stay readable after <c>Forward</c> as <c>Readout("attention1.weights")</c>.
/// A sequence-to-sequence model's T and S are tens of steps, where the [N,T,S] weights are smaller than the operands; the
/// fused, memory-linear kernels (<c>Device.Attention</c>) are for long sequences and keep no weights to show.
/// Inputs by position: query, keys, values, then the mask when given (the C# parameters' order).
/// </remarks>
internal sealed class AttentionOp : Op
{
    public const string Name = "Attention";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    /// <summary>The value function's Net parameters, in the order they become the node's inputs.</summary>
    public static readonly ImmutableArray<string> NetParameters = ImmutableArray.Create("query", "keys", "values", "mask");

    /// <summary>Backward reads the query, keys and values (and the weights it owns), never the mask.</summary>
    public override Keeps BackwardReads(GraphNode node) => new(false, 0, 1, 2);

    /// <summary>One operand as the rule sees it: its role, per-sample dimensions, and where it came from (for messages).</summary>
    internal sealed record Operand(string Role, ImmutableArray<Dim> Dims, string From)
    {
        public string Received => ShapeText.Batch(Dims);
    }

    /// <summary>
    /// The shape rule, pure: the output [N,T,Dv] and the attributes, or the error that names both operands. D and Dv must be
    /// fixed sizes (the scale and the parameters' layouts of the next layer depend on them); T and S may be symbols.
    /// </summary>
    internal static LayerOutcome Rule(string source, Operand query, Operand keys, Operand values, Operand? mask, LayerArgs args)
    {
        foreach (var o in new[] { query, keys, values })
        {
            if (o.Dims.Length != 2)
            {
                string expected = o == query ? "[N,T,D]" : o == keys ? "[N,S,D]" : "[N,S,Dv]";
                return LayerOutcome.Fail(Descriptors.AttentionRank, source, o.Role, expected, o.Received, o.From);
            }
            if (!o.Dims[1].IsConstant)
            {
                return LayerOutcome.Fail(Descriptors.SymbolicSize, source, $"width of the {o.Role} (the last dimension)", o.Received, o.From, o.Dims[1].ToString());
            }
        }
        if (mask is not null && mask.Dims.Length != 1)
        {
            return LayerOutcome.Fail(Descriptors.AttentionRank, source, mask.Role, "[N,S]", mask.Received, mask.From);
        }
        long d = query.Dims[1].Constant, dk = keys.Dims[1].Constant, dv = values.Dims[1].Constant;
        if (dk != d)
        {
            return LayerOutcome.Fail(Descriptors.AttentionWidth, source, query.Received, query.From, keys.Received, keys.From,
                LayerRules.Text(d), LayerRules.Text(dk));
        }
        if (!values.Dims[0].Equals(keys.Dims[0]))
        {
            return LayerOutcome.Fail(Descriptors.AttentionLength, source, keys.Received, keys.From, values.Received, values.From,
                keys.Dims[0].ToString(), values.Dims[0].ToString());
        }
        if (mask is not null && !mask.Dims[0].Equals(keys.Dims[0]))
        {
            return LayerOutcome.Fail(Descriptors.AttentionMask, source, mask.Received, mask.From, "[N," + keys.Dims[0] + "]", keys.Received, keys.From);
        }
        double scale = 1.0 / System.Math.Sqrt(d);
        if (args.Has("scale"))
        {
            scale = args.Number("scale");
            if (!(scale > 0) || float.IsInfinity((float)scale) || (float)scale == 0f)
            {
                return LayerOutcome.Fail(Descriptors.InvalidArgument, source, $"the scale must be a positive float32 number, got {LayerArgs.Format(scale)}");
            }
        }
        var t = query.Dims[0];
        var s = keys.Dims[0];
        long tc = t.IsConstant ? t.Constant : 1, sc = s.IsConstant ? s.Constant : 1;
        var dims = ImmutableArray.Create(t, Dim.Of(dv));
        // The expander expects dims whenever an operand has a symbol, even when the output's are all constants.
        bool symbolic = new[] { query, keys, values, mask }.Any(o => o is not null && o.Dims.Any(x => !x.IsConstant));
        return new LayerOutcome
        {
            Op = Name,
            Shape = ImmutableArray.Create(tc, dv),
            NamePrefix = "attention",
            // Scores, softmax and the weighted sum per sample, each symbol counted as 1.
            Flops = checked(2 * tc * sc * d + 5 * tc * sc + 2 * tc * sc * dv),
            Dims = symbolic ? dims : default,
        }.With("d", d).With("dv", dv).With("scale", scale).With("mask", mask is not null);
    }

    /// <summary>
    /// Reads the four Net arguments (a value function's are all the node's inputs, the query first) and refuses token ids
    /// anywhere and a mask among the query, keys and values (DSL1014); the mask may be a <c>Mask</c> input or any float value.
    /// </summary>
    public override LayerOutcome Infer(LayerInput i)
    {
        var operands = new Operand?[NetParameters.Length];
        for (int k = 0; k < NetParameters.Length; k++)
        {
            string parameter = NetParameters[k];
            if (i.Net(parameter) is not { } given)
            {
                continue;
            }
            bool allowed = given.DType == NetArg.Float32 || parameter == MaskArg.Parameter && given.DType == MaskArg.DType;
            if (!allowed)
            {
                return LayerOutcome.Fail(Descriptors.TypedInputUse, i.Source, given.From, given.DTypeText);
            }
            operands[k] = new Operand(parameter, given.Dims, given.From);
        }
        if (operands[0] is null || operands[1] is null || operands[2] is null)
        {
            return LayerRules.Invalid(i, "Attention takes a query, keys and values");
        }
        return Rule(i.Source, operands[0]!, operands[1]!, operands[2]!, operands[3], i.Args);
    }

    /// <summary>The sizes of one operand as the generated code passes them: <c>dimT, 16</c>.</summary>
    private static string Sizes(GraphNode node) => string.Join(", ", node.Dims.Select(x => x.Code));

    /// <summary>The length of the queries (T) and of the keys (S) as code.</summary>
    private static (string T, string S) Lengths(Plan plan, GraphNode node)
        => (plan.Nodes[node.Inputs[0]].Dims[0].Code, plan.Nodes[node.Inputs[1]].Dims[0].Code);

    private static string Field(GraphNode node, string what) => "_" + what + node.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The weights' readout, named after the layer: <c>attention1.weights</c>.</summary>
    public static string ReadoutName(GraphNode node) => node.Name + ".weights";

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        var q = plan.Nodes[node.Inputs[0]];
        var k = plan.Nodes[node.Inputs[1]];
        var v = plan.Nodes[node.Inputs[2]];
        long tc = q.Dims[0].IsConstant ? q.Dims[0].Constant : 1, sc = k.Dims[0].IsConstant ? k.Dims[0].Constant : 1;
        long scores = checked(tc * sc);
        const string slot = "global::Dsl.SymbolicSlot";
        const string create = "new global::Dsl.SymbolicSlot(device)";
        yield return new BufferDecl(Field(node, "weights"), slot, create, $"[N,{q.Dims[0]},{k.Dims[0]}] softmax weights, kept for backward and display", scores, Evaluation: true);
        if (node.Attr("mask") == "true")
        {
            yield return new BufferDecl(Field(node, "keyPadding"), slot, create, $"[N,{k.Dims[0]}] additive key mask", sc, Evaluation: true);
        }
        yield return new BufferDecl(Field(node, "dWeights"), slot, create, $"[N,{q.Dims[0]},{k.Dims[0]}] gradient of the weights", scores);
        yield return new BufferDecl(Field(node, "dScores"), slot, create, $"[N,{q.Dims[0]},{k.Dims[0]}] gradient of the scores", scores);
        yield return new BufferDecl(Field(node, "dQuery"), slot, create, ShapeText.Of(q) + " gradient of the query", q.Elements);
        yield return new BufferDecl(Field(node, "dKeys"), slot, create, ShapeText.Of(k) + " gradient of the keys", k.Elements);
        yield return new BufferDecl(Field(node, "dValues"), slot, create, ShapeText.Of(v) + " gradient of the values", v.Elements);
        yield return new BufferDecl(Field(node, "readout"), "global::Dsl.Readout", $"AddReadout({Names.Literal(ReadoutName(node))})");
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        var (t, s) = Lengths(c.Plan, node);
        string y = c.Slot(node);
        string weights = Names.Value(node) + "_weights";
        c.Line($"var {weights} = {Field(node, "weights")}.Rows(n, {t}, {s});");
        string keyPadding = "null";
        if (node.Attr("mask") == "true")
        {
            keyPadding = Names.Value(node) + "_keyPadding";
            c.Line($"var {keyPadding} = {Field(node, "keyPadding")}.Rows(n, {s});");
            c.Line($"device.KeyPaddingFromMask({c.Net(node, "mask")}, {keyPadding});");
        }
        c.Line($"device.AttentionReference({c.X(node, 0)}, {c.X(node, 1)}, {c.X(node, 2)}, mask: null, keyPadding: {keyPadding}, causal: false, heads: 1, "
            + $"scale: {Names.FloatAttr(node, "scale")}, {y}, {weights});");
        c.Line($"{Field(node, "readout")}.Value = {weights};");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var (t, s) = Lengths(c.Plan, node);
        var q = c.Input(node, 0);
        var k = c.Input(node, 1);
        var v = c.Input(node, 2);
        string dq = c.Fetch(Names.Value(node) + "_dQuery", $"{Field(node, "dQuery")}.Rows(n, {Sizes(q)})");
        string dk = c.Fetch(Names.Value(node) + "_dKeys", $"{Field(node, "dKeys")}.Rows(n, {Sizes(k)})");
        string dv = c.Fetch(Names.Value(node) + "_dValues", $"{Field(node, "dValues")}.Rows(n, {Sizes(v)})");
        c.Line($"device.AttentionReferenceBackward({c.X(node, 0)}, {c.X(node, 1)}, {c.X(node, 2)}, {Names.FloatAttr(node, "scale")}, "
            + $"{Field(node, "weights")}.Rows(n, {t}, {s}), {c.Dy(node)}, {dq}, {dk}, {dv}, "
            + $"{Field(node, "dWeights")}.Rows(n, {t}, {s}), {Field(node, "dScores")}.Rows(n, {t}, {s}));");
        // The keys and the values are often one value (an encoder's outputs): the second contribution adds to the first.
        foreach (var (input, grad) in new[] { (q, dq), (k, dk), (v, dv) })
        {
            bool accumulate = c.Accumulate(input.Id);
            c.Guarded($"device.PassGradient({grad}, {c.Grad(input.Id)}, accumulate: {Names.Bool(accumulate)});", input.Id);
        }
    }

    /// <summary>
    /// ONNX: scores q k^T times the scale, the key mask added as the forward adds it (<c>Device.KeyPaddingFromMask</c>:
    /// -float.MaxValue + float.MaxValue * mask, 0 at real keys), <c>Softmax</c> over S, then the weights times the values.
    /// </summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        string keysT = c.Temp(node, "keysT"), product = c.Temp(node, "product"), scale = c.Temp(node, "scale"), scores = c.Temp(node, "scores");
        c.Node("Transpose", new[] { c.X(node, 1) }, keysT, c.Ints("perm", 0, 2, 1));
        c.Node("MatMul", new[] { c.X(node, 0), keysT }, product);
        c.Fill(scale, double.Parse(node.Attr("scale"), System.Globalization.CultureInfo.InvariantCulture));
        c.Node("Mul", new[] { product, scale }, scores);
        if (c.Net(node, MaskArg.Parameter) is { } mask)
        {
            string highest = c.Temp(node, "highest"), lowest = c.Temp(node, "lowest"), scaled = c.Temp(node, "mask_scaled");
            string padding = c.Temp(node, "keyPadding"), axes = c.Temp(node, "axes"), row = c.Temp(node, "keyPadding_row"), masked = c.Temp(node, "masked");
            c.Fill(highest, float.MaxValue);
            c.Fill(lowest, -float.MaxValue);
            c.Node("Mul", new[] { mask, highest }, scaled);
            c.Node("Add", new[] { scaled, lowest }, padding);
            c.Int64s(axes, 1);
            c.Node("Unsqueeze", new[] { padding, axes }, row);
            c.Node("Add", new[] { scores, row }, masked);
            scores = masked;
        }
        string weights = c.Temp(node, "weights");
        c.Node("Softmax", new[] { scores }, weights, c.Int("axis", 2));
        c.Node("MatMul", new[] { weights, c.X(node, 2) }, c.Y(node));
    }
}
