using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>TransformerEncoderLayer(heads, dimFeedforward:, dropout:, activation:, normFirst:, layerNormEps:, keyPadding:, causal:)</c>:
/// PyTorch's <c>nn.TransformerEncoderLayer(d, heads, batch_first=True)</c>, [N,T,d] -> [N,T,d] with d read from the input:
/// self-attention and a feed-forward block linear2(dropout(activation(linear1(x)))), each wrapped in dropout, a residual sum
/// and a LayerNorm after it (post-norm, PyTorch's default) or before the block (<c>normFirst</c>). Parameters with PyTorch's
/// names and init: <c>self_attn.in_proj_weight</c> [3d,d], <c>self_attn.in_proj_bias</c>, <c>self_attn.out_proj.weight</c>,
/// <c>self_attn.out_proj.bias</c>, <c>linear1.weight</c> [ff,d], <c>linear1.bias</c>, <c>linear2.weight</c> [d,ff],
/// <c>linear2.bias</c>, <c>norm1.weight</c>, <c>norm1.bias</c>, <c>norm2.weight</c>, <c>norm2.bias</c>.
/// https://pytorch.org/docs/1.13/generated/torch.nn.TransformerEncoderLayer.html
/// </summary>
/// <remarks>
/// One op emitting one call to its runtime object (<c>Dsl.TransformerLayerState</c>), which composes the device's kernels and
/// keeps the intermediates backward reads. <see cref="TransformerDecoderLayerOp"/> is the same op with cross-attention.
/// Inputs by position: the input, then the Net arguments given, in the C# parameters' order.
/// </remarks>
internal class TransformerEncoderLayerOp : Op
{
    public const string Name = "TransformerEncoderLayer";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    /// <summary>True for the decoder layer (cross-attention over a memory, norm3).</summary>
    protected virtual bool Decoder => false;

    /// <summary>Backward reads the input (and a decoder's memory); the layer's intermediates are kept by its state.</summary>
    public override Keeps BackwardReads(GraphNode node)
        => TransformerRules.InputAndMemory(node);

    public override LayerOutcome Infer(LayerInput i)
    {
        if (TransformerRules.CheckInput(i, out var dims) is { } bad)
        {
            return bad;
        }
        long d = dims[1].Constant, heads = i.Args.Int("heads"), ff = i.Args.Int("dimFeedforward");
        double dropout = i.Args.Number("dropout"), eps = i.Args.Number("layerNormEps");
        string? activation = i.Args.String("activation");
        bool causal = i.Args.Bool("causal");
        var memory = Decoder ? i.Net("memory") : null;
        if (Decoder && memory is null)
        {
            return LayerRules.Invalid(i, "a decoder layer attends to the encoder's output: give it as memory: (a value [N,S,d])");
        }
        var memoryError = TransformerRules.CheckMemory(i, memory, d, dims[0], out var s);
        var error = TransformerRules.CheckHeads(i, d, heads)
            ?? TransformerRules.CheckDropout(i, dropout)
            ?? (ff < 1 ? LayerRules.Invalid(i, $"dimFeedforward must be positive, got {ff}") : null)
            ?? (!(eps > 0) ? LayerRules.Invalid(i, $"layerNormEps must be positive, got {LayerArgs.Format(eps)}") : null)
            ?? (TransformerRules.Activation(activation) is null ? LayerRules.Invalid(i, $"activation must be \"relu\" or \"gelu\", got \"{activation}\"") : null)
            ?? memoryError
            ?? TransformerRules.CheckKeyPadding(i, "keyPadding", dims[0], i.Received, i.From)
            ?? (Decoder ? TransformerRules.CheckKeyPadding(i, "memoryKeyPadding", s, memory!.Text, memory.From) : null);
        if (error is not null)
        {
            return error;
        }
        long tc = dims[0].IsConstant ? dims[0].Constant : 1, sc = s.IsConstant ? s.Constant : 1;
        var o = new LayerOutcome
        {
            Op = Key,
            Shape = ImmutableArray.Create(tc, d),
            NamePrefix = Decoder ? "decoder" : "encoder",
            Flops = checked(TransformerRules.AttentionFlops(tc, tc, d) + (Decoder ? TransformerRules.AttentionFlops(tc, sc, d) : 0) + 4 * tc * d * ff + 30 * tc * d),
            Dims = i.IsSymbolic || i.Nets.Any(n => n.IsSymbolic) ? dims : default,
        };
        TransformerRules.AttentionParams(o, "self_attn.", d, bias: true);
        if (Decoder)
        {
            TransformerRules.AttentionParams(o, "multihead_attn.", d, bias: true);
        }
        o.Params.Add(("linear1.weight", new[] { ff, d }, "uniform", d));
        o.Params.Add(("linear1.bias", new[] { ff }, "uniform", d));
        o.Params.Add(("linear2.weight", new[] { d, ff }, "uniform", ff));
        o.Params.Add(("linear2.bias", new[] { d }, "uniform", ff));
        foreach (string norm in Decoder ? new[] { "norm1", "norm2", "norm3" } : new[] { "norm1", "norm2" })
        {
            o.Params.Add((norm + ".weight", new[] { d }, "ones", 0));
            o.Params.Add((norm + ".bias", new[] { d }, "zeros", 0));
        }
        return o.With("d", d).With("heads", heads).With("ff", ff).With("dropout", dropout).With("activation", activation!)
            .With("normFirst", i.Args.Bool("normFirst")).With("eps", eps).With("causal", causal);
    }

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        yield return new BufferDecl(TransformerRules.Field(node, "layer"), "global::Dsl.TransformerLayerState",
            $"new global::Dsl.TransformerLayerState(device, {node.Attr("d")}, {node.Attr("heads")}, {node.Attr("ff")}, {Names.FloatAttr(node, "dropout")}, "
            + $"{TransformerRules.Activation(node.Attr("activation"))}, normFirst: {node.Attr("normFirst")}, {Names.FloatAttr(node, "eps")}, causal: {node.Attr("causal")}, "
            + $"decoder: {Names.Bool(Decoder)})",
            "the layer's intermediates and what backward reads, sized by the batch");
        // Each attention's weights [N,heads,T,S] for display, computed when read (PyTorch's submodule names).
        yield return new BufferDecl(TransformerRules.Field(node, "selfReadout"), "global::Dsl.Readout",
            $"AddReadout({Names.Literal(node.Name + ".self_attn.weights")}, {TransformerRules.Field(node, "layer")}.SelfAttentionWeights)");
        if (Decoder)
        {
            yield return new BufferDecl(TransformerRules.Field(node, "crossReadout"), "global::Dsl.Readout",
                $"AddReadout({Names.Literal(node.Name + ".multihead_attn.weights")}, {TransformerRules.Field(node, "layer")}.CrossAttentionWeights)");
        }
        var names = new List<string>();
        foreach (string prefix in Decoder ? new[] { "self_attn.", "multihead_attn." } : new[] { "self_attn." })
        {
            names.Add(TransformerRules.Param(node, prefix + "in_proj_weight"));
            names.Add(TransformerRules.Param(node, prefix + "in_proj_bias"));
            names.Add(TransformerRules.Param(node, prefix + "out_proj.weight"));
            names.Add(TransformerRules.Param(node, prefix + "out_proj.bias"));
        }
        var cross = Decoder ? names.Skip(4).ToList() : new List<string>();
        var args = names.Take(4).Concat(new[] { "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias" }
            .Select(n => TransformerRules.Param(node, n))).ToList();
        if (Decoder)
        {
            args.AddRange(cross);
            args.Add(TransformerRules.Param(node, "norm3.weight"));
            args.Add(TransformerRules.Param(node, "norm3.bias"));
        }
        yield return new BufferDecl(TransformerRules.Field(node, "weights"), "global::Dsl.TransformerWeights",
            $"new global::Dsl.TransformerWeights({string.Join(", ", args)})", "the layer's parameters, in PyTorch's order");
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"{TransformerRules.Field(node, "layer")}.Forward({c.X(node)}, {TransformerRules.NetOrNull(c.Net(node, "keyPadding"))}, "
            + $"{TransformerRules.NetOrNull(c.Net(node, "memory"))}, {TransformerRules.NetOrNull(c.Net(node, "memoryKeyPadding"))}, "
            + $"_trainingForward, DropoutSeed({node.Id}), {TransformerRules.Field(node, "weights")}, {y});");
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
        c.Line($"{TransformerRules.Field(node, "layer")}.Backward({c.X(node)}, {memory}, {TransformerRules.Field(node, "weights")}, {c.Dy(node)}, "
            + $"{c.Dx(node)}, {Names.Bool(accumulate)}, {dMemory}, {Names.Bool(accumulateMemory)});");
    }

    /// <summary>ONNX: the layer's evaluation forward (<see cref="TransformerExport.Layer"/>).</summary>
    public override void Export(ExportContext c, GraphNode node) => TransformerExport.Layer(c, node, Decoder);
}
