using System.Collections.Generic;
using System.Collections.Immutable;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>nn.Conv2d</c>: [C,H,W] -> [out,OH,OW], OH = floor((H + padTop + padBottom - dilation*(k-1) - 1) / stride) + 1.
/// Weight [out, C/groups, k, k] and bias [out], U(-1/sqrt(fanIn), 1/sqrt(fanIn)), fanIn = C/groups*k*k.
/// https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html
/// </summary>
internal sealed class Conv2dOp : Op
{
    public const string Name = "Conv2d";

    public override string Key => Name;

    /// <summary>Backward reads x for the weight gradient.</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.FirstInput;

    public override LayerOutcome Infer(LayerInput i)
    {
        if (i.Shape.Length != 3)
        {
            return LayerRules.Mismatch(i, "[N,C,H,W]");
        }
        long c = i.Shape[0], h = i.Shape[1], w = i.Shape[2];
        long outChannels = i.Args.Int("outChannels"), k = i.Args.Int("kernel"), stride = i.Args.Int("stride");
        long dilation = i.Args.Int("dilation"), groups = i.Args.Int("groups");
        if (outChannels <= 0 || k <= 0 || stride <= 0 || dilation <= 0 || groups <= 0)
        {
            return LayerRules.Invalid(i, $"out-channels, kernel, stride, dilation and groups must be positive, got {outChannels}, {k}, {stride}, {dilation}, {groups}");
        }
        long effective = checked(dilation * (k - 1) + 1);
        long padTop, padBottom;
        string? named = i.Args.String("padding");
        if (named is not null)
        {
            if (named == "valid")
            {
                padTop = padBottom = 0;
            }
            else if (named == "same")
            {
                if (stride != 1)
                {
                    return LayerRules.Invalid(i, "padding \"same\" needs stride 1, as in PyTorch");
                }
                padTop = (effective - 1) / 2;
                padBottom = effective - 1 - padTop;
            }
            else
            {
                return LayerRules.Invalid(i, $"padding must be a number, \"same\" or \"valid\", got {Names.Literal(named)}");
            }
        }
        else
        {
            padTop = padBottom = i.Args.Int("padding");
            if (padTop < 0)
            {
                return LayerRules.Invalid(i, $"padding must not be negative, got {padTop}");
            }
        }
        if (c % groups != 0 || outChannels % groups != 0)
        {
            return LayerOutcome.Fail(Descriptors.GroupsMismatch, i.Source, LayerRules.Text(groups), LayerRules.Text(c), LayerRules.Text(outChannels));
        }
        long paddedH = checked(h + padTop + padBottom), paddedW = checked(w + padTop + padBottom);
        if (paddedH < effective || paddedW < effective)
        {
            return LayerRules.TooLarge(i, effective, effective, paddedH, paddedW, dilation > 1 ? $" (kernel {k} dilated by {dilation})" : "");
        }
        long oh = (paddedH - effective) / stride + 1;
        long ow = (paddedW - effective) / stride + 1;
        long fanIn = checked(c / groups * k * k);
        var o = new LayerOutcome
        {
            Op = Name,
            Shape = ImmutableArray.Create(outChannels, oh, ow),
            NamePrefix = "conv",
            Flops = checked(2L * outChannels * oh * ow * fanIn),
        };
        bool bias = i.Args.Bool("bias");
        o.Params.Add(("weight", new[] { outChannels, c / groups, k, k }, "uniform", fanIn));
        if (bias)
        {
            o.Params.Add(("bias", new[] { outChannels }, "uniform", fanIn));
        }
        return o.With("kernel", k).With("stride", stride).With("padTop", padTop).With("padBottom", padBottom)
            .With("dilation", dilation).With("groups", groups).With("bias", bias);
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"device.Conv2d({c.X(node)}, {Names.ParamValue(node, "weight")}, {Names.ParamValue(node, "bias")}, {y}, {Geometry(c.Input(node), node)});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        c.Line($"device.Conv2dBackward({c.X(node)}, {Names.ParamValue(node, "weight")}, {c.Dy(node)}, {c.Dx(node)}, {Names.ParamGrad(node, "weight")}, {Names.ParamGrad(node, "bias")}, "
            + $"{Geometry(input, node)}, accumulateDx: {Names.Bool(accumulate)});");
    }

    /// <summary><c>new Conv2dGeometry(n, InChannels: 1, Height: 28, ...)</c>, with only the members that differ from their defaults.</summary>
    private static string Geometry(GraphNode input, GraphNode node)
    {
        var x = input.Shape;
        int k = node.IntAttr("kernel"), s = node.IntAttr("stride"), top = node.IntAttr("padTop"), bottom = node.IntAttr("padBottom");
        int d = node.IntAttr("dilation"), g = node.IntAttr("groups");
        var args = new List<string>
        {
            "n", $"InChannels: {x[0]}", $"Height: {x[1]}", $"Width: {x[2]}", $"OutChannels: {node.Shape[0]}", $"KernelH: {k}", $"KernelW: {k}",
        };
        if (s != 1)
        {
            args.Add($"StrideH: {s}, StrideW: {s}");
        }
        if (top != 0 || bottom != 0)
        {
            args.Add($"PadTop: {top}, PadLeft: {top}, PadBottom: {bottom}, PadRight: {bottom}");
        }
        if (d != 1)
        {
            args.Add($"DilationH: {d}, DilationW: {d}");
        }
        if (g != 1)
        {
            args.Add($"Groups: {g}");
        }
        return $"new global::Dsl.Conv2dGeometry({string.Join(", ", args)})";
    }

    /// <summary>ONNX's <c>Conv</c>; pads are [top, left, bottom, right] (padding "same" may be uneven).</summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        int k = node.IntAttr("kernel"), s = node.IntAttr("stride"), top = node.IntAttr("padTop"), bottom = node.IntAttr("padBottom");
        int d = node.IntAttr("dilation"), g = node.IntAttr("groups");
        // ONNX's defaults (stride 1, no padding, dilation 1, one group) are left out, as the forward's geometry leaves them.
        var attributes = new List<string> { c.Ints("kernel_shape", k, k) };
        if (s != 1)
        {
            attributes.Add(c.Ints("strides", s, s));
        }
        if (top != 0 || bottom != 0)
        {
            attributes.Add(c.Ints("pads", top, top, bottom, bottom));
        }
        if (d != 1)
        {
            attributes.Add(c.Ints("dilations", d, d));
        }
        if (g != 1)
        {
            attributes.Add(c.Int("group", g));
        }
        c.Node("Conv", new[] { c.X(node), c.Param(node, "weight"), c.Param(node, "bias") }, c.Y(node), attributes.ToArray());
    }
}
