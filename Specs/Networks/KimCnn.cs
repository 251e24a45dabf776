using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// Kim's convolutional network for sentence classification (Kim, 2014, "Convolutional Neural Networks for Sentence
/// Classification", the CNN-rand variant): word ids [N,T] embedded into [N,T,128] (row 0, the <c>&lt;pad&gt;</c> id, stays
/// zero), transposed to [N,128,T], three branches of 100 maps with filter widths 3, 4 and 5, each ReLU then max over time
/// (over each quote's own windows, from the padding mask), concatenated to [N,300], dropout 0.5 and a linear layer to the
/// topic logits (train with <c>Loss.CrossEntropy</c>).
/// </summary>
/// <remarks>
/// Forward takes <c>tokens</c> (int64 [N,T], ids below <see cref="Vocabulary"/>, <c>&lt;pad&gt;</c> = 0) and <c>mask</c>
/// (float32 [N,T], 1 on the words, 0 on the padding). The tokenizer's vocabulary must hold at most <see cref="Vocabulary"/>
/// ids (build it with <c>Vocabulary.Build(..., maxSize: KimCnn.Vocabulary)</c>); a batch must be at least 5 steps long
/// (the widest filter; pad short batches), and a quote shorter than a filter has no window for it, which then gives 0.
/// </remarks>
[Network]
public partial class KimCnn
{
    /// <summary>The rows of the embedding table: the largest vocabulary (specials included) the network takes.</summary>
    public const int Vocabulary = 8192;

    /// <summary>The classes: the eight topics of <c>FortunesCorpus.ClassificationTopics</c>.</summary>
    public const int Topics = 8;

    /// <summary>The width of a word vector.</summary>
    public const int EmbeddingDim = 128;

    /// <summary>Feature maps per filter width.</summary>
    public const int Maps = 100;

    static Net Define()
    {
        var tokens = Tokens("tokens", "T");
        var mask = Mask("mask", "T");
        var words = tokens | Embedding(Vocabulary, EmbeddingDim, paddingIdx: 0) | Transpose(1, 2);
        var width3 = words | Conv1d(Maps, kernel: 3) | Relu | MaxOverTime(mask: mask);
        var width4 = words | Conv1d(Maps, kernel: 4) | Relu | MaxOverTime(mask: mask);
        var width5 = words | Conv1d(Maps, kernel: 5) | Relu | MaxOverTime(mask: mask);
        return Concat(Concat(width3, width4, dim: 1), width5, dim: 1) | Dropout(0.5) | Linear(Topics);
    }
}
