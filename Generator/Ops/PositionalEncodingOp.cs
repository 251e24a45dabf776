using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>PositionalEncoding(maxLen, dropout:)</c>: the sinusoidal table of Vaswani et al. (section 3.5) added to [N,T,d], then
/// dropout: PE(pos,2i) = sin(pos/10000^(2i/d)), PE(pos,2i+1) = cos(pos/10000^(2i/d)). No parameters; the table is a buffer of
/// its runtime object (<c>Dsl.PositionalEncodingState</c>), which refuses a T beyond maxLen when <c>Forward</c> runs (a fixed
/// T beyond it is refused here).
/// </summary>
internal sealed class PositionalEncodingOp : Op
{
    public const string Name = "PositionalEncoding";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    /// <summary>Backward reads only the dropout mask its state keeps.</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override LayerOutcome Infer(LayerInput i)
    {
        if (TransformerRules.CheckInput(i, out var dims) is { } bad)
        {
            return bad;
        }
        long maxLen = i.Args.Int("maxLen");
        double dropout = i.Args.Number("dropout");
        if (maxLen < 1)
        {
            return LayerRules.Invalid(i, $"maxLen must be positive, got {maxLen}");
        }
        if (TransformerRules.CheckDropout(i, dropout) is { } error)
        {
            return error;
        }
        if (dims[0].IsConstant && dims[0].Constant > maxLen)
        {
            return LayerRules.Mismatch(i, $"[N,T,{dims[1]}] with T <= {maxLen}");
        }
        return new LayerOutcome { Op = Name, Shape = LayerRules.Long(i.Shape), Flops = checked(2 * LayerRules.Elements(i.Shape)), Dims = i.Dims }
            .With("maxLen", maxLen).With("d", dims[1].Constant).With("dropout", dropout);
    }

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        yield return new BufferDecl(TransformerRules.Field(node, "positions"), "global::Dsl.PositionalEncodingState",
            $"new global::Dsl.PositionalEncodingState(device, {node.Attr("maxLen")}, {node.Attr("d")}, {Names.FloatAttr(node, "dropout")})",
            "the sinusoid table [maxLen, d] and the dropout mask");
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"{TransformerRules.Field(node, "positions")}.Forward({c.X(node)}, _trainingForward, DropoutSeed({node.Id}), {y}, NetworkName);");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        c.Guarded($"{TransformerRules.Field(node, "positions")}.Backward({c.Dy(node)}, {c.Dx(node)}, accumulate: {Names.Bool(accumulate)});", node.Id, input.Id);
    }
}
