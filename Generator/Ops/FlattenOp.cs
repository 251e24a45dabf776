using System.Collections.Immutable;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>nn.Flatten()</c>: [C, H, W, ...] -> [C*H*W*...], a view of its input forward; backward hands the gradient on, an
/// alias of the same memory when the planner allows it (a copy otherwise).
/// </summary>
internal sealed class FlattenOp : Op
{
    public const string Name = "Flatten";

    public override string Key => Name;

    public override ValueStorage Value => ValueStorage.ViewOfInput;

    /// <summary>Backward hands dy on reshaped: it reads no value, and dx may be dy's memory.</summary>
    /// <summary>A view of its input, made per part (<see cref="ForwardContext.PartView"/>).</summary>
    public override bool RunsOnRowParts(GraphNode node) => true;

    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override bool PassesGradient => true;

    public override LayerOutcome Infer(LayerInput i)
    {
        if (i.Shape.Length < 1)
        {
            return LayerRules.Mismatch(i, "[N,...]");
        }
        return new LayerOutcome { Op = Name, Shape = ImmutableArray.Create(LayerRules.Elements(i.Shape)) };
    }

    public override BufferDecl? ValueSlot(Plan plan, GraphNode node)
        => new(Names.Field(Names.Value(node)), "global::Dsl.ViewSlot", $"new global::Dsl.ViewSlot({Names.Shape(node.Shape)})");

    public override string FetchValue(Plan plan, GraphNode node) => Names.Field(Names.Value(node)) + ".Current";

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Y(node);
        c.Line($"var {y} = {c.PartView(Names.Field(y), c.X(node))};");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        if (c.Plan.Memory.GradientAlias(node, 0))
        {
            c.Line($"// {c.Dx(node)} is the memory of {c.Dy(node)}: nothing to copy.");
            return;
        }
        c.Guarded($"device.PassGradient({c.Dy(node)}, {c.Dx(node)}, accumulate: {Names.Bool(accumulate)});", node.Id, input.Id);
    }

    /// <summary>ONNX's <c>Flatten</c> at axis 1: [N, C, H, W] -> [N, C*H*W].</summary>
    public override void Export(ExportContext c, GraphNode node) => c.Node("Flatten", new[] { c.X(node) }, c.Y(node), c.Int("axis", 1));
}
