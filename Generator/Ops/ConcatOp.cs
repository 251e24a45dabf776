using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// Concatenation along one per-sample axis: the combinator <c>Concat(branches...)</c> joins along channels
/// ([C1,H,W] ++ [C2,H,W] -> [C1+C2,H,W]; the expander checks the branches), the value function <c>Concat(a, b, dim: -1)</c>
/// along any dimension, symbols included (its shape rule is <see cref="Infer"/>). Forward copies each input into its
/// slice, viewing every value as [outer, axis, inner]; backward reads the slices back.
/// </summary>
internal sealed class ConcatOp : Op
{
    public const string Name = "Concat";

    /// <summary>The per-sample axis joined (absent for the combinator: channels, axis 0).</summary>
    public const string AxisAttr = "axis";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    /// <summary>Backward reads slices of dy only.</summary>
    /// <summary>Sample by sample, along a per-sample axis.</summary>
    public override bool RunsOnRowParts(GraphNode node) => true;

    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    /// <summary><c>Concat(a, b, dim)</c>: every dimension but <c>dim</c> equal (symbols exactly), <c>dim</c> summed.</summary>
    public override LayerOutcome Infer(LayerInput i)
    {
        var a = i.Net("a") ?? throw new System.InvalidOperationException("Concat(a, b) without a");
        var b = i.Net("b") ?? throw new System.InvalidOperationException("Concat(a, b) without b");
        if (b.DType != NetArg.Float32)
        {
            return LayerOutcome.Fail(Descriptors.TypedInputUse, i.Source, b.From, b.DTypeText);
        }
        long rank = a.Dims.Length + 1;
        long dim = i.Args.Int("dim");
        long axis = (dim < 0 ? dim + rank : dim) - 1;
        if (axis < 0 || axis >= a.Dims.Length)
        {
            return LayerRules.Invalid(i, $"dim must name a dimension of {a.Text} other than the batch: 1..{rank - 1} or {-(rank - 1)}..-1, got {dim}");
        }
        bool agree = a.Dims.Length == b.Dims.Length && a.Dims.Where((d, k) => k != axis && !d.Equals(b.Dims[k])).Count() == 0;
        if (!agree)
        {
            return LayerOutcome.Fail(Descriptors.ConcatDimMismatch, i.Source, "dimension " + LayerRules.Text(dim), a.Text, a.From, b.Text, b.From);
        }
        var dims = a.Dims.SetItem((int)axis, a.Dims[(int)axis] + b.Dims[(int)axis]);
        bool symbolic = a.IsSymbolic || b.IsSymbolic;
        return new LayerOutcome
        {
            Op = Name,
            Shape = dims.Select(d => d.IsConstant ? d.Constant : 1L).ToImmutableArray(),
            Dims = symbolic ? dims : default,
        }.With(AxisAttr, axis);
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        var g = Geometry(c.Plan, node);
        Dim offset = Dim.Of(0);
        for (int i = 0; i < node.Inputs.Count; i++)
        {
            var count = Along(c.Input(node, i), g.Axis);
            c.Line($"device.CopyChannels({c.X(node, i)}, srcChannels: {count.Code}, srcOffset: 0, {y}, dstChannels: {g.Total.Code}, dstOffset: {offset.Code}, "
                + $"count: {count.Code}, {g.Outer}, spatial: {g.Inner}, accumulate: false);");
            offset += count;
        }
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var g = Geometry(c.Plan, node);
        Dim offset = Dim.Of(0);
        for (int i = 0; i < node.Inputs.Count; i++)
        {
            var branch = c.Input(node, i);
            var count = Along(branch, g.Axis);
            bool accumulate = c.Accumulate(branch.Id);
            c.Guarded($"device.CopyChannels({c.Dy(node)}, srcChannels: {g.Total.Code}, srcOffset: {offset.Code}, {c.Dx(node, i)}, dstChannels: {count.Code}, dstOffset: 0, "
                + $"count: {count.Code}, {g.Outer}, spatial: {g.Inner}, accumulate: {Names.Bool(accumulate)});", node.Id, branch.Id);
            offset += count;
        }
    }

    private static Dim Along(GraphNode node, int axis) => node.Dims[axis];

    /// <summary>
    /// The output viewed as [outer, axis, inner]: outer counts the batch and the dimensions before the axis (<c>n</c>,
    /// <c>n * dimT</c>), inner those after it (H*W for images); both as generated code.
    /// </summary>
    private static (int Axis, Dim Total, string Outer, string Inner) Geometry(Plan plan, GraphNode node)
    {
        int axis = node.HasAttr(AxisAttr) ? node.IntAttr(AxisAttr) : 0;
        var dims = node.Dims;
        return (axis, dims[axis], Names.Product("n", dims.Take(axis)), Names.Product(null, dims.Skip(axis + 1)));
    }

    /// <summary>ONNX's <c>Concat</c> along the joined axis counting the batch (1, the channels, for the combinator).</summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        var branches = new System.Collections.Generic.List<string?>();
        for (int i = 0; i < node.Inputs.Count; i++)
        {
            branches.Add(c.X(node, i));
        }
        int axis = node.HasAttr(AxisAttr) ? node.IntAttr(AxisAttr) : 0;
        c.Node("Concat", branches, c.Y(node), c.Int("axis", axis + 1));
    }
}
