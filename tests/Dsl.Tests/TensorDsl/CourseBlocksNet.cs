using static Dsl.Layers;

namespace Dsl.Tests.TensorDsl;

/// <summary>
/// The course's blocks of <c>Specs/Networks/CourseTransformer.cs</c> (copied verbatim: a network's blocks are its own
/// static methods, and <see cref="CourseTransformerTests"/> checks the copy is identical) in an encoder-decoder on float
/// inputs: an encoder layer over a memory [4,8] with its key mask, and a decoder layer over x [5,8] with a causal mask
/// [5,5] (an input of 0s and 1s) attending to that memory. Every block runs, so finite differences cover them all.
/// </summary>
[Network]
public partial class CourseBlocksNet
{
    static Net Define()
    {
        var x = Input("x", 5, 8);
        var memory = Input("memory", 4, 8);
        var causal = Mask("causal", 5, 5);
        var memoryMask = Mask("memoryMask", 4);
        var encoded = EncoderLayer(memory, memoryMask, 8, 2, 12, "encoder");
        return DecoderLayer(x, encoded, causal, memoryMask, 8, 2, 12, "decoder") | Linear(8, 3, name: "head");
    }

    /// <summary>
    /// softmax(q k^T / sqrt(dk), masked) v for q [H,T,dk], k [H,S,dk], v [H,S,dk] and a 0/1 mask that broadcasts to the
    /// scores [H,T,S] (a key mask [S], or [T,S] for a causal one).
    /// </summary>
    static Net ScaledDotProductAttention(Net q, Net k, Net v, Net mask, int dk)
    {
        var scores = MatMul(q, Transpose(k, -2, -1)) / System.Math.Sqrt(dk);
        var weights = SoftmaxDim(MaskedFill(scores, 1.0 - mask, -1e9), dim: -1);
        return MatMul(weights, v);
    }

    /// <summary>
    /// Multi-head attention of queries from x [T,d] over keys and values from kv [S,d]: Linear projections q, k, v, a view
    /// to heads [T,heads,d/heads] permuted to [heads,T,d/heads], scaled dot-product attention per head, the heads joined
    /// back to [T,d], and the output Linear.
    /// </summary>
    static Net MultiHeadAttention(Net x, Net kv, Net mask, int heads, int d, string name)
    {
        var q = Permute(View(x | Linear(d, d, name: name + ".q"), -1, heads, d / heads), 0, 2, 1, 3);
        var k = Permute(View(kv | Linear(d, d, name: name + ".k"), -1, heads, d / heads), 0, 2, 1, 3);
        var v = Permute(View(kv | Linear(d, d, name: name + ".v"), -1, heads, d / heads), 0, 2, 1, 3);
        var context = ScaledDotProductAttention(q, k, v, mask, d / heads);
        return View(Permute(context, 0, 2, 1, 3), -1, d) | Linear(d, d, name: name + ".out");
    }

    /// <summary>The course's position-wise feed-forward: two kernel-1 Conv1d around a ReLU, over [d,T] (transposed there and back).</summary>
    static Net PositionwiseFeedForward(Net x, int d, int dHid, string name)
        => Transpose(x, 1, 2) | Conv1d(dHid, 1, name: name + ".w1") | Relu | Conv1d(d, 1, name: name + ".w2") | Transpose(1, 2);

    /// <summary>A post-norm encoder layer: x + self-attention, LayerNorm, + feed-forward, LayerNorm.</summary>
    static Net EncoderLayer(Net x, Net mask, int d, int heads, int dHid, string name)
    {
        var attended = (x + MultiHeadAttention(x, x, mask, heads, d, name + ".attn")) | LayerNorm(d, name: name + ".norm1");
        return (attended + PositionwiseFeedForward(attended, d, dHid, name + ".ffn")) | LayerNorm(d, name: name + ".norm2");
    }

    /// <summary>
    /// A post-norm decoder layer: masked self-attention (<paramref name="causal"/> [T,T]: 1 where a position may attend),
    /// cross-attention over the encoder's <paramref name="memory"/> [S,d] with its key mask [S], and the feed-forward.
    /// </summary>
    static Net DecoderLayer(Net x, Net memory, Net causal, Net memoryMask, int d, int heads, int dHid, string name)
    {
        var self = (x + MultiHeadAttention(x, x, causal, heads, d, name + ".self")) | LayerNorm(d, name: name + ".norm1");
        var cross = (self + MultiHeadAttention(self, memory, memoryMask, heads, d, name + ".cross")) | LayerNorm(d, name: name + ".norm2");
        return (cross + PositionwiseFeedForward(cross, d, dHid, name + ".ffn")) | LayerNorm(d, name: name + ".norm3");
    }

}
