using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// The course's topic classifier with attention instead of recurrence or convolution: word ids [N,T] embedded into
/// [N,T,128] (row 0, the <c>&lt;pad&gt;</c> id, stays zero), sinusoidal positions added (Vaswani et al. 2017, section 3.5),
/// two Transformer encoder layers (4 heads, feed-forward 256, dropout 0.1, post-norm as PyTorch's default) that attend only
/// to each quote's own words (the key-padding mask), the mean over those words ([N,128,T] -> [N,128]), dropout and a linear
/// layer to the topic logits (train with <c>Loss.CrossEntropy</c>). The parameters carry PyTorch's names
/// (<c>encoder1.self_attn.in_proj_weight</c>, <c>encoder1.linear1.weight</c>, ...).
/// </summary>
/// <remarks>
/// Forward takes <c>tokens</c> (int64 [N,T], ids below <see cref="Vocabulary"/>, <c>&lt;pad&gt;</c> = 0; the vocabulary bound of
/// <c>KimCnn</c>, so all three classifiers train on one tokenisation) and <c>mask</c> (float32 [N,T], 1 on the words then 0 on the
/// padding; every quote needs at least one word). A batch may be at most <see cref="MaxLen"/> words long.
/// </remarks>
[Network]
public partial class TransformerClassifier
{
    /// <summary>The rows of the embedding table, as <c>KimCnn</c>'s.</summary>
    public const int Vocabulary = 8192;

    /// <summary>The classes: the eight topics of <c>FortunesCorpus.ClassificationTopics</c>.</summary>
    public const int Topics = 8;

    /// <summary>The model width d.</summary>
    public const int DModel = 128;

    /// <summary>Attention heads per layer (32 features each).</summary>
    public const int Heads = 4;

    /// <summary>The feed-forward block's hidden width.</summary>
    public const int FeedForward = 256;

    /// <summary>The longest batch the positional table covers (the task keeps at most 150 words of a quote).</summary>
    public const int MaxLen = 256;

    static Net Define()
    {
        var tokens = Tokens("tokens", "T");
        var mask = Mask("mask", "T");
        return tokens
            | Embedding(Vocabulary, DModel, paddingIdx: 0)
            | PositionalEncoding(MaxLen, dropout: 0.1)
            | TransformerEncoderLayer(Heads, dimFeedforward: FeedForward, dropout: 0.1, keyPadding: mask)
            | TransformerEncoderLayer(Heads, dimFeedforward: FeedForward, dropout: 0.1, keyPadding: mask)
            | Transpose(1, 2)
            | MeanOverTime(mask: mask)
            | Dropout(0.1)
            | Linear(Topics);
    }
}
