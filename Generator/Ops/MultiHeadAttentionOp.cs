using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>MultiHeadAttention(heads, dropout:, bias:, memory:, keyPadding:, causal:)</c>: PyTorch's
/// <c>nn.MultiheadAttention(d, heads, batch_first=True)</c> with the input as the queries and the memory (the input itself
/// when none is given) as keys and values: [N,T,d] (and [N,S,d]) -> [N,T,d]. Parameters <c>in_proj_weight</c> [3d,d],
/// <c>in_proj_bias</c> [3d], <c>out_proj.weight</c> [d,d], <c>out_proj.bias</c> [d], PyTorch's init.
/// https://pytorch.org/docs/1.13/generated/torch.nn.MultiheadAttention.html
/// </summary>
/// <remarks>
/// The op emits one call to its runtime object (<c>Dsl.MultiHeadAttentionState</c>), which owns the projections, the heads and
/// what backward reads; the fused kernel runs unless dropout on the weights is on in training (see that class).
/// Inputs by position: the input, then the memory and the key-padding mask when given (the C# parameters' order).
/// </remarks>
internal sealed class MultiHeadAttentionOp : Op
{
    public const string Name = "MultiHeadAttention";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    /// <summary>Backward reads the input and the memory (the projections' weight gradients); the key mask is kept by the state.</summary>
    public override Keeps BackwardReads(GraphNode node)
        => TransformerRules.InputAndMemory(node);

    public override LayerOutcome Infer(LayerInput i)
    {
        if (TransformerRules.CheckInput(i, out var dims) is { } bad)
        {
            return bad;
        }
        long d = dims[1].Constant, heads = i.Args.Int("heads");
        double dropout = i.Args.Number("dropout");
        bool causal = i.Args.Bool("causal");
        var memory = i.Net("memory");
        var memoryError = TransformerRules.CheckMemory(i, memory, d, dims[0], out var s);
        var error = TransformerRules.CheckHeads(i, d, heads) ?? TransformerRules.CheckDropout(i, dropout) ?? memoryError;
        if (error is not null)
        {
            return error;
        }
        string keysText = memory?.Text ?? i.Received, keysFrom = memory?.From ?? i.From;
        error = TransformerRules.CheckKeyPadding(i, "keyPadding", s, keysText, keysFrom)
            ?? TransformerRules.CheckCausal(i, causal, dims[0], s, keysText, keysFrom);
        if (error is not null)
        {
            return error;
        }
        long tc = dims[0].IsConstant ? dims[0].Constant : 1, sc = s.IsConstant ? s.Constant : 1;
        bool bias = i.Args.Bool("bias");
        var o = new LayerOutcome
        {
            Op = Name,
            Shape = ImmutableArray.Create(tc, d),
            NamePrefix = "mha",
            Flops = TransformerRules.AttentionFlops(tc, sc, d),
            Dims = i.IsSymbolic || memory is { IsSymbolic: true } || i.Nets.Any(n => n.IsSymbolic) ? dims : default,
        };
        TransformerRules.AttentionParams(o, "", d, bias);
        return o.With("d", d).With("heads", heads).With("dropout", dropout).With("causal", causal);
    }

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        yield return new BufferDecl(TransformerRules.Field(node, "mha"), "global::Dsl.MultiHeadAttentionState",
            $"new global::Dsl.MultiHeadAttentionState(device, {node.Attr("d")}, {node.Attr("heads")}, {Names.FloatAttr(node, "dropout")}, causal: {node.Attr("causal")})",
            "projections, heads and what backward reads, sized by the batch");
        // The weights [N,heads,T,S] for display, computed when read: the fused kernel keeps none.
        yield return new BufferDecl(TransformerRules.Field(node, "readout"), "global::Dsl.Readout",
            $"AddReadout({Names.Literal(node.Name + ".weights")}, {TransformerRules.Field(node, "mha")}.Weights)");
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"{TransformerRules.Field(node, "mha")}.Forward({c.X(node)}, {TransformerRules.NetOrNull(c.Net(node, "memory"))}, "
            + $"{TransformerRules.NetOrNull(c.Net(node, "keyPadding"))}, _trainingForward, DropoutSeed({node.Id}), "
            + $"{TransformerRules.Member(node, "in_proj_weight", "Value")}, {TransformerRules.Member(node, "in_proj_bias", "Value")}, "
            + $"{TransformerRules.Member(node, "out_proj.weight", "Value")}, {TransformerRules.Member(node, "out_proj.bias", "Value")}, {y});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        string memory = "null", dMemory = "null";
        bool accumulateMemory = false;
        if (c.NetNode(node, "memory") is { } memoryNode)
        {
            memory = c.Net(node, "memory")!;
            dMemory = c.Plan.HasGradient(memoryNode) ? c.Grad(memoryNode.Id) : "null";
            accumulateMemory = c.Plan.HasGradient(memoryNode) && c.Accumulate(memoryNode.Id);
        }
        c.Line($"{TransformerRules.Field(node, "mha")}.Backward({c.X(node)}, {memory}, {TransformerRules.Member(node, "in_proj_weight", "Value")}, "
            + $"{TransformerRules.Member(node, "out_proj.weight", "Value")}, {c.Dy(node)}, {c.Dx(node)}, {Names.Bool(accumulate)}, {dMemory}, {Names.Bool(accumulateMemory)}, "
            + $"{TransformerRules.TrainedGrad(node, "in_proj_weight")}, {TransformerRules.TrainedGrad(node, "in_proj_bias")}, "
            + $"{TransformerRules.TrainedGrad(node, "out_proj.weight")}, {TransformerRules.TrainedGrad(node, "out_proj.bias")});");
    }

    /// <summary>ONNX: the projections, heads, masks, softmax and output projection (<see cref="TransformerExport.Attention"/>).</summary>
    public override void Export(ExportContext c, GraphNode node)
        => TransformerExport.Attention(c, node, "mha", "", c.X(node), c.Net(node, "memory") ?? c.X(node), c.Net(node, "keyPadding"), node.Attr("causal") == "true", c.Y(node));
}
