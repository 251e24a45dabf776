using System.Collections.Immutable;
using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>Transpose(dim0, dim1)</c> (<c>torch.transpose</c>): swaps two per-sample dimensions, symbols included, copying into its
/// own buffer (the 1-D layers after it read contiguous [C, L]). Viewing x as [outer, A, mid, B, inner], y is
/// [outer, B, mid, A, inner]; backward swaps the gradient back.
/// </summary>
internal sealed class TransposeOp : Op
{
    public const string Name = "Transpose";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    /// <summary>Backward moves dy only.</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override LayerOutcome Infer(LayerInput i)
    {
        var dims = i.IsSymbolic ? i.Dims : i.Shape.Select(d => Dim.Of(d)).ToImmutableArray();
        long rank = dims.Length + 1;
        long d0 = i.Args.Int("dim0"), d1 = i.Args.Int("dim1");
        long a = (d0 < 0 ? d0 + rank : d0) - 1, b = (d1 < 0 ? d1 + rank : d1) - 1;
        if ((a < 0 || a >= dims.Length || b < 0 || b >= dims.Length) && i.Net("a") is { } value)
        {
            // The value-function form, Transpose(k, -2, -1), reports as the other tensor operations do.
            return LayerOutcome.Fail(Descriptors.DimOutOfRange, i.Source, $"{d0}, {d1}", value.Text, value.From, TensorShapes.Range(dims.Length));
        }
        if (a < 0 || a >= dims.Length || b < 0 || b >= dims.Length)
        {
            return LayerRules.Invalid(i, $"dim0 and dim1 must name dimensions of {i.Received} other than the batch: 1..{rank - 1} or {-(rank - 1)}..-1, got {d0} and {d1}");
        }
        var swapped = dims.SetItem((int)a, dims[(int)b]).SetItem((int)b, dims[(int)a]);
        return new LayerOutcome
        {
            Op = Name,
            Shape = swapped.Select(d => d.IsConstant ? d.Constant : 1L).ToImmutableArray(),
            Dims = i.IsSymbolic ? swapped : default,
        }.With("first", System.Math.Min(a, b)).With("second", System.Math.Max(a, b));
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"device.SwapAxes({c.X(node)}, {y}, {Sizes(c.Input(node).Dims, node)}, accumulate: false);");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        c.Guarded($"device.SwapAxes({c.Dy(node)}, {c.Dx(node)}, {Sizes(node.Dims, node)}, accumulate: {Names.Bool(accumulate)});", node.Id, input.Id);
    }

    /// <summary><c>outer: n, a: dimT, mid: 1, b: 128, inner: 1</c> for a source of dimensions <paramref name="dims"/>.</summary>
    private static string Sizes(EquatableArray<Dim> dims, GraphNode node)
    {
        int a = node.IntAttr("first"), b = node.IntAttr("second");
        var d = dims.Items;
        return $"outer: {Names.Product("n", d.Take(a))}, a: {d[a].Code}, mid: {Names.Product(null, d.Skip(a + 1).Take(b - a - 1))}, "
            + $"b: {d[b].Code}, inner: {Names.Product(null, d.Skip(b + 1))}";
    }

    /// <summary>ONNX's <c>Transpose</c> with the two axes (counting the batch) swapped in the identity permutation.</summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        int rank = node.Dims.Count + 1, a = node.IntAttr("first") + 1, b = node.IntAttr("second") + 1;
        var perm = Enumerable.Range(0, rank).Select(k => (long)(k == a ? b : k == b ? a : k)).ToArray();
        c.Node("Transpose", new[] { c.X(node) }, c.Y(node), c.Ints("perm", perm));
    }
}
