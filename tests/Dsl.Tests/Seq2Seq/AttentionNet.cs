using static Dsl.Layers;

namespace Dsl.Tests.Seq2Seq;

/// <summary>
/// Attention as a value function with a key mask: queries [N,T,4] attend over a memory [N,S,6] whose keys are a Linear
/// projection of it and whose values are the memory itself, then a Linear. Fixtures/attention_net.json writes the same
/// network out in PyTorch.
/// </summary>
[Network]
public partial class AttentionNet
{
    static Net Define()
    {
        var query = Input("query", "T", 4);
        var memory = Input("memory", "S", 6);
        var mask = Mask("mask", "S");
        var keys = memory | Linear(4);
        return Attention(query, keys, memory, mask: mask) | Linear(3);
    }
}

/// <summary><see cref="AttentionNet"/> without a mask and with the scale given (0.5 instead of 1/sqrt(4)).</summary>
[Network]
public partial class AttentionScaleNet
{
    static Net Define()
    {
        var query = Input("query", "T", 4);
        var memory = Input("memory", "S", 6);
        var keys = memory | Linear(4);
        return Attention(query, keys, memory, scale: 0.5) | Linear(3);
    }
}

/// <summary>Self-attention: one value as query, keys and values, so its gradient collects three contributions.</summary>
[Network]
public partial class SelfAttentionNet
{
    static Net Define()
    {
        var x = Input("x", "T", 5);
        var h = x | Linear(5) | Tanh;
        return Attention(h, h, h) | Linear(2);
    }
}
