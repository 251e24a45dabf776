using System.Collections.Generic;
using System.Collections.Immutable;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary><c>nn.AdaptiveAvgPool2d</c>: [C,H,W] -> [C,OH,OW] whatever H and W; <c>GlobalAvgPool2d</c> is OH = OW = 1.</summary>
internal sealed class AdaptiveAvgPool2dOp : Op
{
    public const string Name = "AdaptiveAvgPool2d";

    public override string Key => Name;

    /// <summary>Backward spreads dy evenly: it reads no value.</summary>
    /// <summary>Plane by plane.</summary>
    public override bool RunsOnRowParts(GraphNode node) => true;

    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override IEnumerable<string> Calls => new[] { "AdaptiveAvgPool2d", "GlobalAvgPool2d" };

    public override LayerOutcome Infer(LayerInput i)
    {
        if (i.Shape.Length != 3)
        {
            return LayerRules.Mismatch(i, "[N,C,H,W]");
        }
        bool global = i.Layer == "GlobalAvgPool2d";
        long oh = global ? 1 : i.Args.Has("outputSize") ? i.Args.Int("outputSize") : i.Args.Int("outHeight");
        long ow = global ? 1 : i.Args.Has("outputSize") ? i.Args.Int("outputSize") : i.Args.Int("outWidth");
        if (oh <= 0 || ow <= 0)
        {
            return LayerRules.Invalid(i, $"the output size must be positive, got {oh}x{ow}");
        }
        return new LayerOutcome { Op = Name, Shape = ImmutableArray.Create((long)i.Shape[0], oh, ow), Flops = LayerRules.Elements(i.Shape) }
            .With("outHeight", oh).With("outWidth", ow);
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"device.AdaptiveAvgPool2d({c.X(node)}, {y}, {Geometry(c.Input(node), node)});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        c.Guarded($"device.AdaptiveAvgPool2dBackward({c.Dy(node)}, {c.Dx(node)}, {Geometry(input, node)}, accumulate: {Names.Bool(accumulate)});", node.Id, input.Id);
    }

    private static string Geometry(GraphNode input, GraphNode node)
    {
        var x = input.Shape;
        return $"n, channels: {x[0]}, height: {x[1]}, width: {x[2]}, outHeight: {node.Shape[1]}, outWidth: {node.Shape[2]}";
    }

    /// <summary>
    /// 1x1: <c>GlobalAveragePool</c>. Sizes that divide: <c>AveragePool</c> with kernel = stride = H/OH by W/OW. Otherwise
    /// PyTorch's bins (rows floor(i*H/OH) to ceil((i+1)*H/OH)) overlap and vary: the mean over each bin is separable, so
    /// each row bin is a <c>Slice</c> and <c>ReduceMean</c> joined by <c>Concat</c>, then the same over the columns.
    /// </summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        var x = c.Input(node).Shape;
        int h = x[1], w = x[2], oh = node.Shape[1], ow = node.Shape[2];
        if (oh == 1 && ow == 1)
        {
            c.Node("GlobalAveragePool", new[] { c.X(node) }, c.Y(node));
        }
        else if (h % oh == 0 && w % ow == 0)
        {
            c.Node("AveragePool", new[] { c.X(node) }, c.Y(node), c.Ints("kernel_shape", h / oh, w / ow), c.Ints("strides", h / oh, w / ow));
        }
        else
        {
            string rows = h == oh ? c.X(node) : Bins(c, node, c.X(node), axis: 2, h, oh, ow == w ? c.Y(node) : c.Temp(node, "rows"));
            if (ow != w)
            {
                Bins(c, node, rows, axis: 3, w, ow, c.Y(node));
            }
        }
    }

    /// <summary>The means of the <paramref name="outSize"/> adaptive bins of <paramref name="size"/> along <paramref name="axis"/>, concatenated.</summary>
    private static string Bins(ExportContext c, GraphNode node, string x, int axis, int size, int outSize, string y)
    {
        string tag = axis == 2 ? "h" : "w";
        string axes = c.Temp(node, tag + "_axis");
        c.Int64s(axes, axis);
        var means = new List<string?>();
        for (int i = 0; i < outSize; i++)
        {
            long start = (long)i * size / outSize, end = ((long)(i + 1) * size + outSize - 1) / outSize;
            string bin = tag + Names.Int(i);
            string starts = c.Temp(node, bin + "_start"), ends = c.Temp(node, bin + "_end"), slice = c.Temp(node, bin + "_slice"), mean = c.Temp(node, bin + "_mean");
            c.Int64s(starts, start);
            c.Int64s(ends, end);
            c.Node("Slice", new[] { x, starts, ends, axes }, slice);
            c.Node("ReduceMean", new[] { slice }, mean, c.Ints("axes", axis), c.Int("keepdims", 1));
            means.Add(mean);
        }
        c.Node("Concat", means, y, c.Int("axis", axis));
        return y;
    }
}
