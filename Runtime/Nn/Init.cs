namespace Dsl;

/// <summary>
/// Parameter initialisation with PyTorch's default distributions, drawn from <see cref="CounterRandom"/>
/// so a seed gives the same weights on every device. (The values differ from PyTorch's own generator;
/// the distributions are the same.)
/// </summary>
public static class Init
{
    /// <summary>
    /// U(-bound, bound) with bound = 1/sqrt(fanIn): what <c>nn.Linear</c> and <c>nn.Conv2d</c> give both weight
    /// (kaiming_uniform_ with a = sqrt(5)) and bias. https://pytorch.org/docs/stable/generated/torch.nn.Linear.html
    /// </summary>
    public static Tensor DefaultUniform(Device device, ulong seed, int fanIn, params int[] shape)
    {
        float bound = fanIn > 0 ? 1f / MathF.Sqrt(fanIn) : 0f;
        return Uniform(device, seed, -bound, bound, shape);
    }

    /// <summary>
    /// Xavier (Glorot) uniform: U(-bound, bound) with bound = sqrt(6 / (fanIn + fanOut)), <paramref name="fanSum"/> being that
    /// sum: what <c>nn.MultiheadAttention</c> gives <c>in_proj_weight</c> (fan-in d, fan-out 3d).
    /// https://pytorch.org/docs/stable/nn.init.html#torch.nn.init.xavier_uniform_
    /// </summary>
    public static Tensor XavierUniform(Device device, ulong seed, int fanSum, params int[] shape)
    {
        float bound = fanSum > 0 ? MathF.Sqrt(6f / fanSum) : 0f;
        return Uniform(device, seed, -bound, bound, shape);
    }

    /// <summary>U(low, high) of the given shape.</summary>
    public static Tensor Uniform(Device device, ulong seed, float low, float high, params int[] shape)
    {
        var data = new float[Tensor.CheckedLength(shape)];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = low + (high - low) * CounterRandom.Uniform(seed, (ulong)i);
        }
        return Tensor.From(data, device, shape);
    }

    /// <summary>
    /// N(<paramref name="mean"/>, <paramref name="std"/>^2) of the given shape (Box-Muller over two counter-based uniforms per
    /// element): what <c>nn.Embedding</c> gives its table. https://pytorch.org/docs/stable/generated/torch.nn.Embedding.html
    /// </summary>
    public static Tensor Normal(Device device, ulong seed, float mean, float std, params int[] shape)
    {
        var data = new float[Tensor.CheckedLength(shape)];
        for (int i = 0; i < data.Length; i++)
        {
            // 1 - u lies in (0, 1], so the logarithm is finite.
            double u1 = 1.0 - CounterRandom.Uniform(seed, 2UL * (ulong)i);
            double u2 = CounterRandom.Uniform(seed, 2UL * (ulong)i + 1);
            data[i] = mean + std * (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }
        return Tensor.From(data, device, shape);
    }

    /// <summary>A tensor of <paramref name="value"/> (BatchNorm's weight 1, bias 0).</summary>
    public static Tensor Constant(Device device, float value, params int[] shape) => Tensor.Full(device, value, shape);
}
