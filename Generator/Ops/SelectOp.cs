using System.Collections.Immutable;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>Select(index)</c>: output <c>index</c> of an operation that produces several values (<see cref="ChunkOp"/>),
/// the edge's output index made explicit. Forward is an alias of that output's buffer; backward adds the gradient
/// to that output's gradient.
/// </summary>
internal sealed class SelectOp : Op
{
    public const string Name = "Select";
    public const string Index = "index";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    public override LayerOutcome Infer(LayerInput i)
    {
        long index = i.Args.Int("index");
        if (i.Outputs < 2)
        {
            return LayerRules.Invalid(i, $"Select picks one value of an operation that produces several (such as Chunk), but {i.From} produces one");
        }
        if (index < 0 || index >= i.Outputs)
        {
            return LayerRules.Invalid(i, $"the index must lie in [0, {i.Outputs - 1}] for the {i.Outputs} values of {i.From}, got {index}");
        }
        return new LayerOutcome { Op = Name, Shape = LayerRules.Long(i.Shape), Dims = i.IsSymbolic ? i.Dims : default }.With(Index, index);
    }

    public override ValueStorage Value => ValueStorage.Owned;

    /// <summary>None: the value is the chosen part's buffer, symbolic or not.</summary>
    public override BufferDecl? ValueSlot(Plan plan, GraphNode node) => node.IsSymbolic ? null : base.ValueSlot(plan, node);

    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override string FetchValue(Plan plan, GraphNode node)
        => Names.Field(ChunkOp.Part(plan.Nodes[node.Inputs[0]], node.IntAttr(Index))) + "." + Names.Rows(node);

    public override void Forward(ForwardContext c, GraphNode node)
        => c.Line($"var {c.Y(node)} = {ChunkOp.Part(c.Input(node), node.IntAttr(Index))};");

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var source = c.Input(node);
        string part = ChunkOp.PartGrad(c, source, node.IntAttr(Index));
        bool accumulate = c.Accumulate(part);
        string dy = c.Dy(node);
        c.Guarded($"device.PassGradient({dy}, {part}, accumulate: {Names.Bool(accumulate)});", dy, part);
    }

    /// <summary>The identity of the chosen part.</summary>
    public override void Export(ExportContext c, GraphNode node)
        => c.Node("Identity", new[] { c.Name(ChunkOp.Part(c.Input(node), node.IntAttr(Index))) }, c.Y(node));
}
