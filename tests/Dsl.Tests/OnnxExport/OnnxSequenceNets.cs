using static Dsl.Layers;

namespace Dsl.Tests.OnnxExport;

/// <summary>
/// The convolutional sequence mappings: Embedding (Gather), Transpose, Conv1d with padding, dilation, stride and groups,
/// MaxPool1d and AvgPool1d (padded, count_include_pad off), MaxOverTime and MeanOverTime with a mask after a convolution
/// that shortens the sequence (T-2: rows of fewer than 3 tokens have no valid step and give 0) and one that lengthens it
/// (T+2), and without one, <c>*</c>, and Concat along the channels, the time axis and the features.
/// </summary>
[Network]
public partial class OnnxConvSeqNet
{
    static Net Define()
    {
        var tokens = Tokens("tokens", "T");
        var mask = Mask("mask", "T");
        var words = tokens | Embedding(20, 6, paddingIdx: 0) | Transpose(1, 2);
        var shortened = words | Conv1d(4, kernel: 3) | Relu | MaxOverTime(mask: mask);
        var lengthened = words | Conv1d(4, kernel: 3, padding: 2, bias: false) | MeanOverTime(mask: mask);
        var pooled = words | Conv1d(4, kernel: 2, stride: 2, groups: 2) | MaxPool1d(2, stride: 1, padding: 1)
            | AvgPool1d(3, stride: 2, padding: 1, countIncludePad: false) | MaxOverTime();
        var dilated = words | AvgPool1d(2) | Conv1d(4, kernel: 2, dilation: 2) | MeanOverTime();
        var alongTime = Concat(words, words | Conv1d(6, kernel: 1), dim: -1) | MeanOverTime();
        var alongChannels = Concat(words, words | Tanh, dim: 1) | MaxOverTime(mask: mask);
        var features = Concat(Concat(shortened * lengthened, pooled, dim: 1), Concat(dilated, alongTime, dim: -1), dim: 1);
        return Concat(features, alongChannels, dim: 1) | Linear(5);
    }
}

/// <summary>A two-layer bidirectional LSTM over a padded batch from h0 and c0 [N,4,5], with dropout between the layers (identity in evaluation): the sequence, and its attention pool beside its last state.</summary>
[Network]
public partial class OnnxLstmNet
{
    static Net Define()
    {
        var x = Input("x", "T", 3);
        var h0 = Input("h0", 4, 5);
        var c0 = Input("c0", 4, 5);
        var mask = Mask("mask", "T");
        var sequence = x | Lstm(5, layers: 2, bidirectional: true, dropout: 0.3, mask: mask, h0: h0, c0: c0);
        var summary = Concat(sequence | AttentionPool(mask: mask), sequence | Last, dim: 1);
        return Outputs(sequence, summary);
    }
}

/// <summary>A two-layer bidirectional GRU over a padded batch from h0 [N,4,5]: the sequence and its last state.</summary>
[Network]
public partial class OnnxGruNet
{
    static Net Define()
    {
        var x = Input("x", "T", 3);
        var h0 = Input("h0", 4, 5);
        var mask = Mask("mask", "T");
        var sequence = x | Gru(5, layers: 2, bidirectional: true, mask: mask, h0: h0);
        var summary = sequence | Last;
        return Outputs(sequence, summary);
    }
}

/// <summary>
/// A two-layer bidirectional ReLU RNN over a padded batch from h0 [N,4,5], and beside it a one-layer tanh RNN without
/// biases, mask or initial state whose last state is added to a second one's, started from a whole [N,4] h0.
/// </summary>
[Network]
public partial class OnnxRnnNet
{
    static Net Define()
    {
        var x = Input("x", "T", 3);
        var h0 = Input("h0", 4, 5);
        var h1 = Input("h1", 4);
        var mask = Mask("mask", "T");
        var sequence = x | Rnn(5, nonlinearity: "relu", layers: 2, bidirectional: true, mask: mask, h0: h0);
        var plain = x | Rnn(4, bias: false) | Last;
        var started = x | Rnn(4, h0: h1) | Last;
        var summary = Concat(sequence | Last, plain + started, dim: 1);
        return Outputs(sequence, summary);
    }
}

/// <summary>Scaled dot-product attention with a key mask and a given scale beside one without either, and an unmasked attention pool of the projected keys.</summary>
[Network]
public partial class OnnxAttentionNet
{
    static Net Define()
    {
        // Projected, as a model's attention operands are (and so that they carry gradients).
        var q = Input("query", "T", 4) | Linear(4);
        var k = Input("keys", "S", 4) | Linear(4);
        var v = Input("values", "S", 3) | Linear(3);
        var mask = Mask("mask", "S");
        var masked = Attention(q, k, v, mask: mask, scale: 0.7);
        var plain = Attention(q, k, v);
        var sequence = Concat(masked, plain, dim: -1);
        var summary = k | AttentionPool();
        return Outputs(sequence, summary);
    }
}
