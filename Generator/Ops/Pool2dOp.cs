using System.Collections.Generic;
using System.Collections.Immutable;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>nn.MaxPool2d</c> (owns its argmax) and <c>nn.AvgPool2d</c>: [C,H,W] -> [C,OH,OW], OH = floor((H + 2*padH - kernelH) /
/// strideH) + 1 (ceil with <c>ceilMode</c>, PyTorch's rule: <see cref="Window2d.OutSize"/>), likewise OW; stride defaults to the
/// kernel; each size one number or a (height, width) pair.
/// </summary>
internal sealed class Pool2dOp : Op
{
    public const string MaxKey = "MaxPool2d";
    public const string AvgKey = "AvgPool2d";

    private readonly string _key;

    public Pool2dOp(string key) => _key = key;

    public override string Key => _key;

    /// <summary>Plane by plane; max pooling's argmax is fetched per part (<see cref="ForwardContext.PartRows"/>).</summary>
    public override bool RunsOnRowParts(GraphNode node) => true;

    /// <summary>
    /// Max pooling's backward reads only the argmax it owns (and its output when it also does the backward of the ReLU
    /// before it: <c>Fusion.BackwardReads</c>); average pooling's reads nothing.
    /// </summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    private bool IsMax => _key == MaxKey;

    public override LayerOutcome Infer(LayerInput i)
    {
        if (i.Shape.Length != 3)
        {
            return LayerRules.Mismatch(i, "[N,C,H,W]");
        }
        long h = i.Shape[1], w = i.Shape[2];
        // Each size is one number for both dimensions or a (height, width) pair; the stride defaults to the kernel.
        var (kh, kw) = Window2d.Pair(i.Args, "kernel") ?? (0, 0);
        var (sh, sw) = Window2d.Pair(i.Args, "stride") ?? (kh, kw);
        var (ph, pw) = Window2d.Pair(i.Args, "padding") ?? (0, 0);
        bool ceilMode = Window2d.Flag(i.Args, "ceilMode");
        if (kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0 || ph < 0 || pw < 0)
        {
            return LayerRules.Invalid(i, $"kernel and stride must be positive and padding not negative, got {Window2d.Text(kh, kw)}, {Window2d.Text(sh, sw)}, {Window2d.Text(ph, pw)}");
        }
        if (ph > kh / 2 || pw > kw / 2)
        {
            bool height = ph > kh / 2;
            return LayerOutcome.Fail(Descriptors.PoolPadding, i.Source, LayerRules.Text(height ? ph : pw), height ? "the height" : "the width", LayerRules.Text(height ? kh : kw));
        }
        long paddedH = checked(h + 2 * ph), paddedW = checked(w + 2 * pw);
        if (paddedH < kh || paddedW < kw)
        {
            return LayerRules.TooLarge(i, kh, kw, paddedH, paddedW, "");
        }
        long oh = Window2d.OutSize(h, ph, kh, sh, ceilMode);
        long ow = Window2d.OutSize(w, pw, kw, sw, ceilMode);
        var o = new LayerOutcome { Op = _key, Shape = ImmutableArray.Create((long)i.Shape[0], oh, ow), Flops = checked(i.Shape[0] * oh * ow * kh * kw) }
            .With("kernelH", kh).With("kernelW", kw).With("strideH", sh).With("strideW", sw).With("padH", ph).With("padW", pw).With("ceilMode", ceilMode);
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
        if (!IsMax)
        {
            c.Line($"device.AvgPool2d({c.X(node)}, {y}, {geometry}, countIncludePad: {node.Attr("countIncludePad")});");
            return;
        }
        // An evaluation forward (nothing kept) records no argmax: only the backward reads it, and a Backward after such a
        // forward runs it again with keep.
        var relu = c.Plan.Fusion.ReluOf(node);
        if (relu is not null)
        {
            c.Line(Fusion.Comment(node, relu));
        }
        c.Line($"device.MaxPool2d({c.X(node)}, {y}, {c.PartRows(Names.Field(Argmax(node)))}, {geometry}{(relu is not null ? ", relu: true" : "")}, recordArgmax: keep);");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        string geometry = Geometry(input, node);
        string relu = IsMax ? c.Plan.Fusion.ReluOutputArgument(c, node) : "";
        c.Guarded(IsMax
            ? $"device.MaxPool2dBackward({c.Dy(node)}, {Names.Field(Argmax(node))}.Rows(n), {c.Dx(node)}, {geometry}, accumulate: {Names.Bool(accumulate)}{relu});"
            : $"device.AvgPool2dBackward({c.Dy(node)}, {c.Dx(node)}, {geometry}, countIncludePad: {node.Attr("countIncludePad")}, accumulate: {Names.Bool(accumulate)});",
            node.Id, input.Id);
    }

    private static string Argmax(GraphNode node) => "argmax" + node.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary><c>new Pool2dGeometry(n, Channels: 10, Height: 24, Width: 24, KernelH: 2, ...)</c>.</summary>
    private static string Geometry(GraphNode input, GraphNode node)
    {
        var x = input.Shape;
        int ph = node.IntAttr("padH"), pw = node.IntAttr("padW");
        string pad = ph != 0 || pw != 0 ? $", PadH: {ph}, PadW: {pw}" : "";
        string ceil = node.Attr("ceilMode") == "true" ? ", CeilMode: true" : "";
        return $"new global::Dsl.Pool2dGeometry(n, Channels: {x[0]}, Height: {x[1]}, Width: {x[2]}, KernelH: {node.IntAttr("kernelH")}, KernelW: {node.IntAttr("kernelW")}, "
            + $"StrideH: {node.IntAttr("strideH")}, StrideW: {node.IntAttr("strideW")}{pad}{ceil})";
    }

    /// <summary>
    /// Whether ONNX Runtime's ceil-mode size, ceil((size + 2*pad - kernel) / stride) + 1 without PyTorch's last-window rule,
    /// equals this layer's along both dimensions.
    /// </summary>
    private static bool OnnxAgreesOnCeil(GraphNode input, GraphNode node)
    {
        static long Onnx(long size, long pad, long kernel, long stride) => (size + 2 * pad - kernel + stride - 1) / stride + 1;
        return Onnx(input.Shape[1], node.IntAttr("padH"), node.IntAttr("kernelH"), node.IntAttr("strideH")) == node.Shape[1]
            && Onnx(input.Shape[2], node.IntAttr("padW"), node.IntAttr("kernelW"), node.IntAttr("strideW")) == node.Shape[2];
    }

    /// <summary>
    /// ONNX's <c>MaxPool</c> (padding is -infinity, as in PyTorch) or <c>AveragePool</c> with <c>count_include_pad</c>, and
    /// <c>ceil_mode</c> when set; refused when ONNX Runtime's ceil-mode size differs from PyTorch's (<see cref="OnnxAgreesOnCeil"/>).
    /// </summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        int ph = node.IntAttr("padH"), pw = node.IntAttr("padW");
        if (node.Attr("ceilMode") == "true" && !OnnxAgreesOnCeil(c.Input(node), node))
        {
            // ONNX Runtime's ceil_mode keeps a last window that starts in the padding, which PyTorch (and this layer) drops:
            // the sizes would differ, so the layer is refused by name rather than exported wrong.
            c.Refuse(node);
            return;
        }
        var attributes = new List<string> { c.Ints("kernel_shape", node.IntAttr("kernelH"), node.IntAttr("kernelW")), c.Ints("strides", node.IntAttr("strideH"), node.IntAttr("strideW")) };
        if (ph != 0 || pw != 0)
        {
            attributes.Add(c.Ints("pads", ph, pw, ph, pw));
        }
        if (node.Attr("ceilMode") == "true")
        {
            attributes.Add(c.Int("ceil_mode", 1));
        }
        if (!IsMax)
        {
            attributes.Add(c.Int("count_include_pad", node.Attr("countIncludePad") == "true" ? 1 : 0));
        }
        c.Node(IsMax ? "MaxPool" : "AveragePool", new[] { c.X(node) }, c.Y(node), attributes.ToArray());
    }
}
