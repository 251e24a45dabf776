using static Dsl.Layers;

namespace Dsl.Tests.Transformer;

// Pairs of networks for BlocksAgainstLayersTests: each Course* network runs a block of Specs/Networks/CourseTransformer.cs
// written with tensor operations (copied verbatim: a network's blocks are its own static methods, and the tests check the
// copies are the Spec's), and its Builtin* twin runs the built-in layer on the same inputs. Masks come last in each Forward.

/// <summary>The course's multi-head attention block, self-attention over x [5,8] with a key mask [5] (two heads).</summary>
[Network]
public partial class CourseMhaKeyPaddingNet
{
    static Net Define()
    {
        var x = Input("x", 5, 8);
        var mask = Mask("mask", 5);
        return MultiHeadAttention(x, x, mask, 2, 8, "attn");
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
}

/// <summary>The built-in twin of <see cref="CourseMhaKeyPaddingNet"/>.</summary>
[Network]
public partial class BuiltinMhaKeyPaddingNet
{
    static Net Define()
    {
        var x = Input("x", 5, 8);
        var mask = Mask("mask", 5);
        return x | MultiHeadAttention(2, keyPadding: mask, name: "attn");
    }
}

/// <summary>The course's multi-head attention block, self-attention over x [5,8] with a causal mask given as a 0/1 input [5,5].</summary>
[Network]
public partial class CourseMhaCausalNet
{
    static Net Define()
    {
        var x = Input("x", 5, 8);
        var causal = Mask("causal", 5, 5);
        return MultiHeadAttention(x, x, causal, 2, 8, "attn");
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
}

/// <summary>The built-in twin of <see cref="CourseMhaCausalNet"/>: <c>causal: true</c>.</summary>
[Network]
public partial class BuiltinMhaCausalNet
{
    static Net Define() => Input("x", 5, 8) | MultiHeadAttention(2, causal: true, name: "attn");
}

/// <summary>The course's multi-head attention block, queries x [5,8] over a memory [6,8] with its key mask [6] (four heads).</summary>
[Network]
public partial class CourseMhaCrossNet
{
    static Net Define()
    {
        var x = Input("x", 5, 8);
        var memory = Input("memory", 6, 8);
        var mask = Mask("mask", 6);
        return MultiHeadAttention(x, memory, mask, 4, 8, "attn");
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
}

/// <summary>The built-in twin of <see cref="CourseMhaCrossNet"/>.</summary>
[Network]
public partial class BuiltinMhaCrossNet
{
    static Net Define()
    {
        var x = Input("x", 5, 8);
        var memory = Input("memory", 6, 8);
        var mask = Mask("mask", 6);
        return x | MultiHeadAttention(4, memory: memory, keyPadding: mask, name: "attn");
    }
}

/// <summary>The course's post-norm encoder layer over x [5,8] with a key mask [5]: two heads, feed-forward width 12.</summary>
[Network]
public partial class CourseEncoderNet
{
    static Net Define()
    {
        var x = Input("x", 5, 8);
        var mask = Mask("mask", 5);
        return EncoderLayer(x, mask, 8, 2, 12, "enc");
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
}

/// <summary>The built-in twin of <see cref="CourseEncoderNet"/>: post-norm, ReLU, dropout 0.</summary>
[Network]
public partial class BuiltinEncoderNet
{
    static Net Define()
    {
        var x = Input("x", 5, 8);
        var mask = Mask("mask", 5);
        return x | TransformerEncoderLayer(2, dimFeedforward: 12, dropout: 0.0, keyPadding: mask, name: "enc");
    }
}

/// <summary>The course's post-norm decoder layer over x [5,8]: causal self-attention (a 0/1 input [5,5]), cross-attention over a memory [6,8] with its key mask [6], feed-forward width 12.</summary>
[Network]
public partial class CourseDecoderNet
{
    static Net Define()
    {
        var x = Input("x", 5, 8);
        var memory = Input("memory", 6, 8);
        var causal = Mask("causal", 5, 5);
        var memoryMask = Mask("memoryMask", 6);
        return DecoderLayer(x, memory, causal, memoryMask, 8, 2, 12, "dec");
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

/// <summary>The built-in twin of <see cref="CourseDecoderNet"/>: post-norm, ReLU, dropout 0, causal self-attention.</summary>
[Network]
public partial class BuiltinDecoderNet
{
    static Net Define()
    {
        var x = Input("x", 5, 8);
        var memory = Input("memory", 6, 8);
        var memoryMask = Mask("memoryMask", 6);
        return x | TransformerDecoderLayer(2, memory: memory, dimFeedforward: 12, dropout: 0.0, memoryKeyPadding: memoryMask, causal: true, name: "dec");
    }
}

/// <summary>
/// Run-time freezing of built-in Transformer layers: a trained Linear below an encoder layer and a multi-head attention,
/// so a frozen layer above still passes the gradient down.
/// </summary>
[Network]
public partial class FrozenTransformerNet
{
    static Net Define()
        => Input("x", "T", 8) | Linear(8, name: "below") | TransformerEncoderLayer(2, dimFeedforward: 12, dropout: 0.0, name: "enc")
            | MultiHeadAttention(2, name: "attn") | Linear(3, name: "head");
}
