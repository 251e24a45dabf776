using System.Globalization;

namespace Dsl;

/// <summary>
/// The layer catalogue, named and defaulted as in PyTorch. Shapes below omit the batch dimension N, which is
/// implicit and first. Every argument that decides a shape must be a compile-time constant (a literal, a
/// <c>const</c> or a parameter of the enclosing block); the generator reports anything else.
/// Layers with parameters take an optional <c>name</c>; by default they are numbered per kind in definition
/// order: <c>fc1</c>, <c>fc2</c>, ... for <see cref="Linear(int, bool, string?)"/>, so parameters are called
/// <c>fc1.weight</c> <c>[out, in]</c> and <c>fc1.bias</c> <c>[out]</c> as in PyTorch's examples.
/// </summary>
public static class Layers
{
    /// <summary>Declares the network input, per sample: <c>Input(784)</c> is [N,784], <c>Input(1, 28, 28)</c> is [N,1,28,28].</summary>
    public static Net Input(params int[] shape) => new($"Input({Join(shape)})");

    /// <summary>
    /// Affine map on the last dimension (<c>nn.Linear</c>): [..., in] -> [..., <paramref name="outFeatures"/>], in-features inferred.
    /// Weight [out, in] and bias [out] start as U(-1/sqrt(in), 1/sqrt(in)).
    /// </summary>
    public static Layer Linear(int outFeatures, bool bias = true, string? name = null) => new($"Linear({outFeatures})");

    /// <summary>
    /// Affine map on the last dimension with its in-features stated: [..., <paramref name="inFeatures"/>] -> [..., <paramref name="outFeatures"/>].
    /// The generator checks that <paramref name="inFeatures"/> matches what arrives.
    /// </summary>
    public static Layer Linear(int inFeatures, int outFeatures, bool bias = true, string? name = null) => new($"Linear({inFeatures}, {outFeatures})");

    /// <summary>max(0, x), any shape.</summary>
    public static Layer Relu => new("Relu");

    /// <summary>tanh(x), any shape.</summary>
    public static Layer Tanh => new("Tanh");

    /// <summary>1/(1+exp(-x)), any shape.</summary>
    public static Layer Sigmoid => new("Sigmoid");

    /// <summary>
    /// Zeroes each element with probability <paramref name="p"/> in training and scales the rest by 1/(1-p)
    /// (<c>nn.Dropout</c>); the identity in evaluation. Any shape.
    /// </summary>
    public static Layer Dropout(double p = 0.5, string? name = null) => new($"Dropout({p.ToString(CultureInfo.InvariantCulture)})");

    /// <summary>[C, H, W, ...] -> [C*H*W*...]: flattens everything but the batch (<c>nn.Flatten()</c>).</summary>
    public static Layer Flatten => new("Flatten");

    /// <summary>Softmax over the last dimension.</summary>
    public static Layer Softmax => new("Softmax");

    /// <summary>Log-softmax over the last dimension (pair it with <c>Loss.Nll</c>).</summary>
    public static Layer LogSoftmax => new("LogSoftmax");

    private static string Join(int[] shape) => string.Join(", ", shape);
}
