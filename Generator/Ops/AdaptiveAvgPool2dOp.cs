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
}
