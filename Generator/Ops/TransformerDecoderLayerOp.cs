namespace Dsl.Generator.Ops;

/// <summary>
/// <c>TransformerDecoderLayer(heads, memory:, dimFeedforward:, dropout:, activation:, normFirst:, layerNormEps:, keyPadding:,
/// memoryKeyPadding:, causal: true)</c>: PyTorch's <c>nn.TransformerDecoderLayer(d, heads, batch_first=True)</c>, [N,T,d] with a
/// memory [N,S,d] -> [N,T,d]: masked (causal by default) self-attention, attention over the memory (<c>multihead_attn</c>,
/// never causal), the feed-forward block, each with dropout, a residual sum and its LayerNorm (<c>norm1</c>, <c>norm2</c>,
/// <c>norm3</c>). The encoder layer's op with the cross-attention block (<see cref="TransformerEncoderLayerOp"/>).
/// https://pytorch.org/docs/1.13/generated/torch.nn.TransformerDecoderLayer.html
/// </summary>
internal sealed class TransformerDecoderLayerOp : TransformerEncoderLayerOp
{
    public new const string Name = "TransformerDecoderLayer";

    public override string Key => Name;

    protected override bool Decoder => true;
}
