using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>View</c>/<c>Reshape</c> (one -1 inferred; the element count must match, symbols included), <c>Squeeze</c> and
/// <c>Unsqueeze</c>: the same elements with another per-sample shape, a view of the input (a <c>ViewSlot</c>, as
/// <see cref="FlattenOp"/>); backward hands the gradient on, an alias of the same memory when the planner allows it.
/// </summary>
internal sealed class ReshapeOp : Op
{
    public const string Name = "View";

    public override string Key => Name;

    public override IEnumerable<string> Calls => new[] { "View", "Reshape", "Squeeze", "Unsqueeze" };

    public override bool TakesSymbols => true;

    public override ValueStorage Value => ValueStorage.ViewOfInput;

    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override bool PassesGradient => true;

    public override LayerOutcome Infer(LayerInput i)
    {
        var a = i.Net("a") ?? throw new System.InvalidOperationException($"{i.Layer}(a, ...) without a");
        var dims = a.Dims;
        int rank = dims.Length;
        List<Dim> result;
        switch (i.Layer)
        {
            case "Squeeze":
            {
                long dim = i.Args.Int("dim");
                int axis = TensorShapes.Axis(dim, rank);
                if (axis < 0)
                {
                    return LayerOutcome.Fail(Descriptors.DimOutOfRange, i.Source, LayerRules.Text(dim), a.Text, a.From, TensorShapes.Range(rank));
                }
                if (!TensorShapes.IsOne(dims[axis]))
                {
                    return LayerOutcome.Fail(Descriptors.SqueezeNotOne, i.Source, LayerRules.Text(dim), a.Text, a.From, dims[axis].ToString());
                }
                if (rank == 1)
                {
                    return LayerOutcome.Fail(Descriptors.DimOutOfRange, i.Source, LayerRules.Text(dim), a.Text, a.From, "a value keeps at least one dimension besides the batch");
                }
                result = dims.RemoveAt(axis).ToList();
                break;
            }
            case "Unsqueeze":
            {
                long dim = i.Args.Int("dim");
                int axis = TensorShapes.Axis(dim, rank, extra: 1);
                if (axis < 0)
                {
                    return LayerOutcome.Fail(Descriptors.DimOutOfRange, i.Source, LayerRules.Text(dim), a.Text, a.From, TensorShapes.Range(rank, extra: 1));
                }
                result = dims.Insert(axis, Dim.Of(1)).ToList();
                break;
            }
            default:
            {
                var raw = i.Args.Raw("shape");
                var target = new List<Dim?>();
                for (int k = 0; k < raw.Ints.Count; k++)
                {
                    string symbol = raw.Symbols.Count <= k ? "" : raw.Symbols[k];
                    int size = raw.Ints[k];
                    target.Add(symbol.Length > 0 ? Dim.Symbol(symbol) : size == -1 ? null : Dim.Of(size));
                }
                string wanted = "[N," + string.Join(",", target.Select(d => d?.ToString() ?? "-1")) + "]";
                if (target.Count == 0)
                {
                    return LayerOutcome.Fail(Descriptors.ViewCount, i.Source, a.Text, a.From, wanted, "give at least one per-sample size (the batch is kept)");
                }
                if (target.Count(d => d is null) > 1)
                {
                    return LayerOutcome.Fail(Descriptors.ViewCount, i.Source, a.Text, a.From, wanted, "only one size may be -1");
                }
                var bad = target.FirstOrDefault(d => d is not null && d.IsConstant && d.Constant < 1);
                if (bad is not null)
                {
                    return LayerOutcome.Fail(Descriptors.ViewCount, i.Source, a.Text, a.From, wanted, $"size {bad} is not positive (only -1 is inferred)");
                }
                var have = TensorShapes.Product.Of(dims);
                var known = TensorShapes.Product.Of(target.Where(d => d is not null)!);
                if (target.Any(d => d is null))
                {
                    var inferred = have.Over(known);
                    if (inferred is null || inferred.IsConstant && inferred.Constant < 1)
                    {
                        return LayerOutcome.Fail(Descriptors.ViewCount, i.Source, a.Text, a.From, wanted,
                            $"{have} elements per sample are not a multiple of {known}, so -1 cannot be inferred");
                    }
                    target[target.FindIndex(d => d is null)] = inferred;
                }
                else if (!have.SameAs(known))
                {
                    return LayerOutcome.Fail(Descriptors.ViewCount, i.Source, a.Text, a.From, wanted,
                        $"it has {have} elements per sample but the shape holds {known}");
                }
                result = target.Select(d => d!).ToList();
                break;
            }
        }
        return TensorShapes.Outcome(Name, result, a.IsSymbolic);
    }

    public override BufferDecl? ValueSlot(Plan plan, GraphNode node)
        => new(Names.Field(Names.Value(node)), "global::Dsl.ViewSlot",
            node.IsSymbolic ? "new global::Dsl.ViewSlot()" : $"new global::Dsl.ViewSlot({Names.Shape(node.Shape)})");

    public override string FetchValue(Plan plan, GraphNode node) => Names.Field(Names.Value(node)) + ".Current";

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Y(node);
        string sizes = node.IsSymbolic ? ", " + string.Join(", ", node.Dims.Select(d => d.Code)) : "";
        c.Line($"var {y} = {Names.Field(y)}.Of({c.X(node)}{sizes});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        if (!c.Plan.HasGradient(input))
        {
            return;
        }
        bool accumulate = c.Accumulate(input.Id);
        if (c.Plan.Memory.GradientAlias(node, 0))
        {
            c.Line($"// {c.Dx(node)} is the memory of {c.Dy(node)}: nothing to copy.");
            return;
        }
        c.Guarded($"device.PassGradient({c.Dy(node)}, {c.Dx(node)}, accumulate: {Names.Bool(accumulate)});", node.Id, input.Id);
    }

    /// <summary>
    /// ONNX's <c>Reshape</c> to [0, sizes...] (0 keeps the batch), a symbolic size as -1 (inferred); a shape with two
    /// symbolic sizes has no such form and is refused.
    /// </summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        if (node.Dims.Count(d => !d.IsConstant) > 1)
        {
            c.Refuse(node);
            return;
        }
        string shape = c.Temp(node, "shape");
        c.Int64s(shape, new long[] { 0 }.Concat(node.Dims.Select(d => d.IsConstant ? d.Constant : -1L)).ToArray());
        c.Node("Reshape", new[] { c.X(node), shape }, c.Y(node));
    }
}
