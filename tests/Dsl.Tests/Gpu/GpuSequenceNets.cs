using static Dsl.Layers;

namespace Dsl.Tests.Gpu;

/// <summary>
/// <c>BiLstmAttention</c>'s pipe at test sizes (vocabulary 40, width 8, 6 hidden units a direction): a training step
/// fits ILGPU's CPU accelerator in well under a second, so the synchronisation count of a sequence network is cheap.
/// </summary>
[Network]
public partial class TinyBiLstmAttention
{
    public const int Vocabulary = 40;
    public const int Topics = 3;

    static Net Define()
    {
        var tokens = Tokens("tokens", "T");
        var mask = Mask("mask", "T");
        return tokens
            | Embedding(Vocabulary, 8, paddingIdx: 0)
            | Lstm(6, bidirectional: true, mask: mask)
            | AttentionPool(mask: mask)
            | Dropout(0.5)
            | Linear(Topics);
    }
}

/// <summary><c>TransformerClassifier</c>'s pipe at test sizes: width 8, two heads, one encoder layer.</summary>
[Network]
public partial class TinyTransformerClassifier
{
    public const int Vocabulary = 40;
    public const int Topics = 3;

    static Net Define()
    {
        var tokens = Tokens("tokens", "T");
        var mask = Mask("mask", "T");
        return tokens
            | Embedding(Vocabulary, 8, paddingIdx: 0)
            | PositionalEncoding(16, dropout: 0.1)
            | TransformerEncoderLayer(2, dimFeedforward: 16, dropout: 0.1, keyPadding: mask)
            | Transpose(1, 2)
            | MeanOverTime(mask: mask)
            | Dropout(0.1)
            | Linear(Topics);
    }
}
