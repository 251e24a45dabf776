using System.Collections.Generic;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>nn.Embedding</c> on int64 token ids: [T] -> [T, dim] (any ids shape, a dimension appended). Weight [num, dim] N(0, 1),
/// the padding row zeroed at construction and never given a gradient; <c>freeze: true</c> makes the table start frozen
/// (<c>Parameter.RequiresGrad</c> false), and a frozen table gets no gradient. An id outside [0, num) is refused at
/// Forward: the CPU kernel throws naming the position; a GPU records it in a status word that Forward reads.
/// </summary>
internal sealed class EmbeddingOp : Op
{
    public const string Name = "Embedding";

    public override string Key => Name;

    public override bool TakesTokens => true;

    public override bool TakesSymbols => true;

    /// <summary>Backward reads the ids.</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.FirstInput;

    public override LayerOutcome Infer(LayerInput i)
    {
        long num = i.Args.Int("num");
        long dim = i.Args.Int("dim");
        if (num <= 0 || dim <= 0)
        {
            return LayerRules.Invalid(i, $"the table needs a positive number of rows and a positive width, got num {num} and dim {dim}");
        }
        long padding = -1;
        if (i.Args.Has("paddingIdx"))
        {
            long given = i.Args.Int("paddingIdx");
            if (given < -num || given >= num)
            {
                return LayerRules.Invalid(i, $"paddingIdx must lie in [-{num}, {num}) (negative counts from the end, as in PyTorch), got {given}");
            }
            padding = given < 0 ? given + num : given;
        }
        var shape = LayerRules.Long(i.Shape).Add(dim);
        var o = new LayerOutcome
        {
            Op = Name,
            Shape = shape,
            NamePrefix = "embedding",
            Flops = 0,
            Dims = i.IsSymbolic ? i.Dims.Add(Dim.Of(dim)) : default,
        };
        o.Params.Add(("weight", new[] { num, dim }, "normal", 0));
        return o.With("num", num).With("dim", dim).With("padding", padding).With("freeze", i.Args.Bool("freeze"));
    }

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        yield return new BufferDecl(Names.Field(Status(node)), "global::Dsl.Tensor", "device.Allocate(global::Dsl.DType.Int32, 1)",
            "a GPU records the first out-of-range id here");
    }

    public override IEnumerable<string> Registrations(Plan plan, GraphNode node)
    {
        string weight = Names.Parameter(node.Params[0].Name);
        int padding = node.IntAttr("padding");
        if (padding >= 0)
        {
            yield return $"device.Fill({weight}.Value.Narrow({Names.Int(padding)}, 1), 0f); // the padding row starts at zero";
        }
        if (node.Attr("freeze") == "true")
        {
            yield return $"{weight}.RequiresGrad = false; // freeze: true";
        }
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        string weight = Names.ParamValue(node, "weight");
        string status = Names.Field(Status(node));
        c.Line($"device.Embedding({c.X(node)}, {weight}, {y}, {status});");
        c.Line($"device.ThrowIfEmbeddingFailed({c.X(node)}, {weight}, {status});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        // Ids have no gradient; a frozen table gets none either.
        string weight = Names.Parameter(node.Params[0].Name);
        c.Line($"if ({weight}.RequiresGrad) device.EmbeddingBackward({c.X(node)}, {c.Dy(node)}, {weight}.Grad, paddingIdx: {Names.Int(node.IntAttr("padding"))});");
    }

    private static string Status(GraphNode node) => Names.Value(node) + "_status";

    /// <summary>ONNX's <c>Gather</c> of the table's rows (axis 0) at the int64 ids: [N, T...] -> [N, T..., dim].</summary>
    public override void Export(ExportContext c, GraphNode node)
        => c.Node("Gather", new[] { c.Param(node, "weight"), c.X(node) }, c.Y(node), c.Int("axis", 0));
}
