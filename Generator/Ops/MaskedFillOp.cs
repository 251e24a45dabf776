using System.Globalization;
using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>MaskedFill(a, mask, value)</c> (<c>a.masked_fill(mask, value)</c>): value where the float 0/1 mask is nonzero, a
/// elsewhere. The mask broadcasts to a's per-sample dimensions (compared from the right; its symbols must be a's, DSL1067)
/// and passes no gradient (a computed mask's is zero); dx is dy with the filled positions zeroed (the same kernel with value 0). The value may be
/// -infinity. Attribute <c>value</c>.
/// </summary>
internal sealed class MaskedFillOp : Op
{
    public const string Name = "MaskedFill";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    /// <summary>Backward reads the mask (input 1).</summary>
    public override Keeps BackwardReads(GraphNode node) => new(false, 1);

    public override LayerOutcome Infer(LayerInput i)
    {
        var a = i.Net("a") ?? throw new System.InvalidOperationException("MaskedFill(a, mask, value) without a");
        var mask = i.Net("mask") ?? throw new System.InvalidOperationException("MaskedFill(a, mask, value) without mask");
        if (mask.DType == "int64")
        {
            return LayerOutcome.Fail(Descriptors.TypedInputUse, i.Source, mask.From, mask.DTypeText);
        }
        var joint = TensorShapes.Broadcast(a.Dims, mask.Dims, out string why);
        if (joint is null || !joint.Value.SequenceEqual(a.Dims))
        {
            if (joint is not null)
            {
                why = mask.Dims.Length > a.Dims.Length ? "the mask has more dimensions" : "the mask would enlarge the value";
            }
            return LayerOutcome.Fail(Descriptors.MaskedFillMask, i.Source, mask.Text, mask.From, a.Text, a.From, why);
        }
        return TensorShapes.Outcome(Name, a.Dims, a.IsSymbolic || mask.IsSymbolic, TensorShapes.Count(a.Dims))
            .With("value", i.Args.Number("value"));
    }

    private static string FillValue(GraphNode node)
        => ElementwiseOp.Literal((float)double.Parse(node.Attr("value"), CultureInfo.InvariantCulture));

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"device.MaskedFill({c.X(node, 0)}, {c.X(node, 1)}, {FillValue(node)}, {y}, accumulate: false);");
    }

    /// <summary>ONNX's Where(mask != 0, value, a), the mask aligned per sample; an infinite value has no float literal there and is refused.</summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        double value = double.Parse(node.Attr("value"), CultureInfo.InvariantCulture);
        if (double.IsInfinity(value))
        {
            c.Refuse(node);
            return;
        }
        string mask = ElementwiseOp.Aligned(c, node, 1, node.Dims.Count, "mask");
        string condition = c.Temp(node, "condition"), fill = c.Temp(node, "fill");
        c.Node("Cast", new[] { mask }, condition, c.Int("to", 9));
        c.Fill(fill, value);
        c.Node("Where", new[] { condition, fill, c.X(node, 0) }, c.Y(node));
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        if (c.Plan.HasGradient(input))
        {
            bool accumulate = c.Accumulate(input.Id);
            c.Guarded($"device.MaskedFill({c.Dy(node)}, {c.X(node, 1)}, 0f, {c.Dx(node)}, accumulate: {Names.Bool(accumulate)});", node.Id, input.Id);
        }
        // The output is piecewise constant in a computed float mask: its gradient is zero (a first contribution writes it).
        var mask = c.Input(node, 1);
        if (node.Inputs[1] != node.Inputs[0] && c.Plan.HasGradient(mask) && !c.Accumulate(mask.Id))
        {
            c.Guarded($"device.Fill({c.Dx(node, 1)}, 0f);", node.Id, mask.Id);
        }
    }
}
