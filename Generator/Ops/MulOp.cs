using Dsl.Generator.Emit;
using Dsl.Generator.Model;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>a * b</c>: the elementwise product of two values of the same shape, symbols included (the expander checks it).
/// Backward: d a (+)= dy * b, d b (+)= dy * a.
/// </summary>
internal sealed class MulOp : Op
{
    public const string Name = "Mul";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    /// <summary>Each operand's gradient reads the other operand.</summary>
    public override Keeps BackwardReads(GraphNode node) => new(false, 0, 1);

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"device.Mul({c.X(node, 0)}, {c.X(node, 1)}, {y});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        // x * x: the second operand's share accumulates onto the first.
        for (int k = 0; k < 2; k++)
        {
            int input = node.Inputs[k];
            bool accumulate = c.Accumulate(input);
            c.Guarded($"device.MulGradient({c.Dy(node)}, {c.X(node, 1 - k)}, {c.Grad(input)}, accumulate: {Names.Bool(accumulate)});", node.Id, input);
        }
    }

    public override void Export(ExportContext c, GraphNode node) => c.Node("Mul", new[] { c.X(node, 0), c.X(node, 1) }, c.Y(node));
}
