using Dsl.Generator.Emit;
using Dsl.Generator.Model;

namespace Dsl.Generator.Ops;

/// <summary>
/// The ONNX mappings (opset 17) of the Transformer's built-in layers, written once for all of them: multi-head attention as
/// MatMul / Reshape / Transpose / Softmax (the key-padding mask added as the forward adds it: -max + max * mask; a causal mask
/// built from two <c>Range</c>s), LayerNormalization, the feed-forward block (GELU as 0.5 x (1 + erf(x / sqrt 2)): opset 17
/// has no Gelu), and the residual sums, in the order of <c>Dsl.TransformerLayerState</c>'s evaluation forward.
/// </summary>
internal static class TransformerExport
{
    /// <summary>
    /// Attention of <paramref name="query"/> [N,T,d] over <paramref name="keys"/> [N,S,d] into <paramref name="output"/>, with the
    /// parameters under <paramref name="prefix"/> (<c>in_proj_weight</c>, ...: "" or "self_attn." / "multihead_attn.").
    /// </summary>
    public static void Attention(ExportContext c, GraphNode node, string tag, string prefix, string query, string keys, string? keyMask, bool causal, string output)
    {
        long d = node.IntAttr("d"), heads = node.IntAttr("heads"), dh = d / heads;
        string T(string suffix) => c.Temp(node, tag + "_" + suffix);
        string weightT = T("inProjT");
        c.Node("Transpose", new[] { c.Param(node, prefix + "in_proj_weight") }, weightT, c.Ints("perm", 1, 0));
        string Project(string x, string what)
        {
            string product = T(what + "_proj");
            c.Node("MatMul", new[] { x, weightT }, product);
            if (c.Param(node, prefix + "in_proj_bias") is not { } bias)
            {
                return product;
            }
            string biased = T(what + "_projBias");
            c.Node("Add", new[] { product, bias }, biased);
            return biased;
        }
        string queryProjection = Project(query, "q");
        string keyProjection = keys == query ? queryProjection : Project(keys, "kv");
        string Heads(string projection, long part, string what)
        {
            string starts = T(what + "_starts"), ends = T(what + "_ends"), axes = T(what + "_axes"), slice = T(what), shape = T(what + "_shape");
            string split = T(what + "_split"), perHead = T(what + "_heads");
            c.Int64s(starts, part * d);
            c.Int64s(ends, (part + 1) * d);
            c.Int64s(axes, -1);
            c.Node("Slice", new[] { projection, starts, ends, axes }, slice);
            c.Int64s(shape, 0, 0, heads, dh);
            c.Node("Reshape", new[] { slice, shape }, split);
            c.Node("Transpose", new[] { split }, perHead, c.Ints("perm", 0, 2, 1, 3));
            return perHead;
        }
        string q = Heads(queryProjection, 0, "q"), k = Heads(keyProjection, 1, "k"), v = Heads(keyProjection, 2, "v");
        string kT = T("kT"), product2 = T("scores_raw"), scale = T("scale"), scores = T("scores");
        c.Node("Transpose", new[] { k }, kT, c.Ints("perm", 0, 1, 3, 2));
        c.Node("MatMul", new[] { q, kT }, product2);
        c.Fill(scale, 1.0 / System.Math.Sqrt(dh));
        c.Node("Mul", new[] { product2, scale }, scores);
        if (causal)
        {
            string tShape = T("t_shape"), sShape = T("s_shape"), squeezeAxes = T("squeeze_axes"), t = T("t"), s = T("s");
            string zero = T("zero1"), one = T("one1"), zeroScalar = T("zero"), oneScalar = T("one"), rows = T("rows"), cols = T("cols");
            string rowAxes = T("row_axes"), rowColumn = T("rows_column"), later = T("later"), lowest = T("lowest"), none = T("none"), mask = T("causal"), masked = T("causal_scores");
            c.Node("Shape", new[] { query }, tShape, c.Int("start", 1), c.Int("end", 2));
            c.Node("Shape", new[] { keys }, sShape, c.Int("start", 1), c.Int("end", 2));
            c.Int64s(squeezeAxes, 0);
            c.Node("Squeeze", new[] { tShape, squeezeAxes }, t);
            c.Node("Squeeze", new[] { sShape, squeezeAxes }, s);
            c.Int64s(zero, 0);
            c.Int64s(one, 1);
            c.Node("Squeeze", new[] { zero, squeezeAxes }, zeroScalar);
            c.Node("Squeeze", new[] { one, squeezeAxes }, oneScalar);
            c.Node("Range", new[] { zeroScalar, t, oneScalar }, rows);
            c.Node("Range", new[] { zeroScalar, s, oneScalar }, cols);
            c.Int64s(rowAxes, 1);
            c.Node("Unsqueeze", new[] { rows, rowAxes }, rowColumn);
            c.Node("Greater", new[] { cols, rowColumn }, later);
            c.Fill(lowest, -float.MaxValue);
            c.Fill(none, 0.0);
            c.Node("Where", new[] { later, lowest, none }, mask);
            c.Node("Add", new[] { scores, mask }, masked);
            scores = masked;
        }
        if (keyMask is not null)
        {
            string highest = T("highest"), lowest = T("pad_lowest"), scaled = T("mask_scaled"), padding = T("keyPadding"), axes = T("pad_axes"), row = T("keyPadding_row"), masked = T("masked");
            c.Fill(highest, float.MaxValue);
            c.Fill(lowest, -float.MaxValue);
            c.Node("Mul", new[] { keyMask, highest }, scaled);
            c.Node("Add", new[] { scaled, lowest }, padding);
            c.Int64s(axes, 1, 2);
            c.Node("Unsqueeze", new[] { padding, axes }, row);
            c.Node("Add", new[] { scores, row }, masked);
            scores = masked;
        }
        string weights = T("weights"), context = T("context"), merged = T("merged"), mergedShape = T("merged_shape"), flat = T("flat"), outT = T("outProjT"), projected = T("out");
        c.Node("Softmax", new[] { scores }, weights, c.Int("axis", -1));
        c.Node("MatMul", new[] { weights, v }, context);
        c.Node("Transpose", new[] { context }, merged, c.Ints("perm", 0, 2, 1, 3));
        c.Int64s(mergedShape, 0, 0, d);
        c.Node("Reshape", new[] { merged, mergedShape }, flat);
        c.Node("Transpose", new[] { c.Param(node, prefix + "out_proj.weight") }, outT, c.Ints("perm", 1, 0));
        if (c.Param(node, prefix + "out_proj.bias") is { } outBias)
        {
            c.Node("MatMul", new[] { flat, outT }, projected);
            c.Node("Add", new[] { projected, outBias }, output);
        }
        else
        {
            c.Node("MatMul", new[] { flat, outT }, output);
        }
    }

    /// <summary>LayerNormalization over the last axis with the norm's weight and bias.</summary>
    public static void Norm(ExportContext c, GraphNode node, string norm, string x, string y)
        => c.Node("LayerNormalization", new[] { x, c.Param(node, norm + ".weight"), c.Param(node, norm + ".bias") }, y, c.Int("axis", -1), c.FloatAttr("epsilon", node, "eps"));

    /// <summary>linear2(activation(linear1(x))) into <paramref name="y"/>.</summary>
    public static void FeedForward(ExportContext c, GraphNode node, string x, string y)
    {
        string T(string suffix) => c.Temp(node, "ff_" + suffix);
        string Linear(string input, string layer, string output)
        {
            string weightT = T(layer + "T"), product = T(layer + "_product");
            c.Node("Transpose", new[] { c.Param(node, layer + ".weight") }, weightT, c.Ints("perm", 1, 0));
            c.Node("MatMul", new[] { input, weightT }, product);
            c.Node("Add", new[] { product, c.Param(node, layer + ".bias") }, output);
            return output;
        }
        string hidden = Linear(x, "linear1", T("hidden")), activated = T("activated");
        if (node.Attr("activation") == "gelu")
        {
            string root = T("rsqrt2"), scaled = T("gelu_scaled"), erf = T("gelu_erf"), oneF = T("gelu_one"), plus = T("gelu_plus"), half = T("gelu_half"), xHalf = T("gelu_xhalf");
            c.Fill(root, 1.0 / System.Math.Sqrt(2.0));
            c.Node("Mul", new[] { hidden, root }, scaled);
            c.Node("Erf", new[] { scaled }, erf);
            c.Fill(oneF, 1.0);
            c.Node("Add", new[] { erf, oneF }, plus);
            c.Fill(half, 0.5);
            c.Node("Mul", new[] { hidden, half }, xHalf);
            c.Node("Mul", new[] { xHalf, plus }, activated);
        }
        else
        {
            c.Node("Relu", new[] { hidden }, activated);
        }
        Linear(activated, "linear2", y);
    }

    /// <summary>An encoder or decoder layer, post-norm or pre-norm, as the runtime's evaluation forward computes it.</summary>
    public static void Layer(ExportContext c, GraphNode node, bool decoder)
    {
        string T(string suffix) => c.Temp(node, suffix);
        bool normFirst = node.Attr("normFirst") == "true", causal = node.Attr("causal") == "true";
        string x = c.X(node);
        string? keyMask = c.Net(node, "keyPadding"), memory = c.Net(node, "memory"), memoryMask = c.Net(node, "memoryKeyPadding");
        string current = x;
        // Self-attention.
        string attnIn = x;
        if (normFirst)
        {
            attnIn = T("norm1");
            Norm(c, node, "norm1", x, attnIn);
        }
        Attention(c, node, "sa", "self_attn.", attnIn, attnIn, keyMask, causal, T("sa"));
        c.Node("Add", new[] { current, T("sa") }, T("r1"));
        current = T("r1");
        if (!normFirst)
        {
            Norm(c, node, "norm1", current, T("h1"));
            current = T("h1");
        }
        if (decoder)
        {
            string crossIn = current;
            if (normFirst)
            {
                crossIn = T("norm2");
                Norm(c, node, "norm2", current, crossIn);
            }
            Attention(c, node, "ca", "multihead_attn.", crossIn, memory!, memoryMask, false, T("ca"));
            c.Node("Add", new[] { current, T("ca") }, T("r2"));
            current = T("r2");
            if (!normFirst)
            {
                Norm(c, node, "norm2", current, T("h2"));
                current = T("h2");
            }
        }
        string lastNorm = decoder ? "norm3" : "norm2";
        string ffIn = current;
        if (normFirst)
        {
            ffIn = T("norm_ff");
            Norm(c, node, lastNorm, current, ffIn);
        }
        FeedForward(c, node, ffIn, T("ff"));
        if (normFirst)
        {
            c.Node("Add", new[] { current, T("ff") }, c.Y(node));
        }
        else
        {
            c.Node("Add", new[] { current, T("ff") }, T("r3"));
            Norm(c, node, lastNorm, T("r3"), c.Y(node));
        }
    }

    /// <summary>The positional table as a constant, its first T rows added to [N,T,d].</summary>
    public static void Positions(ExportContext c, GraphNode node)
    {
        string table = c.Temp(node, "table"), length = c.Temp(node, "t"), starts = c.Temp(node, "starts"), axes = c.Temp(node, "axes"), rows = c.Temp(node, "rows");
        c.Line($"graph.Floats({table}, global::Dsl.PositionalEncodingState.Table({node.Attr("maxLen")}, {node.Attr("d")}), {node.Attr("maxLen")}, {node.Attr("d")});");
        c.Node("Shape", new[] { c.X(node) }, length, c.Int("start", 1), c.Int("end", 2));
        c.Int64s(starts, 0);
        c.Int64s(axes, 0);
        c.Node("Slice", new[] { table, starts, length, axes }, rows);
        c.Node("Add", new[] { c.X(node), rows }, c.Y(node));
    }
}
