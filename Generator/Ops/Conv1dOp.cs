using System.Collections.Generic;
using System.Collections.Immutable;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>nn.Conv1d</c>: [C,L] -> [out,L'], L' = floor((L + 2*padding - dilation*(k-1) - 1) / stride) + 1, L fixed or symbolic.
/// Weight [out, C/groups, k] and bias [out], U(-1/sqrt(fanIn), 1/sqrt(fanIn)), fanIn = C/groups*k; runs on the 2-D kernels
/// through <c>Conv1dGeometry</c>. https://pytorch.org/docs/stable/generated/torch.nn.Conv1d.html
/// </summary>
internal sealed class Conv1dOp : Op
{
    public const string Name = "Conv1d";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    /// <summary>Backward reads x for the weight gradient.</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.FirstInput;

    public override LayerOutcome Infer(LayerInput i)
    {
        if (i.Shape.Length != 2)
        {
            return LayerRules.Mismatch(i, "[N,C,L]");
        }
        if (LayerRules.RequireFixed(i, 0, "in-channels (dimension 1)") is { } symbolic)
        {
            return symbolic;
        }
        long c = i.Shape[0];
        long outChannels = i.Args.Int("outChannels"), k = i.Args.Int("kernel"), stride = i.Args.Int("stride");
        long padding = i.Args.Int("padding"), dilation = i.Args.Int("dilation"), groups = i.Args.Int("groups");
        if (outChannels <= 0 || k <= 0 || stride <= 0 || dilation <= 0 || groups <= 0)
        {
            return LayerRules.Invalid(i, $"out-channels, kernel, stride, dilation and groups must be positive, got {outChannels}, {k}, {stride}, {dilation}, {groups}");
        }
        if (padding < 0)
        {
            return LayerRules.Invalid(i, $"padding must not be negative, got {padding}");
        }
        if (c % groups != 0 || outChannels % groups != 0)
        {
            return LayerOutcome.Fail(Descriptors.GroupsMismatch, i.Source, LayerRules.Text(groups), LayerRules.Text(c), LayerRules.Text(outChannels));
        }
        long effective = checked(dilation * (k - 1) + 1);
        var (length, error) = Window1d.Length(i, effective, padding, stride, dilation > 1 ? $" (kernel {k} dilated by {dilation})" : "");
        if (error is not null)
        {
            return error;
        }
        long outLength = length.IsConstant ? length.Constant : 1;
        long fanIn = checked(c / groups * k);
        var o = new LayerOutcome
        {
            Op = Name,
            Shape = ImmutableArray.Create(outChannels, outLength),
            NamePrefix = "conv",
            Flops = checked(2L * outChannels * outLength * fanIn),
            Dims = i.IsSymbolic ? ImmutableArray.Create(Dim.Of(outChannels), length) : default,
        };
        bool bias = i.Args.Bool("bias");
        o.Params.Add(("weight", new[] { outChannels, c / groups, k }, "uniform", fanIn));
        if (bias)
        {
            o.Params.Add(("bias", new[] { outChannels }, "uniform", fanIn));
        }
        return o.With("kernel", k).With("stride", stride).With("padding", padding).With("dilation", dilation).With("groups", groups).With("bias", bias);
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        long effective = node.IntAttr("dilation") * (node.IntAttr("kernel") - 1L) + 1;
        Window1d.Check(c, input, node, Window1d.Minimum(effective, node.IntAttr("padding")));
        string y = c.Slot(node);
        c.Line($"device.Conv1d({c.X(node)}, {Names.ParamValue(node, "weight")}, {Names.ParamValue(node, "bias")}, {y}, {Geometry(input, node)});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        c.Line($"device.Conv1dBackward({c.X(node)}, {Names.ParamValue(node, "weight")}, {c.Dy(node)}, {c.Dx(node)}, {Names.ParamGrad(node, "weight")}, {Names.ParamGrad(node, "bias")}, "
            + $"{Geometry(input, node)}, accumulateDx: {Names.Bool(accumulate)});");
    }

    /// <summary><c>new Conv1dGeometry(n, InChannels: 128, Length: dimT, OutChannels: 100, Kernel: 3)</c>, defaults left out.</summary>
    private static string Geometry(GraphNode input, GraphNode node)
    {
        var x = input.Dims;
        int s = node.IntAttr("stride"), p = node.IntAttr("padding"), d = node.IntAttr("dilation"), g = node.IntAttr("groups");
        var args = new List<string>
        {
            "n", $"InChannels: {x[0].Code}", $"Length: {x[1].Code}", $"OutChannels: {Names.Int(node.Shape[0])}", $"Kernel: {node.Attr("kernel")}",
        };
        if (s != 1)
        {
            args.Add($"Stride: {s}");
        }
        if (p != 0)
        {
            args.Add($"Padding: {p}");
        }
        if (d != 1)
        {
            args.Add($"Dilation: {d}");
        }
        if (g != 1)
        {
            args.Add($"Groups: {g}");
        }
        return $"new global::Dsl.Conv1dGeometry({string.Join(", ", args)})";
    }

    /// <summary>ONNX's <c>Conv</c> with one spatial axis; ONNX's defaults (stride 1, no padding, dilation 1, one group) left out.</summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        int s = node.IntAttr("stride"), p = node.IntAttr("padding"), d = node.IntAttr("dilation"), g = node.IntAttr("groups");
        var attributes = new List<string> { c.Ints("kernel_shape", node.IntAttr("kernel")) };
        if (s != 1)
        {
            attributes.Add(c.Ints("strides", s));
        }
        if (p != 0)
        {
            attributes.Add(c.Ints("pads", p, p));
        }
        if (d != 1)
        {
            attributes.Add(c.Ints("dilations", d));
        }
        if (g != 1)
        {
            attributes.Add(c.Int("group", g));
        }
        c.Node("Conv", new[] { c.X(node), c.Param(node, "weight"), c.Param(node, "bias") }, c.Y(node), attributes.ToArray());
    }
}
