using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>
/// A tiny Kim-style network for the gradient checks: embedding [N,T,4] transposed to [N,4,T], a Conv1d of width 2 with
/// padding and dilation, a max pool of 2 (stride 1) and an average pool, then max and mean over time with the mask,
/// joined and projected. Every sequence layer, masked, in one graph.
/// </summary>
[Network]
public partial class SeqConvNet
{
    static Net Define()
    {
        var tokens = Tokens("tokens", "T");
        var mask = Mask("mask", "T");
        var words = tokens | Embedding(9, 4, paddingIdx: 0) | Transpose(1, -1);
        var conv = words | Conv1d(6, kernel: 3) | Tanh;
        var maxed = conv | MaxOverTime(mask: mask);
        var meaned = conv | MeanOverTime(mask: mask);
        var pooled = words | Conv1d(4, kernel: 2, padding: 1, dilation: 2, groups: 2) | MaxPool1d(2, stride: 1) | AvgPool1d(2, padding: 1) | Sigmoid | MeanOverTime();
        return Concat(Concat(maxed, meaned), pooled) | Linear(3);
    }
}

/// <summary>A float sequence [N,T,3] into a strided Conv1d with a fixed channel count, then max over time without a mask.</summary>
[Network]
public partial class FloatConvNet
{
    static Net Define()
        => Input("x", "T", 3) | Transpose(1, 2) | Conv1d(5, kernel: 3, stride: 2, bias: false) | Relu | MaxOverTime() | Linear(2);
}

/// <summary>Only the masked branches of <see cref="SeqConvNet"/>: a padded batch must give what each sequence gives alone.</summary>
[Network]
public partial class MaskedPoolNet
{
    static Net Define()
    {
        var tokens = Tokens("tokens", "T");
        var mask = Mask("mask", "T");
        var conv = tokens | Embedding(9, 4) | Transpose(1, 2) | Conv1d(6, kernel: 3) | Tanh;
        return Concat(conv | MaxOverTime(mask: mask), conv | MeanOverTime(mask: mask)) | Linear(3);
    }
}
