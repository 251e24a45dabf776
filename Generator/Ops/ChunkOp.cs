using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>torch.chunk(x, chunks, dim)</c> and <c>torch.split(x, splitSize, dim)</c> with an int: splits a per-sample dimension of
/// fixed size (the others may be symbols) into equal parts, a node with several outputs. The layer forms are
/// <c>x | Chunk(3, dim: -1)</c> and <c>x | Split(4, dim: 2)</c>, the value-function forms <c>Chunk(x, 3, dim: -1)</c> and
/// <c>Split(x, 4, dim: 2)</c>. The parts must be equal: a size the chunks (or the split size) do not divide is refused
/// (DSL1069) rather than given a smaller last part, since every output of a node shares one shape. Each output has its own
/// value and gradient slot (<see cref="Part"/>); a consumer reaches one through <see cref="SelectOp"/>, whose <c>index</c>
/// is the output index of the edge. Forward copies each part viewing x as [outer, D, inner] (<c>Device.CopyChannels</c>, as
/// <see cref="SliceOp"/>); backward copies each selected part's gradient into its slice of dx, unselected slices get zero.
/// Attributes: <c>axis</c> (per-sample; absent on dimension 1, the channels, as before it existed) and <c>outputs</c>.
/// </summary>
internal sealed class ChunkOp : Op
{
    public const string Name = "Chunk";
    public const string SplitCall = "Split";

    public override string Key => Name;

    public override IEnumerable<string> Calls => new[] { Name, SplitCall };

    public override bool TakesSymbols => true;

    public override LayerOutcome Infer(LayerInput i)
    {
        var value = i.Net("a");
        var dims = value is not null ? value.Dims : i.IsSymbolic ? i.Dims : i.Shape.Select(d => Dim.Of(d)).ToImmutableArray();
        string text = value is not null ? value.Text : i.Received, from = value is not null ? value.From : i.From;
        bool split = i.Layer == SplitCall;
        long dim = i.Args.Int("dim");
        int axis = TensorShapes.Axis(dim, dims.Length);
        if (axis < 0)
        {
            return LayerOutcome.Fail(Descriptors.DimOutOfRange, i.Source, LayerRules.Text(dim), text, from, TensorShapes.Range(dims.Length));
        }
        var size = dims[axis];
        if (!size.IsConstant)
        {
            return LayerOutcome.Fail(Descriptors.SymbolicSize, i.Source, $"size of the split dimension {dim}", text, from, size.ToString());
        }
        long d = size.Constant, chunks, part;
        if (split)
        {
            part = i.Args.Int("splitSize");
            if (part < 1 || part >= d || d % part != 0)
            {
                return LayerOutcome.Fail(Descriptors.UnevenSplit, i.Source, $"split size {part}", LayerRules.Text(dim), text, from, LayerRules.Text(d),
                    "a split size that divides it into at least 2 parts");
            }
            chunks = d / part;
        }
        else
        {
            chunks = i.Args.Int("chunks");
            if (chunks < 2 || d % chunks != 0)
            {
                return LayerOutcome.Fail(Descriptors.UnevenSplit, i.Source, $"{chunks} chunks", LayerRules.Text(dim), text, from, LayerRules.Text(d),
                    "at least 2 chunks that divide it");
            }
            part = d / chunks;
        }
        var parts = dims.SetItem(axis, Dim.Of(part));
        bool symbolic = parts.Any(x => !x.IsConstant);
        var outcome = TensorShapes.Outcome(Name, parts, symbolic);
        return (axis == 0 ? outcome : outcome.With(Axis, axis)).With(Outputs, chunks);
    }

    /// <summary>The attribute holding the split dimension (per-sample), absent for the channels.</summary>
    public const string Axis = "axis";

    private static int AxisOf(GraphNode node) => node.HasAttr(Axis) ? node.IntAttr(Axis) : 0;

    /// <summary>The attribute holding how many values a node produces (absent: one).</summary>
    public const string Outputs = "outputs";

    public static int OutputCount(GraphNode node) => node.HasAttr(Outputs) ? node.IntAttr(Outputs) : 1;

    /// <summary>The local (and, with an underscore, the field) of output <paramref name="index"/>: <c>h4_chunk_1</c>.</summary>
    public static string Part(GraphNode node, int index) => Names.Value(node) + "_" + Names.Int(index);

    public override ValueStorage Value => ValueStorage.Owned;

    public override bool HasGradient => false;

    /// <summary>None: the parts own their values and gradients (<see cref="Buffers"/>), symbolic or not.</summary>
    public override BufferDecl? ValueSlot(Plan plan, GraphNode node) => node.IsSymbolic ? null : base.ValueSlot(plan, node);

    public override BufferDecl? GradSlot(Plan plan, GraphNode node) => node.IsSymbolic ? null : base.GradSlot(plan, node);

    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override string FetchValue(Plan plan, GraphNode node)
        => throw new System.InvalidOperationException("Chunk has no single value: its consumers select a part");

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        for (int k = 0; k < OutputCount(node); k++)
        {
            string part = Part(node, k);
            if (node.IsSymbolic)
            {
                yield return Names.SymbolicSlot(part, node, evaluation: true);
                yield return Names.SymbolicSlot("d" + part, node);
                continue;
            }
            yield return new BufferDecl(Names.Field(part), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, {Names.Shape(node.Shape)})", Elements: node.Elements, Evaluation: true);
            yield return new BufferDecl(Names.Field("d" + part), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, {Names.Shape(node.Shape)})", Elements: node.Elements);
        }
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        var g = Geometry(c.Input(node), node);
        for (int k = 0; k < OutputCount(node); k++)
        {
            string part = Part(node, k);
            c.Line($"var {part} = {Names.Field(part)}.{Names.Rows(node)};");
            c.Line($"device.CopyChannels({c.X(node)}, srcChannels: {g.Size}, srcOffset: {k * g.Part}, {part}, dstChannels: {g.Part}, dstOffset: 0, "
                + $"count: {g.Part}, {g.Outer}, spatial: {g.Inner}, accumulate: false);");
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
        var g = Geometry(input, node);
        foreach (int k in selected)
        {
            string part = PartGrad(c, node, k);
            c.Guarded($"device.CopyChannels({part}, srcChannels: {g.Part}, srcOffset: 0, {dx}, dstChannels: {g.Size}, dstOffset: {k * g.Part}, "
                + $"count: {g.Part}, {g.Outer}, spatial: {g.Inner}, accumulate: {Names.Bool(accumulate)});", part, dx);
        }
    }

    /// <summary>The gradient of output <paramref name="index"/>, fetched on first use (null when only the input's gradient needs it and it was not asked for).</summary>
    public static string PartGrad(BackwardContext c, GraphNode node, int index)
    {
        string name = "d" + Part(node, index);
        string slot = Names.Field(name) + "." + Names.Rows(node);
        return c.Fetch(name, c.Nullable(node.Id) ? $"inputGradient ? {slot} : null" : slot);
    }

    /// <summary>
    /// The input viewed as [outer, D, inner] as code (outer counts the batch and the dimensions before the axis), with the
    /// size of one part along D.
    /// </summary>
    private static (string Outer, string Inner, long Size, long Part) Geometry(GraphNode input, GraphNode node)
    {
        int axis = AxisOf(node);
        var d = input.Dims.Items;
        return (Names.Product("n", d.Take(axis)), Names.Product(null, d.Skip(axis + 1)), d[axis].Constant, node.Dims.Items[axis].Constant);
    }

    /// <summary>ONNX's <c>Split</c> along the axis (counting the batch) into equal parts (no <c>split</c> input), one value per part.</summary>
    public override void Export(ExportContext c, GraphNode node)
        => c.Node("Split", new[] { c.X(node) }, Enumerable.Range(0, OutputCount(node)).Select(k => c.Name(Part(node, k))).ToList(), c.Int("axis", AxisOf(node) + 1));
}
