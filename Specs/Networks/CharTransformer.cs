using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// A causal character-level Transformer language model on the fortunes character stream, the data and split of
/// <see cref="CharLstm"/>: character ids [N,T] embedded to width 128 plus sinusoidal positions, four encoder layers (4 heads,
/// feed-forward 512, post-norm, dropout 0.1) with causal self-attention (position t sees positions up to t), and a linear
/// layer to next-character logits [N,T,V]. The vocabulary bound is <see cref="CharLstm"/>'s, so both read one encoding.
/// </summary>
[Network]
public partial class CharTransformer
{
    /// <summary>The rows of the embedding table: <see cref="CharLstm.Vocabulary"/>'s 128 (a literal, so the class stands alone).</summary>
    public const int Vocabulary = 128;

    /// <summary>The model width d.</summary>
    public const int Width = 128;

    /// <summary>Attention heads of every layer.</summary>
    public const int Heads = 4;

    /// <summary>The inner width of the feed-forward blocks.</summary>
    public const int FeedForward = 512;

    /// <summary>The longest context the positional table covers (training windows are 100 characters).</summary>
    public const int MaxLength = 256;

    static Net Define()
        => Tokens("tokens", "T")
            | Embedding(Vocabulary, Width)
            | PositionalEncoding(MaxLength)
            | TransformerEncoderLayer(Heads, dimFeedforward: FeedForward, causal: true)
            | TransformerEncoderLayer(Heads, dimFeedforward: FeedForward, causal: true)
            | TransformerEncoderLayer(Heads, dimFeedforward: FeedForward, causal: true)
            | TransformerEncoderLayer(Heads, dimFeedforward: FeedForward, causal: true)
            | Linear(Vocabulary);
}
