using Dsl;
using static Dsl.Layers;

namespace Dsl.Tests.Transformer;

// A copy of Specs/Networks/CourseTransformer.cs's CourseBlocks, for the Course* networks of BlocksAgainstLayersNets.cs:
// blocks expand from source, and the Spec is another assembly, so the test project keeps one copy (its shared blocks
// serve every network here); BlocksAgainstLayersTests checks that it is the Spec's, character for character.

/// <summary>
/// The course's Transformer blocks, shared by every network of the project that calls them (a static class's blocks are
/// expanded in each caller): scaled dot-product attention, multi-head attention, the position-wise feed-forward, and
/// post-norm encoder and decoder layers. Parameter names follow <see cref="CourseTransformer"/>'s remarks.
/// </summary>
public static class CourseBlocks
{
    /// <summary>
    /// softmax(q k^T / sqrt(dk), masked) v for q [H,T,dk], k [H,S,dk], v [H,S,dk] and a 0/1 mask that broadcasts to the
    /// scores [H,T,S] (a key mask [S], or [T,S] for a causal one).
    /// </summary>
    public static Net ScaledDotProductAttention(Net q, Net k, Net v, Net mask, int dk)
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
    public static Net MultiHeadAttention(Net x, Net kv, Net mask, int heads, int d, string name)
    {
        var q = Permute(View(x | Linear(d, d, name: name + ".q"), -1, heads, d / heads), 0, 2, 1, 3);
        var k = Permute(View(kv | Linear(d, d, name: name + ".k"), -1, heads, d / heads), 0, 2, 1, 3);
        var v = Permute(View(kv | Linear(d, d, name: name + ".v"), -1, heads, d / heads), 0, 2, 1, 3);
        var context = ScaledDotProductAttention(q, k, v, mask, d / heads);
        return View(Permute(context, 0, 2, 1, 3), -1, d) | Linear(d, d, name: name + ".out");
    }

    /// <summary>The course's position-wise feed-forward: two kernel-1 Conv1d around a ReLU, over [d,T] (transposed there and back).</summary>
    public static Net PositionwiseFeedForward(Net x, int d, int dHid, string name)
        => Transpose(x, 1, 2) | Conv1d(dHid, 1, name: name + ".w1") | Relu | Conv1d(d, 1, name: name + ".w2") | Transpose(1, 2);

    /// <summary>A post-norm encoder layer: x + self-attention, LayerNorm, + feed-forward, LayerNorm.</summary>
    public static Net EncoderLayer(Net x, Net mask, int d, int heads, int dHid, string name)
    {
        var attended = (x + MultiHeadAttention(x, x, mask, heads, d, name + ".attn")) | LayerNorm(d, name: name + ".norm1");
        return (attended + PositionwiseFeedForward(attended, d, dHid, name + ".ffn")) | LayerNorm(d, name: name + ".norm2");
    }

    /// <summary>
    /// A post-norm decoder layer: masked self-attention (<paramref name="causal"/> [T,T]: 1 where a position may attend),
    /// cross-attention over the encoder's <paramref name="memory"/> [S,d] with its key mask [S], and the feed-forward.
    /// </summary>
    public static Net DecoderLayer(Net x, Net memory, Net causal, Net memoryMask, int d, int heads, int dHid, string name)
    {
        var self = (x + MultiHeadAttention(x, x, causal, heads, d, name + ".self")) | LayerNorm(d, name: name + ".norm1");
        var cross = (self + MultiHeadAttention(self, memory, memoryMask, heads, d, name + ".cross")) | LayerNorm(d, name: name + ".norm2");
        return (cross + PositionwiseFeedForward(cross, d, dHid, name + ".ffn")) | LayerNorm(d, name: name + ".norm3");
    }
}
