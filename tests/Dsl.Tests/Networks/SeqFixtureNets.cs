using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>Fixtures/seq_nets.json, case embedding_conv: Embedding and two Conv1d (padding; stride, dilation, groups), mean over time.</summary>
[Network]
public partial class SeqFixtureNet
{
    static Net Define()
        => Tokens("tokens", "T") | Embedding(10, 6, paddingIdx: 0) | Transpose(1, 2)
            | Conv1d(6, kernel: 3, padding: 1) | Tanh | Conv1d(4, kernel: 2, stride: 2, dilation: 2, groups: 2)
            | MeanOverTime() | Linear(3);
}

/// <summary>Fixtures/seq_nets.json, case masked_max: max over time restricted by the mask to each sequence's own windows.</summary>
[Network]
public partial class MaskedFixtureNet
{
    static Net Define()
    {
        var tokens = Tokens("tokens", "T");
        var mask = Mask("mask", "T");
        return tokens | Embedding(10, 6) | Transpose(1, 2) | Conv1d(5, kernel: 3) | Relu | MaxOverTime(mask: mask) | Linear(3);
    }
}
