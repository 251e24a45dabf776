using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>Slice(a, dim, start, end)</c> (<c>x.narrow(dim, start, end - start)</c>): positions [start, end) of a per-sample
/// dimension of fixed size (the others may be symbols). Forward copies the slice viewing the value as [outer, D, inner]
/// (<c>Device.CopyChannels</c>, as <see cref="ConcatOp"/>); backward writes dy into the slice of a zeroed dx (or adds it).
/// Attributes: <c>axis</c> (per-sample), <c>start</c>, <c>length</c>.
/// </summary>
internal sealed class SliceOp : Op
{
    public const string Name = "Slice";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override LayerOutcome Infer(LayerInput i)
    {
        var a = i.Net("a") ?? throw new System.InvalidOperationException("Slice(a, ...) without a");
        int rank = a.Dims.Length;
        long dim = i.Args.Int("dim"), start = i.Args.Int("start"), end = i.Args.Int("end");
        int axis = TensorShapes.Axis(dim, rank);
        if (axis < 0)
        {
            return LayerOutcome.Fail(Descriptors.DimOutOfRange, i.Source, LayerRules.Text(dim), a.Text, a.From, TensorShapes.Range(rank));
        }
        var size = a.Dims[axis];
        if (!size.IsConstant)
        {
            return LayerOutcome.Fail(Descriptors.SymbolicSize, i.Source, $"the sliced dimension {dim}", a.Text, a.From, size.ToString());
        }
        long from = start < 0 ? start + size.Constant : start, to = end < 0 ? end + size.Constant : end;
        if (from < 0 || to > size.Constant || from >= to)
        {
            return LayerOutcome.Fail(Descriptors.SliceRange, i.Source, LayerRules.Text(start), LayerRules.Text(end), LayerRules.Text(dim), a.Text, a.From, size.ToString());
        }
        var dims = a.Dims.SetItem(axis, Dim.Of(to - from));
        return TensorShapes.Outcome(Name, dims, a.IsSymbolic).With("axis", axis).With("start", from).With("length", to - from);
    }

    /// <summary>The input viewed as [outer, D, inner] as code: outer counts the batch and the dimensions before the axis.</summary>
    private static (string Outer, string Inner, long Size) Geometry(GraphNode input, GraphNode node)
    {
        int axis = node.IntAttr("axis");
        var d = input.Dims.Items;
        return (Names.Product("n", d.Take(axis)), Names.Product(null, d.Skip(axis + 1)), d[axis].Constant);
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        var g = Geometry(c.Input(node), node);
        string length = node.Attr("length");
        c.Line($"device.CopyChannels({c.X(node)}, srcChannels: {g.Size}, srcOffset: {node.Attr("start")}, {y}, dstChannels: {length}, dstOffset: 0, "
            + $"count: {length}, {g.Outer}, spatial: {g.Inner}, accumulate: false);");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        if (!c.Plan.HasGradient(input))
        {
            return;
        }
        var g = Geometry(input, node);
        string length = node.Attr("length");
        bool accumulate = c.Accumulate(input.Id);
        string copy = $"device.CopyChannels({c.Dy(node)}, srcChannels: {length}, srcOffset: 0, {c.Dx(node)}, dstChannels: {g.Size}, dstOffset: {node.Attr("start")}, "
            + $"count: {length}, {g.Outer}, spatial: {g.Inner}, accumulate: true);";
        // The first contribution zeroes the positions outside the slice; a later one only adds inside it.
        c.Guarded(accumulate ? copy : $"{{ device.Fill({c.Dx(node)}, 0f); {copy} }}", node.Id, input.Id);
    }

    /// <summary>ONNX's <c>Slice</c> along the axis counting the batch.</summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        long start = long.Parse(node.Attr("start"), System.Globalization.CultureInfo.InvariantCulture);
        long length = long.Parse(node.Attr("length"), System.Globalization.CultureInfo.InvariantCulture);
        string starts = c.Temp(node, "starts"), ends = c.Temp(node, "ends"), axes = c.Temp(node, "axes");
        c.Int64s(starts, start);
        c.Int64s(ends, start + length);
        c.Int64s(axes, node.IntAttr("axis") + 1);
        c.Node("Slice", new[] { c.X(node), starts, ends, axes }, c.Y(node));
    }
}
