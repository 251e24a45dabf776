using Dsl;
using static Dsl.Layers;

namespace Specs.Networks;

/// <summary>
/// The course's Transformer exercises written as blocks of the network language from its tensor operations (MatMul,
/// broadcasting arithmetic, View, Permute, Transpose, SoftmaxDim, MaskedFill), checked at compile time like any layer;
/// <see cref="Define"/> is a small encoder classifier built from them. The blocks live in the static class
/// <see cref="CourseBlocks"/> below, so any network of this project calls them (<c>CourseBlocks.EncoderLayer(...)</c>).
/// </summary>
/// <remarks>
/// <para>Shapes: tokens, positions and mask [N,T]; the model width d splits into <c>heads</c> heads of d / heads. The mask
/// holds 1 for a real token and 0 for padding, and scores of padded keys are filled with -1e9 before the softmax, as the
/// course's <c>scores.masked_fill(mask == 0, -1e9)</c>.</para>
/// <para>Parameter names, for loading weights from PyTorch: a block named <c>attn</c> has Linears <c>attn.q</c>,
/// <c>attn.k</c>, <c>attn.v</c> and <c>attn.out</c>. <c>nn.MultiheadAttention</c>'s <c>in_proj_weight</c> [3d, d] is
/// <c>attn.q.weight</c>, <c>attn.k.weight</c>, <c>attn.v.weight</c> stacked in that order (rows 0..d-1, d..2d-1,
/// 2d..3d-1), <c>in_proj_bias</c> the three biases likewise, and <c>out_proj.weight</c>/<c>out_proj.bias</c> are
/// <c>attn.out.weight</c>/<c>attn.out.bias</c>. The feed-forward's kernel-1 convolutions <c>ffn.w1</c>, <c>ffn.w2</c> hold
/// <c>linear1</c>/<c>linear2</c> of <c>nn.TransformerEncoderLayer</c> with a trailing kernel dimension of 1
/// ([dHid, d, 1], [d, dHid, 1]); the norms are <c>norm1</c>, <c>norm2</c> (and <c>norm3</c> in the decoder).</para>
/// </remarks>
[Network]
public partial class CourseTransformer
{
    /// <summary>Vocabulary, sequence length, model width, heads, feed-forward width and classes of the classifier.</summary>
    public const int Vocabulary = 40, Length = 10, Model = 16, Heads = 2, Hidden = 32, Classes = 3;

    /// <summary>
    /// Token embeddings plus the frozen sinusoidal position table (load <see cref="SinusoidTable"/> into
    /// <c>position.weight</c>), one post-norm encoder layer, the first position's state, and a linear classifier.
    /// Forward(tokens, positions, mask), positions holding 0..T-1 in each row.
    /// </summary>
    static Net Define()
    {
        var tokens = Tokens("tokens", Length);
        var positions = Tokens("positions", Length);
        var mask = Mask("mask", Length);
        var x = (tokens | Embedding(Vocabulary, Model, name: "embed")) + (positions | Embedding(Length, Model, freeze: true, name: "position"));
        var encoded = CourseBlocks.EncoderLayer(x, mask, Model, Heads, Hidden, "layer1");
        var first = Squeeze(Slice(encoded, 1, 0, 1), 1);
        return first | Linear(Classes, name: "classifier");
    }

    /// <summary>
    /// The sinusoid table [positions, d] of the course: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos /
    /// 10000^(2i/d)), row-major, to load into a frozen position <c>Embedding</c>.
    /// </summary>
    public static float[] SinusoidTable(int positions, int d)
    {
        var table = new float[positions * d];
        for (int pos = 0; pos < positions; pos++)
        {
            for (int j = 0; j < d; j++)
            {
                double angle = pos / System.Math.Pow(10000, 2 * (j / 2) / (double)d);
                table[pos * d + j] = (float)(j % 2 == 0 ? System.Math.Sin(angle) : System.Math.Cos(angle));
            }
        }
        return table;
    }
}

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
