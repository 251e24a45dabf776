using Dsl.Generator.Emit;
using Dsl.Generator.Model;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>Concat(branches...)</c> along channels: [C1,H,W] ++ [C2,H,W] -> [C1+C2,H,W] (the expander checks the other
/// dimensions agree). Forward copies each branch into its slice; backward reads the slices back.
/// </summary>
internal sealed class ConcatOp : Op
{
    public const string Name = "Concat";

    public override string Key => Name;

    /// <summary>Backward reads slices of dy only.</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        int offset = 0;
        for (int i = 0; i < node.Inputs.Count; i++)
        {
            var branch = c.Input(node, i);
            c.Line($"device.CopyChannels({c.X(node, i)}, srcChannels: {branch.Shape[0]}, srcOffset: 0, {y}, dstChannels: {node.Shape[0]}, dstOffset: {offset}, "
                + $"count: {branch.Shape[0]}, n, spatial: {Spatial(node)}, accumulate: false);");
            offset += branch.Shape[0];
        }
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        int offset = 0;
        for (int i = 0; i < node.Inputs.Count; i++)
        {
            var branch = c.Input(node, i);
            bool accumulate = c.Accumulate(branch.Id);
            c.Guarded($"device.CopyChannels({c.Dy(node)}, srcChannels: {node.Shape[0]}, srcOffset: {offset}, {c.Dx(node, i)}, dstChannels: {branch.Shape[0]}, dstOffset: 0, "
                + $"count: {branch.Shape[0]}, n, spatial: {Spatial(node)}, accumulate: {Names.Bool(accumulate)});", node.Id, branch.Id);
            offset += branch.Shape[0];
        }
    }

    /// <summary>Elements per channel of a [C, ...] sample: H*W for images.</summary>
    private static string Spatial(GraphNode node)
    {
        long s = 1;
        for (int i = 1; i < node.Shape.Count; i++)
        {
            s *= node.Shape[i];
        }
        return Names.Int(s);
    }

    /// <summary>ONNX's <c>Concat</c> along the channels (axis 1, counting the batch).</summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        var branches = new System.Collections.Generic.List<string?>();
        for (int i = 0; i < node.Inputs.Count; i++)
        {
            branches.Add(c.X(node, i));
        }
        c.Node("Concat", branches, c.Y(node), c.Int("axis", 1));
    }
}
