using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// The encoder-decoder Transformer (Vaswani et al. 2017) on the generated seq2seq tasks, the same data and vocabularies as
/// <see cref="Seq2SeqGru"/>: the source [N,S] embedded to width 64 plus sinusoidal positions, two encoder layers (4 heads,
/// feed-forward 256, post-norm, dropout 0.1) whose self-attention skips the padded source positions; the target input
/// <c>&lt;bos&gt; y1 .. y(k-1)</c> [N,T] embedded the same way, two decoder layers with causal self-attention and
/// attention over the encoder's output (the source mask again), and a linear layer to logits over the target vocabulary
/// [N,T,V]. Trained with teacher forcing; decoded greedily by re-running the decoder over the growing prefix (the causal
/// mask makes earlier positions' outputs independent of later ones).
/// </summary>
[Network]
public partial class TransformerSeq2Seq
{
    /// <summary>Source ids the embedding holds: <see cref="Seq2SeqGru.SourceVocabularySize"/>'s 64 (a literal, so the class stands alone).</summary>
    public const int SourceVocabularySize = 64;

    /// <summary>Target ids the output scores: <see cref="Seq2SeqGru.TargetVocabularySize"/>'s 16.</summary>
    public const int TargetVocabularySize = 16;

    /// <summary>The model width d.</summary>
    public const int Width = 64;

    /// <summary>Attention heads of every layer.</summary>
    public const int Heads = 4;

    /// <summary>The inner width of the feed-forward blocks.</summary>
    public const int FeedForward = 256;

    /// <summary>The longest source or answer the positional table covers (the tasks' longest is 16 digits, 18 with markers).</summary>
    public const int MaxLength = 64;

    static Net Define()
    {
        var source = Tokens("source", "S");
        var sourceMask = Mask("sourceMask", "S");
        var target = Tokens("target", "T");
        var memory = source
            | Embedding(SourceVocabularySize, Width, paddingIdx: 0)
            | PositionalEncoding(MaxLength)
            | TransformerEncoderLayer(Heads, dimFeedforward: FeedForward, keyPadding: sourceMask)
            | TransformerEncoderLayer(Heads, dimFeedforward: FeedForward, keyPadding: sourceMask);
        return target
            | Embedding(TargetVocabularySize, Width, paddingIdx: 0)
            | PositionalEncoding(MaxLength)
            | TransformerDecoderLayer(Heads, memory: memory, dimFeedforward: FeedForward, memoryKeyPadding: sourceMask)
            | TransformerDecoderLayer(Heads, memory: memory, dimFeedforward: FeedForward, memoryKeyPadding: sourceMask)
            | Linear(TargetVocabularySize);
    }
}
