using Dsl.Generator.Emit;
using Dsl.Generator.Model;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>a + b</c> and the sum closing a <c>Residual</c>: two values of the same shape (the expander checks it).
/// Backward hands the gradient to both operands.
/// </summary>
internal sealed class AddOp : Op
{
    public const string Name = "Add";

    public override string Key => Name;

    /// <summary>Backward hands dy on: it reads no value, and an operand's gradient may be dy's memory.</summary>
    /// <summary>Element by element.</summary>
    public override bool RunsOnRowParts(GraphNode node) => true;

    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override bool PassesGradient => true;

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        var relu = c.Plan.Fusion.ReluOf(node);
        if (c.Plan.Fusion.ResidualOf(node) is not { } bn)
        {
            Sum(c, node, relu, y);
            return;
        }
        using (c.W.Block("if (keep)"))
        {
            // Kept (training): the batch norm operand normalises and adds the shortcut in one pass (Fusion.ResidualOf).
            c.Line(Fusion.Comment(bn, node, relu) + ": the shortcut added as the batch norm normalises");
            c.Line(BatchNormOp.Call(c, bn, y, relu is not null, Names.Value(c.Plan.Fusion.ShortcutOf(node))));
        }
        using (c.W.Block("else"))
        {
            // Evaluation: the folded convolution of the batch norm operand writes the sum (Fusion.ResidualOf).
            BatchNormOp.FoldedForward(c, bn, y, relu, node);
        }
    }

    private static void Sum(ForwardContext c, GraphNode node, GraphNode? relu, string y)
    {
        if (relu is not null)
        {
            c.Line(Fusion.Comment(node, relu));
            c.Line($"device.AddRelu({c.X(node, 0)}, {c.X(node, 1)}, {y});");
            return;
        }
        c.Line($"device.Add({c.X(node, 0)}, {c.X(node, 1)}, {y});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        // x + x: the second operand's share accumulates onto the first.
        for (int k = 0; k < node.Inputs.Count; k++)
        {
            int input = node.Inputs[k];
            bool accumulate = c.Accumulate(input);
            if (c.Plan.Memory.GradientAlias(node, k))
            {
                c.Line($"// {c.Grad(input)} is the memory of {c.Dy(node)}: nothing to copy.");
                continue;
            }
            c.Guarded($"device.PassGradient({c.Dy(node)}, {c.Grad(input)}, accumulate: {Names.Bool(accumulate)});", node.Id, input);
        }
    }

    public override void Export(ExportContext c, GraphNode node) => c.Node("Add", new[] { c.X(node, 0), c.X(node, 1) }, c.Y(node));
}
