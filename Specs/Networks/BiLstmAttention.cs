using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// The course's "given the text, predict the topic" with a recurrent encoder: word ids [N,T] embedded into [N,T,128]
/// (row 0, the <c>&lt;pad&gt;</c> id, stays zero), a bidirectional LSTM of 128 units per direction over each quote's
/// own words (the mask makes it ignore the padding, as PyTorch's packed sequences: the reverse direction starts at each
/// quote's last word) giving [N,T,256], attention pooling over the words (importance x_t . c with a learned context c,
/// softmax over the quote's words, weighted sum) to [N,256], dropout 0.5 and a linear layer to the topic logits (train
/// with <c>Loss.CrossEntropy</c>). The pooling weights of the last Forward, [N,T] with 0 at padding, are the readout
/// <see cref="AttentionReadout"/>: which words the classifier looked at.
/// </summary>
/// <remarks>
/// Forward takes <c>tokens</c> (int64 [N,T], ids below <see cref="Vocabulary"/>, <c>&lt;pad&gt;</c> = 0; the same
/// vocabulary bound as <c>KimCnn</c>, so both train on one tokenisation: <c>Vocabulary.Build(..., maxSize: 8192)</c>) and
/// <c>mask</c> (float32 [N,T], 1 on the words then 0 on the padding; every quote needs at least one word).
/// </remarks>
[Network]
public partial class BiLstmAttention
{
    /// <summary>The rows of the embedding table: the largest vocabulary (specials included) the network takes, as <c>KimCnn</c>'s.</summary>
    public const int Vocabulary = 8192;

    /// <summary>The classes: the eight topics of <c>FortunesCorpus.ClassificationTopics</c>.</summary>
    public const int Topics = 8;

    /// <summary>The width of a word vector.</summary>
    public const int EmbeddingDim = 128;

    /// <summary>LSTM units per direction; the pooled vector has twice as many.</summary>
    public const int Hidden = 128;

    /// <summary>The readout holding the pooling weights [N,T] after Forward (0 at padding).</summary>
    public const string AttentionReadout = "attention1.weights";

    static Net Define()
    {
        var tokens = Tokens("tokens", "T");
        var mask = Mask("mask", "T");
        return tokens
            | Embedding(Vocabulary, EmbeddingDim, paddingIdx: 0)
            | Lstm(Hidden, bidirectional: true, mask: mask)
            | AttentionPool(mask: mask)
            | Dropout(0.5)
            | Linear(Topics);
    }
}
