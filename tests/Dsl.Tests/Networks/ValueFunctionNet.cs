using static Dsl.Layers;

namespace Dsl.Tests.Networks;

/// <summary>
/// The value functions on symbolic values: token ids through an Embedding [N,T,4], a float sequence through a gated Linear,
/// their product and sum joined on the last dimension (Concat, dim: -1) and the two joined along time (Concat, dim: 1,
/// [N,2*T,...]), then a Linear on each position.
/// </summary>
[Network]
public partial class ValueFunctionNet
{
    static Net Define()
    {
        var x = Input("x", "T", 3);
        var tokens = Tokens("tokens", "T");
        var e = tokens | Embedding(11, 4);
        var g = x | Linear(4) | Sigmoid;
        var features = Concat(e * g, e + g, dim: -1);
        var time = Concat(features, features | Tanh, dim: 1);
        return time | Linear(2);
    }
}

/// <summary>An embedding with a padding row, and a frozen one beside it, summed: what freezing and padding promise.</summary>
[Network]
public partial class PaddedEmbeddingNet
{
    static Net Define()
    {
        var tokens = Tokens("tokens", "T");
        var trained = tokens | Embedding(7, 3, paddingIdx: 0);
        var frozen = tokens | Embedding(7, 3, freeze: true, name: "pretrained");
        return (trained + frozen) | Linear(2);
    }
}
