using System.Collections.Generic;
using System.Collections.Immutable;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>nn.Conv2d</c>: [C,H,W] -> [out,OH,OW], OH = floor((H + padTop + padBottom - dilationH*(kH-1) - 1) / strideH) + 1, likewise OW;
/// each size one number or a (height, width) pair (<see cref="Window2d"/>). Weight [out, C/groups, kH, kW] and bias [out],
/// U(-1/sqrt(fanIn), 1/sqrt(fanIn)), fanIn = C/groups*kH*kW.
/// https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html
/// </summary>
internal sealed class Conv2dOp : Op
{
    public const string Name = "Conv2d";

    public override string Key => Name;

    /// <summary>Backward reads x for the weight gradient.</summary>
    /// <summary>Sample by sample (the folded weights are refreshed under a lock, so parts arriving at once fold them once).</summary>
    public override bool RunsOnRowParts(GraphNode node) => true;

    public override Keeps BackwardReads(GraphNode node) => Keeps.FirstInput;

    public override LayerOutcome Infer(LayerInput i)
    {
        if (i.Shape.Length != 3)
        {
            return LayerRules.Mismatch(i, "[N,C,H,W]");
        }
        long c = i.Shape[0], h = i.Shape[1], w = i.Shape[2];
        long outChannels = i.Args.Int("outChannels"), groups = i.Args.Int("groups");
        // Each size is one number for both dimensions or a (height, width) pair (PyTorch's tuples).
        var (kh, kw) = Window2d.Pair(i.Args, "kernel") ?? (0, 0);
        var (sh, sw) = Window2d.Pair(i.Args, "stride") ?? (1, 1);
        var (dh, dw) = Window2d.Pair(i.Args, "dilation") ?? (1, 1);
        if (outChannels <= 0 || kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0 || dh <= 0 || dw <= 0 || groups <= 0)
        {
            return LayerRules.Invalid(i, $"out-channels, kernel, stride, dilation and groups must be positive, got {outChannels}, {Window2d.Text(kh, kw)}, {Window2d.Text(sh, sw)}, {Window2d.Text(dh, dw)}, {groups}");
        }
        long effectiveH = checked(dh * (kh - 1) + 1), effectiveW = checked(dw * (kw - 1) + 1);
        long padTop, padBottom, padLeft, padRight;
        string? named = i.Args.String("padding");
        if (named is not null)
        {
            if (named == "valid")
            {
                padTop = padBottom = padLeft = padRight = 0;
            }
            else if (named == "same")
            {
                if (sh != 1 || sw != 1)
                {
                    return LayerRules.Invalid(i, "padding \"same\" needs stride 1, as in PyTorch");
                }
                padTop = (effectiveH - 1) / 2;
                padBottom = effectiveH - 1 - padTop;
                padLeft = (effectiveW - 1) / 2;
                padRight = effectiveW - 1 - padLeft;
            }
            else
            {
                return LayerRules.Invalid(i, $"padding must be a number, a (height, width) pair, \"same\" or \"valid\", got {Names.Literal(named)}");
            }
        }
        else
        {
            var (ph, pw) = Window2d.Pair(i.Args, "padding") ?? (0, 0);
            if (ph < 0 || pw < 0)
            {
                return LayerRules.Invalid(i, $"padding must not be negative, got {Window2d.Text(ph, pw)}");
            }
            (padTop, padBottom, padLeft, padRight) = (ph, ph, pw, pw);
        }
        if (c % groups != 0 || outChannels % groups != 0)
        {
            return LayerOutcome.Fail(Descriptors.GroupsMismatch, i.Source, LayerRules.Text(groups), LayerRules.Text(c), LayerRules.Text(outChannels));
        }
        long paddedH = checked(h + padTop + padBottom), paddedW = checked(w + padLeft + padRight);
        if (paddedH < effectiveH || paddedW < effectiveW)
        {
            string note = dh > 1 || dw > 1 ? $" (kernel {Window2d.Text(kh, kw)} dilated by {Window2d.Text(dh, dw)})" : "";
            return LayerRules.TooLarge(i, effectiveH, effectiveW, paddedH, paddedW, note);
        }
        long oh = (paddedH - effectiveH) / sh + 1;
        long ow = (paddedW - effectiveW) / sw + 1;
        long fanIn = checked(c / groups * kh * kw);
        var o = new LayerOutcome
        {
            Op = Name,
            Shape = ImmutableArray.Create(outChannels, oh, ow),
            NamePrefix = "conv",
            Flops = checked(2L * outChannels * oh * ow * fanIn),
        };
        bool bias = i.Args.Bool("bias");
        o.Params.Add(("weight", new[] { outChannels, c / groups, kh, kw }, "uniform", fanIn));
        if (bias)
        {
            o.Params.Add(("bias", new[] { outChannels }, "uniform", fanIn));
        }
        return o.With("kernelH", kh).With("kernelW", kw).With("strideH", sh).With("strideW", sw)
            .With("padTop", padTop).With("padBottom", padBottom).With("padLeft", padLeft).With("padRight", padRight)
            .With("dilationH", dh).With("dilationW", dw).With("groups", groups).With("bias", bias);
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        var fusion = c.Plan.Fusion;
        var relu = fusion.ReluOf(node);
        if (relu is not null)
        {
            c.Line(Fusion.Comment(node, relu));
        }
        string call = $"device.Conv2d({c.X(node)}, {Names.ParamValue(node, "weight")}, {Names.ParamValue(node, "bias")}, {y}, {Geometry(c.Input(node), node)}{(relu is not null ? ", relu: true" : "")});";
        // A convolution folded into the batch norm after it runs here only when the forward keeps values for backward;
        // an evaluation forward runs it, folded, at the batch norm (BatchNormOp.Forward).
        c.Line(fusion.IsFolded(node) ? $"if (keep) {call} // evaluation: folded into {Names.Value(c.Plan.Nodes[c.Plan.Consumers[node.Id][0]])}" : call);
    }

    /// <summary>
    /// The evaluation forward of a convolution with batch norm <paramref name="bn"/> folded into its weights (<see cref="Fusion"/>):
    /// the convolution of <paramref name="conv"/>'s input with the cached folded weight and bias, into <paramref name="y"/>,
    /// plus the local <paramref name="residual"/> when given (a sum computed by the convolution).
    /// </summary>
    internal static string FoldedCall(ForwardContext c, GraphNode conv, string fold, string y, bool relu, string? residual = null)
        => $"device.Conv2d({c.X(conv)}, {fold}.Weight, {fold}.Bias, {y}, {Geometry(c.Input(conv), conv)}{(relu ? ", relu: true" : "")}"
            + $"{(residual is null ? "" : $", residual: {residual}")});";

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        // dx is null when nothing below is trained (or the input's gradient was not asked for): the kernel skips it.
        c.Line($"device.Conv2dBackward({c.X(node)}, {Names.ParamValue(node, "weight")}, {c.Dy(node)}, {c.DxIfNeeded(node)}, {Names.ParamGrad(node, "weight")}, {Names.ParamGrad(node, "bias")}, "
            + $"{Geometry(input, node)}, accumulateDx: {Names.Bool(accumulate)});");
    }

    /// <summary>The geometry's numbers: kernel, stride, padding (top, left, bottom, right), dilation and groups.</summary>
    private static (int KH, int KW, int SH, int SW, int Top, int Left, int Bottom, int Right, int DH, int DW, int Groups) Sizes(GraphNode node)
        => (node.IntAttr("kernelH"), node.IntAttr("kernelW"), node.IntAttr("strideH"), node.IntAttr("strideW"),
            node.IntAttr("padTop"), node.IntAttr("padLeft"), node.IntAttr("padBottom"), node.IntAttr("padRight"),
            node.IntAttr("dilationH"), node.IntAttr("dilationW"), node.IntAttr("groups"));

    /// <summary><c>new Conv2dGeometry(n, InChannels: 1, Height: 28, ...)</c>, with only the members that differ from their defaults.</summary>
    private static string Geometry(GraphNode input, GraphNode node)
    {
        var x = input.Shape;
        var g = Sizes(node);
        var args = new List<string>
        {
            "n", $"InChannels: {x[0]}", $"Height: {x[1]}", $"Width: {x[2]}", $"OutChannels: {node.Shape[0]}", $"KernelH: {g.KH}", $"KernelW: {g.KW}",
        };
        if (g.SH != 1 || g.SW != 1)
        {
            args.Add($"StrideH: {g.SH}, StrideW: {g.SW}");
        }
        if (g.Top != 0 || g.Left != 0 || g.Bottom != 0 || g.Right != 0)
        {
            args.Add($"PadTop: {g.Top}, PadLeft: {g.Left}, PadBottom: {g.Bottom}, PadRight: {g.Right}");
        }
        if (g.DH != 1 || g.DW != 1)
        {
            args.Add($"DilationH: {g.DH}, DilationW: {g.DW}");
        }
        if (g.Groups != 1)
        {
            args.Add($"Groups: {g.Groups}");
        }
        return $"new global::Dsl.Conv2dGeometry({string.Join(", ", args)})";
    }

    /// <summary>ONNX's <c>Conv</c>; pads are [top, left, bottom, right] (padding "same" may be uneven).</summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        var g = Sizes(node);
        // ONNX's defaults (stride 1, no padding, dilation 1, one group) are left out, as the forward's geometry leaves them.
        var attributes = new List<string> { c.Ints("kernel_shape", g.KH, g.KW) };
        if (g.SH != 1 || g.SW != 1)
        {
            attributes.Add(c.Ints("strides", g.SH, g.SW));
        }
        if (g.Top != 0 || g.Left != 0 || g.Bottom != 0 || g.Right != 0)
        {
            attributes.Add(c.Ints("pads", g.Top, g.Left, g.Bottom, g.Right));
        }
        if (g.DH != 1 || g.DW != 1)
        {
            attributes.Add(c.Ints("dilations", g.DH, g.DW));
        }
        if (g.Groups != 1)
        {
            attributes.Add(c.Int("group", g.Groups));
        }
        c.Node("Conv", new[] { c.X(node), c.Param(node, "weight"), c.Param(node, "bias") }, c.Y(node), attributes.ToArray());
    }
}
