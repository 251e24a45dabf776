using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// A GRU encoder-decoder with attention (Bahdanau et al. 2015's encoder, Luong et al. 2015's attention), trained with
/// teacher forcing: the source [N,S] is embedded and read by a bidirectional GRU into outputs [N,S,128] and a last state
/// [N,128] (forward and reverse concatenated); the decoder GRU starts from that state and reads the target input
/// <c>&lt;bos&gt; y1 .. y(k-1)</c> [N,T]; at every step its state attends over the encoder's outputs (padded source
/// positions masked out), so the weights change from step to step; the state and its context go through
/// Linear-Tanh-Linear to logits over the target vocabulary [N,T,V]. Vocabulary sizes cover the generated tasks' alphabets
/// (digits; dates' letters) with their special tokens.
/// </summary>
[Network]
public partial class Seq2SeqGru
{
    /// <summary>Source ids the embedding holds: <c>&lt;pad&gt;</c>, <c>&lt;unk&gt;</c> and up to 62 characters.</summary>
    public const int SourceVocabularySize = 64;

    /// <summary>Target ids the output scores: <c>&lt;pad&gt;</c>, <c>&lt;unk&gt;</c>, <c>&lt;bos&gt;</c>, <c>&lt;eos&gt;</c> and up to 12 characters.</summary>
    public const int TargetVocabularySize = 16;

    /// <summary>The readout holding the decoder's attention weights [N,T,S] after Forward.</summary>
    public const string AttentionReadout = "attention1.weights";

    static Net Define()
    {
        var source = Tokens("source", "S");
        var sourceMask = Mask("sourceMask", "S");
        var target = Tokens("target", "T");
        var encoder = source | Embedding(SourceVocabularySize, 32, paddingIdx: 0) | Gru(64, bidirectional: true, mask: sourceMask);
        var state = encoder | Last;
        var decoded = target | Embedding(TargetVocabularySize, 32, paddingIdx: 0) | Gru(128, h0: state);
        var context = Attention(decoded, encoder, encoder, mask: sourceMask);
        return Concat(decoded, context, dim: -1) | Linear(128) | Tanh | Linear(TargetVocabularySize);
    }
}
