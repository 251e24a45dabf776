using System.Collections.Generic;
using Dsl.Generator.Model;

namespace Dsl.Generator.Emit;

/// <summary>The geometry structs the convolution and pooling kernels take, written with only their non-default members.</summary>
internal static class Geometry
{
    public static string Conv(Plan plan, GraphNode node)
    {
        var x = plan.Nodes[node.Inputs[0]].Shape;
        int k = node.IntAttr("kernel"), s = node.IntAttr("stride"), top = node.IntAttr("padTop"), bottom = node.IntAttr("padBottom");
        int d = node.IntAttr("dilation"), g = node.IntAttr("groups");
        var extra = new List<string>();
        if (s != 1)
        {
            extra.Add($"StrideH: {s}, StrideW: {s}");
        }
        if (top != 0 || bottom != 0)
        {
            extra.Add($"PadTop: {top}, PadLeft: {top}, PadBottom: {bottom}, PadRight: {bottom}");
        }
        if (d != 1)
        {
            extra.Add($"DilationH: {d}, DilationW: {d}");
        }
        if (g != 1)
        {
            extra.Add($"Groups: {g}");
        }
        string tail = extra.Count == 0 ? "" : ", " + string.Join(", ", extra);
        return $"new global::Dsl.Conv2dGeometry(n, {x[0]}, {x[1]}, {x[2]}, {node.Shape[0]}, {k}, {k}{tail})";
    }

    public static string Pool(Plan plan, GraphNode node)
    {
        var x = plan.Nodes[node.Inputs[0]].Shape;
        int k = node.IntAttr("kernel"), s = node.IntAttr("stride"), p = node.IntAttr("padding");
        string pad = p != 0 ? $", {p}, {p}" : "";
        return $"new global::Dsl.Pool2dGeometry(n, {x[0]}, {x[1]}, {x[2]}, {k}, {k}, {s}, {s}{pad})";
    }

    /// <summary>The arguments <c>n, C, H, W, OH, OW</c> of adaptive average pooling.</summary>
    public static string Adaptive(Plan plan, GraphNode node)
    {
        var x = plan.Nodes[node.Inputs[0]].Shape;
        return $"n, {x[0]}, {x[1]}, {x[2]}, {node.Shape[1]}, {node.Shape[2]}";
    }

    /// <summary>Elements per channel of a [C, ...] sample: H*W for images.</summary>
    public static long Spatial(EquatableArray<int> shape)
    {
        long s = 1;
        for (int i = 1; i < shape.Count; i++)
        {
            s *= shape[i];
        }
        return s;
    }
}
