using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>torch.chunk(x, chunks, dim=1)</c>: splits the channels (dimension 1, counting the batch) of [C, ...] into
/// <c>chunks</c> values [C/chunks, ...], a node with several outputs. Each output has its own value and gradient slot
/// (<see cref="Part"/>); a consumer reaches one through <see cref="SelectOp"/>, whose <c>index</c> is the output index
/// of the edge. Backward copies each selected part's gradient into its slice of dx; unselected slices get zero.
/// </summary>
internal sealed class ChunkOp : Op
{
    public const string Name = "Chunk";

    public override string Key => Name;

    public override LayerOutcome Infer(LayerInput i)
    {
        long chunks = i.Args.Int("chunks"), dim = i.Args.Int("dim");
        if (i.Shape.Length < 1)
        {
            return LayerRules.Mismatch(i, "[N,C,...]");
        }
        if (dim != 1)
        {
            return LayerRules.Invalid(i, $"only dim 1 (the channels, counting the batch) is supported, got {dim}");
        }
        if (chunks < 2 || i.Shape[0] % chunks != 0)
        {
            return LayerRules.Invalid(i, $"chunks must be at least 2 and divide the {i.Shape[0]} channels, got {chunks}");
        }
        var shape = LayerRules.Long(i.Shape).SetItem(0, i.Shape[0] / chunks);
        return new LayerOutcome { Op = Name, Shape = shape }.With(Outputs, chunks);
    }

    /// <summary>The attribute holding how many values a node produces (absent: one).</summary>
    public const string Outputs = "outputs";

    public static int OutputCount(GraphNode node) => node.HasAttr(Outputs) ? node.IntAttr(Outputs) : 1;

    /// <summary>The local (and, with an underscore, the field) of output <paramref name="index"/>: <c>h4_chunk_1</c>.</summary>
    public static string Part(GraphNode node, int index) => Names.Value(node) + "_" + Names.Int(index);

    public override ValueStorage Value => ValueStorage.Owned;

    public override bool HasGradient => false;

    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override string FetchValue(Plan plan, GraphNode node)
        => throw new System.InvalidOperationException("Chunk has no single value: its consumers select a part");

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        for (int k = 0; k < OutputCount(node); k++)
        {
            string part = Part(node, k);
            yield return new BufferDecl(Names.Field(part), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, {Names.Shape(node.Shape)})", Elements: node.Elements, Evaluation: true);
            yield return new BufferDecl(Names.Field("d" + part), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, {Names.Shape(node.Shape)})", Elements: node.Elements);
        }
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        for (int k = 0; k < OutputCount(node); k++)
        {
            string part = Part(node, k);
            c.Line($"var {part} = {Names.Field(part)}.Rows(n);");
            c.Line($"device.CopyChannels({c.X(node)}, srcChannels: {input.Shape[0]}, srcOffset: {k * node.Shape[0]}, {part}, dstChannels: {node.Shape[0]}, dstOffset: 0, "
                + $"count: {node.Shape[0]}, n, spatial: {Spatial(node)}, accumulate: false);");
        }
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        var selected = c.Plan.LiveNodes.Where(s => s.Op == SelectOp.Name && s.Inputs[0] == node.Id).Select(s => s.IntAttr(SelectOp.Index)).Distinct().OrderBy(k => k).ToList();
        bool accumulate = c.Accumulate(input.Id);
        string dx = c.Dx(node);
        if (!accumulate && selected.Count < OutputCount(node))
        {
            // Unselected parts have a zero gradient: clear dx, then add the selected slices.
            c.Guarded($"device.Fill({dx}, 0f);", dx);
            accumulate = true;
        }
        foreach (int k in selected)
        {
            string part = PartGrad(c, node, k);
            c.Guarded($"device.CopyChannels({part}, srcChannels: {node.Shape[0]}, srcOffset: 0, {dx}, dstChannels: {input.Shape[0]}, dstOffset: {k * node.Shape[0]}, "
                + $"count: {node.Shape[0]}, n, spatial: {Spatial(node)}, accumulate: {Names.Bool(accumulate)});", part, dx);
        }
    }

    /// <summary>The gradient of output <paramref name="index"/>, fetched on first use (null when only the input's gradient needs it and it was not asked for).</summary>
    public static string PartGrad(BackwardContext c, GraphNode node, int index)
    {
        string name = "d" + Part(node, index);
        string slot = Names.Field(name) + ".Rows(n)";
        return c.Fetch(name, c.Nullable(node.Id) ? $"inputGradient ? {slot} : null" : slot);
    }

    private static string Spatial(GraphNode node)
    {
        long s = 1;
        for (int i = 1; i < node.Shape.Count; i++)
        {
            s *= node.Shape[i];
        }
        return Names.Int(s);
    }

    /// <summary>ONNX's <c>Split</c> along the channels into equal parts (no <c>split</c> input), one value per part.</summary>
    public override void Export(ExportContext c, GraphNode node)
        => c.Node("Split", new[] { c.X(node) }, Enumerable.Range(0, OutputCount(node)).Select(k => c.Name(Part(node, k))).ToList(), c.Int("axis", 1));
}
