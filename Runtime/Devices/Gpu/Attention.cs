using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Fused scaled dot-product attention, simple and correct rather than fast: forward runs one thread per query row with
/// an online softmax over the keys, accumulating the output row in place; backward runs one thread per query row for
/// dq and one per key row for dk and dv (no atomics), both recomputing each weight from the saved log-sum-exp.
/// </summary>
public sealed partial class GpuDevice
{
    protected override void AttentionCore(in AttentionGeometry g, Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? keyPadding, Tensor output, Tensor logSumExp)
    {
        const string op = nameof(Attention);
        var qv = F(q, op);
        Kernel(nameof(AttentionRowKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionRowKernel))(
            Checked((long)g.Batch * g.T, op), qv, F(k, op), F(v, op), mask is null ? qv : F(mask, op), keyPadding is null ? qv : F(keyPadding, op),
            F(output, op), F(logSumExp, op), g);
    }

    protected override void AttentionBackwardCore(in AttentionGeometry g, Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? keyPadding,
        Tensor output, Tensor logSumExp, Tensor dOutput, Tensor dq, Tensor dk, Tensor dv)
    {
        const string op = nameof(AttentionBackward);
        var qv = F(q, op);
        var maskView = mask is null ? qv : F(mask, op);
        var padView = keyPadding is null ? qv : F(keyPadding, op);
        var args = new AttentionBackwardViews(qv, F(k, op), F(v, op), maskView, padView, F(output, op), F(logSumExp, op), F(dOutput, op));
        if (g.T > 0)
        {
            Kernel(nameof(AttentionQueryGradKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, AttentionBackwardViews, ArrayView<float>, AttentionGeometry>(AttentionQueryGradKernel))(
                Checked((long)g.Batch * g.T, op), args, F(dq, op), g);
            Kernel(nameof(AttentionKeyGradKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, AttentionBackwardViews, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionKeyGradKernel))(
                Checked((long)g.Batch * g.S, op), args, F(dk, op), F(dv, op), g);
        }
    }

    /// <summary>The read-only operands of the backward kernels, bundled to keep their parameter lists short.</summary>
    internal readonly record struct AttentionBackwardViews(
        ArrayView<float> Q, ArrayView<float> K, ArrayView<float> V, ArrayView<float> Mask, ArrayView<float> KeyPadding,
        ArrayView<float> Output, ArrayView<float> Lse, ArrayView<float> DOutput);

    private static float MaskAt(ArrayView<float> mask, ArrayView<float> keyPadding, AttentionGeometry g, int b, int t, int s)
        => (g.HasMask != 0 ? mask[(long)t * g.S + s] : 0f) + (g.HasKeyPadding != 0 ? keyPadding[(long)(b / g.Heads) * g.S + s] : 0f);

    private static float ScoreAt(ArrayView<float> q, ArrayView<float> k, ArrayView<float> mask, ArrayView<float> keyPadding, AttentionGeometry g, int b, int t, int s)
    {
        long qa = ((long)b * g.T + t) * g.D, ka = ((long)b * g.S + s) * g.D;
        float dot = 0f;
        for (int c = 0; c < g.D; c++)
        {
            dot += q[qa + c] * k[ka + c];
        }
        return AttentionMath.Score(g, dot, 0f, MaskAt(mask, keyPadding, g, b, t, s));
    }

    /// <summary>One query row: online softmax over its keys, output accumulated (and rescaled) in place.</summary>
    internal static void AttentionRowKernel(Index1D row, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask,
        ArrayView<float> keyPadding, ArrayView<float> output, ArrayView<float> lse, AttentionGeometry g)
    {
        int b = row / g.T, t = row - b * g.T;
        long oa = (long)(int)row * g.Dv;
        for (int c = 0; c < g.Dv; c++)
        {
            output[oa + c] = 0f;
        }
        float max = float.NegativeInfinity, sum = 0f;
        int keyEnd = g.KeyEnd(t);
        for (int s = 0; s < keyEnd; s++)
        {
            float score = ScoreAt(q, k, mask, keyPadding, g, b, t, s);
            if (score == float.NegativeInfinity)
            {
                continue;
            }
            if (score > max)
            {
                float correction = max == float.NegativeInfinity ? 0f : MathF.Exp(max - score);
                sum *= correction;
                for (int c = 0; c < g.Dv; c++)
                {
                    output[oa + c] *= correction;
                }
                max = score;
            }
            float p = MathF.Exp(score - max);
            sum += p;
            long va = ((long)b * g.S + s) * g.Dv;
            for (int c = 0; c < g.Dv; c++)
            {
                output[oa + c] += p * v[va + c];
            }
        }
        if (sum > 0f)
        {
            for (int c = 0; c < g.Dv; c++)
            {
                output[oa + c] /= sum;
            }
            lse[row] = max + MathF.Log(sum);
        }
        else
        {
            lse[row] = float.NegativeInfinity;
        }
    }

    /// <summary>dO_t . O_t, the softmax backward's row term.</summary>
    private static float Delta(AttentionBackwardViews a, AttentionGeometry g, int row)
    {
        long oa = (long)(int)row * g.Dv;
        float delta = 0f;
        for (int c = 0; c < g.Dv; c++)
        {
            delta += a.DOutput[oa + c] * a.Output[oa + c];
        }
        return delta;
    }

    /// <summary>dS_ts = P_ts (dO_t . v_s - D_t) * scale for a kept key, with P_ts recomputed from the saved log-sum-exp; 0 for a dropped one.</summary>
    private static float ScoreGrad(AttentionBackwardViews a, AttentionGeometry g, int b, int t, int s, float delta, out float p)
    {
        float rowLse = a.Lse[(long)b * g.T + t];
        p = 0f;
        if (rowLse == float.NegativeInfinity)
        {
            return 0f;
        }
        p = MathF.Exp(ScoreAt(a.Q, a.K, a.Mask, a.KeyPadding, g, b, t, s) - rowLse);
        if (rowLse < AttentionMath.SwampedLogSumExp)
        {
            // Every kept key padded: uniform weights 1/count, and no gradient to the swamped scores (AttentionMath.SwampedLogSumExp).
            p /= KeptKeys(a.Mask, g, t);
            return 0f;
        }
        long oa = ((long)b * g.T + t) * g.Dv, va = ((long)b * g.S + s) * g.Dv;
        float dp = 0f;
        for (int c = 0; c < g.Dv; c++)
        {
            dp += a.DOutput[oa + c] * a.V[va + c];
        }
        return p * (dp - delta) * g.Scale;
    }

    /// <summary><see cref="AttentionMath.KeptKeys"/> on a device view (kernels take no spans).</summary>
    private static int KeptKeys(ArrayView<float> mask, AttentionGeometry g, int t)
    {
        int end = g.KeyEnd(t);
        if (g.HasMask == 0)
        {
            return end;
        }
        int kept = 0;
        for (int s = 0; s < end; s++)
        {
            kept += mask[(long)t * g.S + s] == float.NegativeInfinity ? 0 : 1;
        }
        return kept;
    }

    /// <summary>dq_t = sum_s dS_ts k_s for one query row.</summary>
    internal static void AttentionQueryGradKernel(Index1D row, AttentionBackwardViews a, ArrayView<float> dq, AttentionGeometry g)
    {
        int b = row / g.T, t = row - b * g.T;
        float delta = Delta(a, g, row);
        long qa = (long)(int)row * g.D;
        int keyEnd = g.KeyEnd(t);
        for (int s = 0; s < keyEnd; s++)
        {
            float ds = ScoreGrad(a, g, b, t, s, delta, out _);
            long ka = ((long)b * g.S + s) * g.D;
            for (int c = 0; c < g.D; c++)
            {
                dq[qa + c] += ds * a.K[ka + c];
            }
        }
    }

    /// <summary>dk_s = sum_t dS_ts q_t and dv_s = sum_t P_ts dO_t for one key row.</summary>
    internal static void AttentionKeyGradKernel(Index1D keyRow, AttentionBackwardViews a, ArrayView<float> dk, ArrayView<float> dv, AttentionGeometry g)
    {
        int b = keyRow / g.S, s = keyRow - b * g.S;
        long ka = (long)(int)keyRow * g.D, va = (long)(int)keyRow * g.Dv;
        for (int t = g.Causal != 0 ? s : 0; t < g.T; t++)
        {
            int row = b * g.T + t;
            float ds = ScoreGrad(a, g, b, t, s, Delta(a, g, row), out float p);
            long qa = (long)(int)row * g.D, oa = (long)(int)row * g.Dv;
            for (int c = 0; c < g.D; c++)
            {
                dk[ka + c] += ds * a.Q[qa + c];
            }
            for (int c = 0; c < g.Dv; c++)
            {
                dv[va + c] += p * a.DOutput[oa + c];
            }
        }
    }
}
