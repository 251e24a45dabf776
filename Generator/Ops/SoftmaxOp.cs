using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>Softmax</c> and <c>LogSoftmax</c> over the last dimension, any shape; the value functions <c>SoftmaxDim(a, dim)</c> and
/// <c>LogSoftmaxDim(a, dim)</c> over any per-sample dimension (counting the batch, negative from the end). Over the last
/// dimension the rows are contiguous; over another (attribute <c>axis</c>) the value is swapped so that dimension is last,
/// normalised there and swapped back (<c>Device.SwapAxes</c>), and the swapped output is kept in a buffer for backward.
/// </summary>
internal sealed class SoftmaxOp : Op
{
    public const string Name = "Softmax";
    public const string AxisAttr = "axis";

    public override string Key => Name;

    /// <summary>Backward reads y only (over another dimension, its swapped copy, a buffer of the op).</summary>
    /// <summary>Over the last axis, row by row; the other axes go through swap buffers not fetched per part.</summary>
    public override bool RunsOnRowParts(GraphNode node) => !node.HasAttr(AxisAttr);

    public override Keeps BackwardReads(GraphNode node) => node.HasAttr(AxisAttr) ? Keeps.Nothing : Keeps.TheOutput;

    public override IEnumerable<string> Calls => new[] { "Softmax", "LogSoftmax", "SoftmaxDim", "LogSoftmaxDim" };

    public override bool TakesSymbols => true;

    public override LayerOutcome Infer(LayerInput i)
    {
        bool log = i.Layer is "LogSoftmax" or "LogSoftmaxDim";
        if (i.Layer is "SoftmaxDim" or "LogSoftmaxDim")
        {
            var a = i.Net("a") ?? throw new System.InvalidOperationException($"{i.Layer}(a, dim) without a");
            long dim = i.Args.Int("dim");
            int axis = TensorShapes.Axis(dim, a.Dims.Length);
            if (axis < 0)
            {
                return LayerOutcome.Fail(Descriptors.DimOutOfRange, i.Source, LayerRules.Text(dim), a.Text, a.From, TensorShapes.Range(a.Dims.Length));
            }
            var outcome = TensorShapes.Outcome(Name, a.Dims, a.IsSymbolic, checked(3 * TensorShapes.Count(a.Dims))).With("log", log);
            return axis == a.Dims.Length - 1 ? outcome : outcome.With(AxisAttr, axis);
        }
        if (i.Shape.Length < 1)
        {
            return LayerRules.Mismatch(i, "[N,...,C]");
        }
        return new LayerOutcome { Op = Name, Shape = LayerRules.Long(i.Shape), Flops = checked(3 * LayerRules.Elements(i.Shape)), Dims = i.Dims }
            .With("log", log);
    }

    /// <summary>Over another dimension: the swapped input (then dy), the swapped output kept for backward, and the swapped dx.</summary>
    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        if (!node.HasAttr(AxisAttr))
        {
            yield break;
        }
        foreach (var (suffix, what) in new[] { ("_swapped", "the value (then its gradient) with the softmax dimension last"),
            ("_swappedY", "the output with the softmax dimension last, kept for backward"), ("_swappedDx", "the input's gradient with the softmax dimension last") })
        {
            yield return new BufferDecl(Names.Field(Names.Value(node) + suffix), "global::Dsl.SymbolicSlot", "new global::Dsl.SymbolicSlot(device)", what, node.Elements);
        }
    }

    /// <summary>The dimensions with the softmax axis swapped with the last, and SwapAxes' arguments for a source of <paramref name="dims"/>.</summary>
    private static (List<Dim> Swapped, string Sizes) Swap(IReadOnlyList<Dim> dims, int axis)
    {
        int last = dims.Count - 1;
        var swapped = dims.ToList();
        swapped[axis] = dims[last];
        swapped[last] = dims[axis];
        string sizes = $"outer: {Names.Product("n", dims.Take(axis))}, a: {dims[axis].Code}, mid: {Names.Product(null, dims.Skip(axis + 1).Take(last - axis - 1))}, "
            + $"b: {dims[last].Code}, inner: 1";
        return (swapped, sizes);
    }

    private static string Buffer(GraphNode node, string suffix, IEnumerable<Dim> dims)
        => $"{Names.Field(Names.Value(node) + suffix)}.Rows(n, {string.Join(", ", dims.Select(d => d.Code))})";

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        if (!node.HasAttr(AxisAttr))
        {
            c.Line($"device.Softmax({c.X(node)}, {y}, log: {node.Attr("log")});");
            return;
        }
        var dims = node.Dims.Items;
        var (swapped, sizes) = Swap(dims, node.IntAttr(AxisAttr));
        var (_, back) = Swap(swapped, node.IntAttr(AxisAttr));
        string t = Names.Value(node) + "_swapped", ty = Names.Value(node) + "_swappedY";
        c.Line($"var {t} = {Buffer(node, "_swapped", swapped)};");
        c.Line($"var {ty} = {Buffer(node, "_swappedY", swapped)};");
        c.Line($"device.SwapAxes({c.X(node)}, {t}, {sizes}, accumulate: false);");
        c.Line($"device.Softmax({t}, {ty}, log: {node.Attr("log")});");
        c.Line($"device.SwapAxes({ty}, {y}, {back}, accumulate: false);");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        if (!c.Plan.HasGradient(input))
        {
            return;
        }
        bool accumulate = c.Accumulate(input.Id);
        if (!node.HasAttr(AxisAttr))
        {
            c.Guarded($"device.SoftmaxBackward({c.Y(node)}, {c.Dy(node)}, {c.Dx(node)}, log: {node.Attr("log")}, accumulate: {Names.Bool(accumulate)});",
                node.Id, input.Id);
            return;
        }
        var dims = node.Dims.Items;
        var (swapped, sizes) = Swap(dims, node.IntAttr(AxisAttr));
        var (_, back) = Swap(swapped, node.IntAttr(AxisAttr));
        string t = c.Fetch(Names.Value(node) + "_swapped", Buffer(node, "_swapped", swapped));
        string ty = c.Fetch(Names.Value(node) + "_swappedY", Buffer(node, "_swappedY", swapped));
        string tdx = c.Fetch(Names.Value(node) + "_swappedDx", Buffer(node, "_swappedDx", swapped));
        c.Guarded($"{{ device.SwapAxes({c.Dy(node)}, {t}, {sizes}, accumulate: false); "
            + $"device.SoftmaxBackward({ty}, {t}, {tdx}, log: {node.Attr("log")}, accumulate: false); "
            + $"device.SwapAxes({tdx}, {c.Dx(node)}, {back}, accumulate: {Names.Bool(accumulate)}); }}", node.Id, input.Id);
    }

    /// <summary>ONNX's <c>Softmax</c> or <c>LogSoftmax</c> over the axis counting the batch (opset 13 and later: one axis, not a flattened tail).</summary>
    public override void Export(ExportContext c, GraphNode node)
        => c.Node(node.Attr("log") == "true" ? "LogSoftmax" : "Softmax", new[] { c.X(node) }, c.Y(node),
            c.Int("axis", node.HasAttr(AxisAttr) ? node.IntAttr(AxisAttr) + 1 : -1));
}
