using System.Collections.Generic;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>nn.Dropout</c> (any shape, one draw per element) and <c>nn.Dropout2d</c> ([C,H,W], one draw per H*W plane):
/// zero with probability p in training and scale the rest by 1/(1-p); the identity in evaluation. Owns its mask.
/// </summary>
internal sealed class DropoutOp : Op
{
    public const string Name = "Dropout";

    public override string Key => Name;

    /// <summary>Backward reads only the mask it owns.</summary>
    /// <summary>The identity in evaluation (the mask is only touched in training, which never splits).</summary>
    public override bool RunsOnRowParts(GraphNode node) => true;

    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override IEnumerable<string> Calls => new[] { "Dropout", "Dropout2d" };

    public override bool TakesSymbols => true;

    public override LayerOutcome Infer(LayerInput i)
    {
        bool planes = i.Layer == "Dropout2d";
        if (planes && i.IsSymbolic)
        {
            return LayerRules.Symbolic(i);
        }
        if (planes && i.Shape.Length != 3)
        {
            return LayerRules.Mismatch(i, "[N,C,H,W]");
        }
        double p = i.Args.Number("p");
        if (!(p >= 0 && p < 1))
        {
            return LayerRules.Invalid(i, $"the drop probability must lie in [0, 1), got {LayerArgs.Format(p)}");
        }
        long group = planes ? checked((long)i.Shape[1] * i.Shape[2]) : 1;
        return new LayerOutcome { Op = Name, Shape = LayerRules.Long(i.Shape), Flops = LayerRules.Elements(i.Shape), Dims = i.Dims }
            .With("p", LayerArgs.Format(p)).With("group", group);
    }

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        yield return node.IsSymbolic
            ? Names.SymbolicSlot(Mask(node), node)
            : new BufferDecl(Names.Field(Mask(node)), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, {Names.Shape(node.Shape)})", Elements: node.Elements);
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        string x = c.X(node);
        c.Line($"if (_trainingForward) device.Dropout({x}, {Names.Field(Mask(node))}.{Names.Rows(node)}, {y}, {Names.FloatAttr(node, "p")}, DropoutSeed({node.Id}), group: {node.Attr("group")});");
        // Evaluation: the identity. Without keep the value is the input itself (MemoryPlan.EvaluationIsInput); a forward kept
        // for backward (ComputeInputGradient) copies, so the backward's planned memory holds it.
        c.Line(c.Plan.Memory.EvaluationIsInput(node) ? $"else if (keep) device.Copy({x}, {y});" : $"else device.Copy({x}, {y});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        c.Guarded($"device.DropoutBackward({c.Dy(node)}, _trainingForward ? {Names.Field(Mask(node))}.{Names.Rows(node)} : null, {c.Dx(node)}, accumulate: {Names.Bool(accumulate)});",
            node.Id, input.Id);
    }

    private static string Mask(GraphNode node) => "mask" + node.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The identity: the graph is the evaluation forward.</summary>
    public override void Export(ExportContext c, GraphNode node) => c.Node("Identity", new[] { c.X(node) }, c.Y(node));
}
