using static Dsl.Layers;
using static Dsl.Tests.Transformer.CourseBlocks;

namespace Dsl.Tests.Transformer;

// Pairs of networks for BlocksAgainstLayersTests: each Course* network runs a block of Specs/Networks/CourseTransformer.cs
// written with tensor operations (the shared blocks of CourseBlocks.cs, this project's copy of the Spec's, which the tests
// check), and its Builtin* twin runs the built-in layer on the same inputs. Masks come last in each Forward.

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
