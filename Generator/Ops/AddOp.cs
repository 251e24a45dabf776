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

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"device.Add({c.X(node, 0)}, {c.X(node, 1)}, {y});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        // x + x: the second operand's share accumulates onto the first.
        foreach (int input in node.Inputs)
        {
            bool accumulate = c.Accumulate(input);
            c.Guarded($"device.PassGradient({c.Dy(node)}, {c.Grad(input)}, accumulate: {Names.Bool(accumulate)});", node.Id, input);
        }
    }
}
