namespace Dsl;

/// <summary>
/// The sizes and options of one scaled dot-product attention call, by value so an ILGPU kernel can take it:
/// queries [Batch, T, D], keys [Batch, S, D], values [Batch, S, Dv], Batch = N * Heads (batch-first heads).
/// The optional masks are additive (0 to keep, -inf to drop; <see cref="AttentionMath.AdditiveMask"/> converts a boolean one):
/// <c>HasMask</c> an attention mask [T, S] shared by every batch entry, <c>HasKeyPadding</c> a key-padding mask [N, S]
/// shared by the heads of one sample, and <c>Causal</c> drops key s for query t when s &gt; t.
/// </summary>
public readonly record struct AttentionGeometry(int Batch, int T, int S, int D, int Dv, int Heads, float Scale, int Causal, int HasMask, int HasKeyPadding)
{
    /// <summary>Keys the fused CPU kernel scores at once: the only part of the score matrix it holds.</summary>
    public const int KeyBlock = 64;

    /// <summary>The last key query <paramref name="t"/> may see, plus one.</summary>
    public int KeyEnd(int t) => Causal != 0 ? Math.Min(S, t + 1) : S;
}

/// <summary>
/// The attention formula both devices use, written once: score = q·k * scale + mask[t,s] + keyPadding[n,s], or -inf
/// for a key a causal mask drops; weights = softmax over the keys; output = weights * V
/// (<see href="https://pytorch.org/docs/1.13/generated/torch.nn.MultiheadAttention.html"/>, Vaswani et al. 2017).
/// The fused kernels keep per query row only the running maximum and sum (FlashAttention, Dao et al. 2022) and save
/// the row's log-sum-exp, from which backward recomputes each weight as exp(score - lse).
/// </summary>
public static class AttentionMath
{
    /// <summary>
    /// A log-sum-exp below this marks a row whose every kept key is padded (<see cref="Device.KeyPaddingFromMask"/>'s
    /// -<see cref="float.MaxValue"/> swamps the scores): its scores are all equal, so its weights are uniform over the kept keys,
    /// but max + log(count) rounds back to max, and exp(score - lse) would give 1 instead of 1/count. The backward renormalises
    /// such a row by its count of kept keys (<see cref="KeptKeys"/>) and gives its scores no gradient, as the float forward has
    /// none with respect to them (the course's <c>masked_fill(-1e9)</c> computes the same).
    /// </summary>
    public const float SwampedLogSumExp = -1e30f;

    /// <summary>The keys query <paramref name="t"/> keeps: before <see cref="AttentionGeometry.KeyEnd"/> and not -inf in the [T,S] mask.</summary>
    public static int KeptKeys(in AttentionGeometry g, ReadOnlySpan<float> mask, int t)
    {
        int end = g.KeyEnd(t);
        if (g.HasMask == 0)
        {
            return end;
        }
        int kept = 0;
        for (int s = 0; s < end; s++)
        {
            kept += float.IsNegativeInfinity(mask[t * g.S + s]) ? 0 : 1;
        }
        return kept;
    }

    /// <summary>The masked, scaled score of query t and key s given their dot product and the two mask entries.</summary>
    public static float Score(in AttentionGeometry g, float dot, float mask, float keyPadding)
        => dot * g.Scale + mask + keyPadding;

    /// <summary>PyTorch's default scale 1/sqrt(d).</summary>
    public static float DefaultScale(int d) => 1f / MathF.Sqrt(d);

    /// <summary>
    /// A boolean mask as an additive one on <paramref name="device"/>: true (masked, PyTorch's meaning for
    /// <c>key_padding_mask</c> and a boolean <c>attn_mask</c>) becomes -inf, false 0.
    /// </summary>
    public static Tensor AdditiveMask(bool[] masked, Device device, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(masked);
        var values = new float[masked.Length];
        for (int i = 0; i < masked.Length; i++)
        {
            values[i] = masked[i] ? float.NegativeInfinity : 0f;
        }
        return Tensor.From(values, device, shape);
    }

    /// <summary>The causal mask [T, S] as an additive tensor (-inf above the diagonal), for the unfused reference.</summary>
    public static Tensor CausalMask(int t, int s, Device device)
    {
        var masked = new bool[(long)t * s];
        for (int i = 0; i < t; i++)
        {
            for (int j = i + 1; j < s; j++)
            {
                masked[(long)i * s + j] = true;
            }
        }
        return AdditiveMask(masked, device, t, s);
    }
}
