using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// What the 1-D windows (<c>Conv1d</c>, <c>MaxPool1d</c>, <c>AvgPool1d</c>) share over the last dimension L of [C, L]:
/// the output length floor((L + 2 padding - effective) / stride) + 1 as a <see cref="Dim"/> (an expression of L's symbols),
/// the compile-time refusal of a window longer than a fixed padded length (DSL1006), and, for a symbolic L, the check
/// <c>Forward</c> makes before sizing anything (a batch too short for the window).
/// </summary>
internal static class Window1d
{
    /// <summary>The output length, or the DSL1006 error when a fixed padded length is shorter than the window.</summary>
    public static (Dim Length, LayerOutcome? Error) Length(LayerInput i, long effective, long padding, long stride, string note)
    {
        var length = i.IsSymbolic ? i.Dims[1] : Dim.Of(i.Shape[1]);
        if (length.IsConstant)
        {
            long padded = checked(length.Constant + 2 * padding);
            if (padded < effective)
            {
                return (Dim.Of(0), LayerOutcome.Fail(Diagnostics.Descriptors.KernelTooLarge, i.Source, LayerRules.Text(effective) + note, LayerRules.Text(padded), i.Received, i.From));
            }
        }
        return ((length + checked(2 * padding - effective)).FloorDiv(stride) + 1, null);
    }

    /// <summary>The least input length the window needs: the padded length must reach the window.</summary>
    public static long Minimum(long effective, long padding) => System.Math.Max(1, effective - 2 * padding);

    /// <summary>
    /// For a symbolic input length, the statement refusing a batch shorter than <paramref name="minimum"/>; nothing for a
    /// fixed one (the generator checked it).
    /// </summary>
    public static void Check(ForwardContext c, GraphNode input, GraphNode node, long minimum)
    {
        var length = input.Dims[1];
        if (!length.IsConstant)
        {
            c.Line($"CheckWindow({length.Code}, {Names.Int(minimum)}, {Names.Literal(node.Label)}, {Names.Literal(length.ToString())});");
        }
    }
}
