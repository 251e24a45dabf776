using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// A character-level language model (Karpathy's char-rnn, PyTorch's <c>word_language_model</c> example on characters):
/// character ids [N,T] embedded into [N,T,64], two stacked LSTM layers of 256 units with dropout 0.2 between them in
/// training, and a linear layer at every step to the next character's logits [N,T,<see cref="Vocabulary"/>] (train with
/// <c>Loss.CrossEntropy</c> over [N,T,V] against the window shifted by one; bits per character = loss / ln 2).
/// </summary>
/// <remarks>
/// Forward takes <c>tokens</c> (int64 [N,T], ids below <see cref="Vocabulary"/>: the corpus has about 111 distinct
/// characters, so <c>Vocabulary.Build(..., CharacterTokenizer.Instance, maxSize: CharLstm.Vocabulary)</c> keeps them all).
/// Windows are fixed-length cuts of the character stream, so there is no mask. Each window starts from a zero state: the
/// network does not carry its state from one window to the next (nor between sampling steps), so train on windows long
/// enough to hold the context that matters (100 characters or more), and sample by running the network on the last
/// window of generated text.
/// </remarks>
[Network]
public partial class CharLstm
{
    /// <summary>The rows of the embedding table and the logits per step: the largest character vocabulary (specials included).</summary>
    public const int Vocabulary = 128;

    /// <summary>The width of a character vector.</summary>
    public const int EmbeddingDim = 64;

    /// <summary>LSTM units of each of the two layers.</summary>
    public const int Hidden = 256;

    static Net Define()
        => Tokens("tokens", "T")
            | Embedding(Vocabulary, EmbeddingDim)
            | Lstm(Hidden, layers: 2, dropout: 0.2)
            | Linear(Vocabulary);
}
