using static Dsl.Layers;

namespace Dsl.Tests.Transformer;

/// <summary>Self-attention of two heads over [N,T,8] with a key-padding mask (Fixtures/transformer.json: mha_key_padding).</summary>
[Network]
public partial class MhaSelfNet
{
    static Net Define()
    {
        var x = Input("x", "T", 8);
        var mask = Mask("mask", "T");
        return x | MultiHeadAttention(2, keyPadding: mask);
    }
}

/// <summary>Causal self-attention of two heads (mha_causal).</summary>
[Network]
public partial class MhaCausalNet
{
    static Net Define() => Input("x", "T", 8) | MultiHeadAttention(2, causal: true);
}

/// <summary>Cross-attention of four heads: queries [N,T,8] over a memory [N,S,8] with its key mask (mha_cross_key_padding).</summary>
[Network]
public partial class MhaCrossNet
{
    static Net Define()
    {
        var x = Input("x", "T", 8);
        var memory = Input("memory", "S", 8);
        var mask = Mask("mask", "S");
        return x | MultiHeadAttention(4, memory: memory, keyPadding: mask);
    }
}

/// <summary>A post-norm encoder layer, dropout 0, trained (encoder_post_norm_train).</summary>
[Network]
public partial class EncoderTrainNet
{
    static Net Define()
    {
        var x = Input("x", "T", 8);
        var mask = Mask("mask", "T");
        return x | TransformerEncoderLayer(2, dimFeedforward: 16, dropout: 0.0, keyPadding: mask);
    }
}

/// <summary>A post-norm encoder layer with PyTorch's dropout 0.1, run in evaluation mode (encoder_post_norm_eval).</summary>
[Network]
public partial class EncoderEvalNet
{
    static Net Define()
    {
        var x = Input("x", "T", 8);
        var mask = Mask("mask", "T");
        return x | TransformerEncoderLayer(2, dimFeedforward: 16, keyPadding: mask);
    }
}

/// <summary>A pre-norm (norm_first) encoder layer with GELU, four heads and a causal mask (encoder_norm_first_gelu_causal).</summary>
[Network]
public partial class EncoderNormFirstNet
{
    static Net Define()
        => Input("x", "T", 8) | TransformerEncoderLayer(4, dimFeedforward: 12, dropout: 0.0, activation: "gelu", normFirst: true, causal: true);
}

/// <summary>A post-norm decoder layer over a memory with its key mask, causal, dropout 0 (decoder_post_norm_train).</summary>
[Network]
public partial class DecoderTrainNet
{
    static Net Define()
    {
        var x = Input("x", "T", 8);
        var memory = Input("memory", "S", 8);
        var memoryMask = Mask("memoryMask", "S");
        return x | TransformerDecoderLayer(2, memory: memory, dimFeedforward: 16, dropout: 0.0, memoryKeyPadding: memoryMask);
    }
}

/// <summary>A pre-norm decoder layer with both masks and dropout 0.1, run in evaluation mode (decoder_norm_first_eval).</summary>
[Network]
public partial class DecoderNormFirstNet
{
    static Net Define()
    {
        var x = Input("x", "T", 8);
        var memory = Input("memory", "S", 8);
        var mask = Mask("mask", "T");
        var memoryMask = Mask("memoryMask", "S");
        return x | TransformerDecoderLayer(2, memory: memory, dimFeedforward: 16, normFirst: true, keyPadding: mask, memoryKeyPadding: memoryMask);
    }
}

/// <summary>Positional encoding then dropout over [N,T,6], no parameters: maxLen 12.</summary>
[Network]
public partial class PositionalNet
{
    static Net Define() => Input("x", "T", 6) | PositionalEncoding(12, dropout: 0.2);
}
