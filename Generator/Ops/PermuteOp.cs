using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>Permute(a, 0, 2, 1, 3)</c> (<c>x.permute</c>): reorders the per-sample dimensions, symbols moving with them, into a
/// buffer of its own (<c>Device.PermuteSamples</c>, a strided gather); backward applies the inverse permutation to the
/// gradient. Attribute <c>perm</c>: the per-sample permutation (output dimension k is input dimension perm[k]).
/// </summary>
internal sealed class PermuteOp : Op
{
    public const string Name = "Permute";
    public const string PermAttr = "perm";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override LayerOutcome Infer(LayerInput i)
    {
        var a = i.Net("a") ?? throw new System.InvalidOperationException("Permute(a, dims) without a");
        var dims = i.Args.Ints("dims");
        int rank = a.Dims.Length;
        string written = string.Join(", ", dims);
        var normalised = dims.Select(d => d < 0 ? d + rank + 1 : d).ToList();
        bool valid = normalised.Count == rank + 1 && normalised[0] == 0
            && normalised.OrderBy(d => d).SequenceEqual(Enumerable.Range(0, rank + 1));
        if (!valid)
        {
            return LayerOutcome.Fail(Descriptors.NotAPermutation, i.Source, written, LayerRules.Text(rank + 1), a.Text, a.From, LayerRules.Text(rank));
        }
        var perm = normalised.Skip(1).Select(d => d - 1).ToList();
        var result = perm.Select(p => a.Dims[p]).ToList();
        return TensorShapes.Outcome(Name, result, a.IsSymbolic).With(PermAttr, string.Join(" ", perm));
    }

    private static int[] Perm(GraphNode node) => node.Attr(PermAttr).Split(' ').Select(int.Parse).ToArray();

    private static string Literal(int[] perm) => "new int[] { " + string.Join(", ", perm) + " }";

    public override System.Collections.Generic.IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        var perm = Perm(node);
        var inverse = new int[perm.Length];
        for (int k = 0; k < perm.Length; k++)
        {
            inverse[perm[k]] = k;
        }
        yield return new BufferDecl(Names.Field(Names.Value(node) + "_perm"), "int[]", Literal(perm), "the per-sample permutation");
        yield return new BufferDecl(Names.Field(Names.Value(node) + "_inverse"), "int[]", Literal(inverse), "its inverse, for the gradient");
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"device.PermuteSamples({c.X(node)}, {Names.Field(Names.Value(node) + "_perm")}, {y}, accumulate: false);");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        if (!c.Plan.HasGradient(input))
        {
            return;
        }
        bool accumulate = c.Accumulate(input.Id);
        c.Guarded($"device.PermuteSamples({c.Dy(node)}, {Names.Field(Names.Value(node) + "_inverse")}, {c.Dx(node)}, accumulate: {Names.Bool(accumulate)});", node.Id, input.Id);
    }

    /// <summary>ONNX's <c>Transpose</c> with the batch first.</summary>
    public override void Export(ExportContext c, GraphNode node)
        => c.Node("Transpose", new[] { c.X(node) }, c.Y(node), c.Ints("perm", new long[] { 0 }.Concat(Perm(node).Select(p => (long)p + 1)).ToArray()));
}
