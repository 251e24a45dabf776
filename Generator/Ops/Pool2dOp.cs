using System.Collections.Generic;
using System.Collections.Immutable;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>nn.MaxPool2d</c> (owns its argmax) and <c>nn.AvgPool2d</c> (ceil_mode off): [C,H,W] -> [C,OH,OW],
/// OH = floor((H + 2*padding - kernel) / stride) + 1; stride defaults to the kernel.
/// </summary>
internal sealed class Pool2dOp : Op
{
    public const string MaxKey = "MaxPool2d";
    public const string AvgKey = "AvgPool2d";

    private readonly string _key;

    public Pool2dOp(string key) => _key = key;

    public override string Key => _key;

    /// <summary>Max pooling's backward reads only the argmax it owns; average pooling's reads nothing.</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    private bool IsMax => _key == MaxKey;

    public override LayerOutcome Infer(LayerInput i)
    {
        if (i.Shape.Length != 3)
        {
            return LayerRules.Mismatch(i, "[N,C,H,W]");
        }
        long h = i.Shape[1], w = i.Shape[2];
        long k = i.Args.Int("kernel");
        long stride = i.Args.Has("stride") ? i.Args.Int("stride") : k;
        long padding = i.Args.Int("padding");
        if (k <= 0 || stride <= 0 || padding < 0)
        {
            return LayerRules.Invalid(i, $"kernel and stride must be positive and padding not negative, got {k}, {stride}, {padding}");
        }
        if (padding > k / 2)
        {
            return LayerRules.Invalid(i, $"padding {padding} must be at most half the kernel {k}, as in PyTorch");
        }
        long paddedH = checked(h + 2 * padding), paddedW = checked(w + 2 * padding);
        if (paddedH < k || paddedW < k)
        {
            return LayerRules.TooLarge(i, k, k, paddedH, paddedW, "");
        }
        long oh = (paddedH - k) / stride + 1;
        long ow = (paddedW - k) / stride + 1;
        var o = new LayerOutcome { Op = _key, Shape = ImmutableArray.Create((long)i.Shape[0], oh, ow), Flops = checked(i.Shape[0] * oh * ow * k * k) }
            .With("kernel", k).With("stride", stride).With("padding", padding);
        return IsMax ? o : o.With("countIncludePad", i.Args.Bool("countIncludePad"));
    }

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        if (IsMax)
        {
            yield return new BufferDecl(Names.Field(Argmax(node)), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, global::Dsl.DType.Int32, {Names.Shape(node.Shape)})", Elements: node.Elements, Evaluation: true);
        }
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        string geometry = Geometry(c.Input(node), node);
        c.Line(IsMax
            ? $"device.MaxPool2d({c.X(node)}, {y}, {Names.Field(Argmax(node))}.Rows(n), {geometry});"
            : $"device.AvgPool2d({c.X(node)}, {y}, {geometry}, countIncludePad: {node.Attr("countIncludePad")});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        string geometry = Geometry(input, node);
        c.Guarded(IsMax
            ? $"device.MaxPool2dBackward({c.Dy(node)}, {Names.Field(Argmax(node))}.Rows(n), {c.Dx(node)}, {geometry}, accumulate: {Names.Bool(accumulate)});"
            : $"device.AvgPool2dBackward({c.Dy(node)}, {c.Dx(node)}, {geometry}, countIncludePad: {node.Attr("countIncludePad")}, accumulate: {Names.Bool(accumulate)});",
            node.Id, input.Id);
    }

    private static string Argmax(GraphNode node) => "argmax" + node.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary><c>new Pool2dGeometry(n, Channels: 10, Height: 24, Width: 24, KernelH: 2, ...)</c>.</summary>
    private static string Geometry(GraphNode input, GraphNode node)
    {
        var x = input.Shape;
        int k = node.IntAttr("kernel"), s = node.IntAttr("stride"), p = node.IntAttr("padding");
        string pad = p != 0 ? $", PadH: {p}, PadW: {p}" : "";
        return $"new global::Dsl.Pool2dGeometry(n, Channels: {x[0]}, Height: {x[1]}, Width: {x[2]}, KernelH: {k}, KernelW: {k}, StrideH: {s}, StrideW: {s}{pad})";
    }

    /// <summary>
    /// ONNX's <c>MaxPool</c> (padding is -infinity, as in PyTorch) or <c>AveragePool</c> with <c>count_include_pad</c>; floor
    /// mode (ONNX's default <c>ceil_mode</c> 0).
    /// </summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        int k = node.IntAttr("kernel"), s = node.IntAttr("stride"), p = node.IntAttr("padding");
        var attributes = new List<string> { c.Ints("kernel_shape", k, k), c.Ints("strides", s, s) };
        if (p != 0)
        {
            attributes.Add(c.Ints("pads", p, p, p, p));
        }
        if (!IsMax)
        {
            attributes.Add(c.Int("count_include_pad", node.Attr("countIncludePad") == "true" ? 1 : 0));
        }
        c.Node(IsMax ? "MaxPool" : "AveragePool", new[] { c.X(node) }, c.Y(node), attributes.ToArray());
    }
}
