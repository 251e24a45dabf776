using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Fused scaled dot-product attention: forward runs one thread group per query row, the row's maximum and sum of
/// exponentials are group reductions over the keys, and the output is accumulated over chunks of keys whose weights
/// the group stages in shared memory (each thread owning output columns); backward runs one group per query row for
/// dq and one per key row for dk and dv (no atomics), both recomputing each weight from the saved log-sum-exp, again
/// over chunks staged in shared memory.
/// </summary>
public sealed partial class GpuDevice
{
    protected override void AttentionCore(in AttentionGeometry g, Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? keyPadding, Tensor output, Tensor logSumExp)
    {
        const string op = nameof(Attention);
        var qv = F(q, op);
        Kernel(nameof(AttentionRowKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionRowKernel))(
            RowLaunch((long)g.Batch * g.T, Math.Max(g.S, g.Dv), op), qv, F(k, op), F(v, op), mask is null ? qv : F(mask, op), keyPadding is null ? qv : F(keyPadding, op),
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
            // The keys each query keeps under the [T,S] mask, for rows whose kept keys are all padded (uniform weights).
            var kept = SequenceScratch(g.T);
            if (g.HasMask != 0)
            {
                Kernel(nameof(AttentionKeptKeysKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionKeptKeysKernel))(
                    RowLaunch(g.T, g.S, op), maskView, kept, g);
            }
            Kernel(nameof(AttentionQueryGradKernel), a => a.LoadStreamKernel<AttentionBackwardViews, ArrayView<float>, AttentionGeometry>(AttentionQueryGradKernel))(
                RowLaunch((long)g.Batch * g.T, Math.Max(g.S, Math.Max(g.D, g.Dv)), op), args, F(dq, op), g);
            Kernel(nameof(AttentionKeyGradKernel), a => a.LoadStreamKernel<AttentionBackwardViews, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionGeometry>(AttentionKeyGradKernel))(
                RowLaunch((long)g.Batch * g.S, Math.Max(g.T, Math.Max(g.D, g.Dv)), op), args, kept, F(dk, op), F(dv, op), g);
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

    /// <summary>
    /// One group per query row: the maximum of the kept scores and the sum of their exponentials are group reductions
    /// over the keys; then, chunk by chunk, the group stages the chunk's weights in shared memory and each thread adds
    /// them times v into the output columns it owns. A row with no kept key gets a zero output and -inf.
    /// </summary>
    internal static void AttentionRowKernel(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask,
        ArrayView<float> keyPadding, ArrayView<float> output, ArrayView<float> lse, AttentionGeometry g)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        var weights = SharedMemory.Allocate<float>(MaxReduceGroup);
        int row = Grid.IdxX, tid = Group.IdxX, size = Group.DimX;
        int b = row / g.T, t = row - b * g.T;
        long oa = (long)row * g.Dv;
        int keyEnd = g.KeyEnd(t);
        float max = float.NegativeInfinity;
        for (int s = tid; s < keyEnd; s += size)
        {
            max = MathF.Max(max, ScoreAt(q, k, mask, keyPadding, g, b, t, s));
        }
        max = GroupMax(shared, max);
        float sum = 0f;
        if (max != float.NegativeInfinity)
        {
            for (int s = tid; s < keyEnd; s += size)
            {
                sum += MathF.Exp(ScoreAt(q, k, mask, keyPadding, g, b, t, s) - max);
            }
        }
        // Every thread takes the same branch (max is the group's), so the reduction below is reached by all or none.
        sum = GroupSum(shared, sum);
        for (int c = tid; c < g.Dv; c += size)
        {
            output[oa + c] = 0f;
        }
        if (sum > 0f)
        {
            float inv = 1f / sum;
            for (int s0 = 0; s0 < keyEnd; s0 += size)
            {
                int s = s0 + tid;
                weights[tid] = s < keyEnd ? MathF.Exp(ScoreAt(q, k, mask, keyPadding, g, b, t, s) - max) * inv : 0f;
                Group.Barrier();
                int count = Math.Min(size, keyEnd - s0);
                long va = ((long)b * g.S + s0) * g.Dv;
                for (int c = tid; c < g.Dv; c += size)
                {
                    float acc = 0f;
                    for (int j = 0; j < count; j++)
                    {
                        acc += weights[j] * v[va + (long)j * g.Dv + c];
                    }
                    output[oa + c] += acc;
                }
                Group.Barrier();
            }
        }
        if (tid == 0)
        {
            lse[row] = sum > 0f ? max + MathF.Log(sum) : float.NegativeInfinity;
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

    /// <summary>
    /// dS_ts = P_ts (dO_t . v_s - D_t) * scale for a kept key, with P_ts recomputed from the saved log-sum-exp
    /// <paramref name="rowLse"/>; 0 for a dropped one. <paramref name="kept"/> is the row's count of kept keys, used
    /// only when every kept key is padded.
    /// </summary>
    private static float ScoreGrad(AttentionBackwardViews a, AttentionGeometry g, int b, int t, int s, float rowLse, float delta, float kept, out float p)
    {
        p = 0f;
        if (rowLse == float.NegativeInfinity)
        {
            return 0f;
        }
        p = MathF.Exp(ScoreAt(a.Q, a.K, a.Mask, a.KeyPadding, g, b, t, s) - rowLse);
        if (rowLse < AttentionMath.SwampedLogSumExp)
        {
            // Every kept key padded: uniform weights 1/count, and no gradient to the swamped scores (AttentionMath.SwampedLogSumExp).
            p /= kept;
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

    /// <summary>
    /// kept[t] = the keys query t keeps under the [T,S] mask (<see cref="AttentionMath.KeptKeys"/>): one group per query,
    /// the count a group reduction.
    /// </summary>
    internal static void AttentionKeptKeysKernel(ArrayView<float> mask, ArrayView<float> kept, AttentionGeometry g)
    {
        var shared = SharedMemory.Allocate<int>(MaxReduceGroup);
        int t = Grid.IdxX;
        int end = g.KeyEnd(t);
        int count = 0;
        for (int s = Group.IdxX; s < end; s += Group.DimX)
        {
            count += mask[(long)t * g.S + s] == float.NegativeInfinity ? 0 : 1;
        }
        count = GroupInt(shared, count, 0);
        if (Group.IdxX == 0)
        {
            kept[t] = count;
        }
    }

    /// <summary>
    /// dq_t = sum_s dS_ts k_s: one group per query row; D_t is a group reduction, then chunk by chunk the group stages
    /// dS_ts in shared memory and each thread adds them times k into the dq columns it owns.
    /// </summary>
    internal static void AttentionQueryGradKernel(AttentionBackwardViews a, ArrayView<float> dq, AttentionGeometry g)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        var grads = SharedMemory.Allocate<float>(MaxReduceGroup);
        int row = Grid.IdxX, tid = Group.IdxX, size = Group.DimX;
        int b = row / g.T, t = row - b * g.T;
        long oa = (long)row * g.Dv;
        float delta = 0f;
        for (int c = tid; c < g.Dv; c += size)
        {
            delta += a.DOutput[oa + c] * a.Output[oa + c];
        }
        delta = GroupSum(shared, delta);
        float rowLse = a.Lse[row];
        // No kept key, or every kept key padded: no gradient reaches q (the same for the whole group).
        if (rowLse == float.NegativeInfinity || rowLse < AttentionMath.SwampedLogSumExp)
        {
            return;
        }
        long qa = (long)row * g.D;
        int keyEnd = g.KeyEnd(t);
        for (int s0 = 0; s0 < keyEnd; s0 += size)
        {
            int s = s0 + tid;
            grads[tid] = s < keyEnd ? ScoreGrad(a, g, b, t, s, rowLse, delta, 1f, out _) : 0f;
            Group.Barrier();
            int count = Math.Min(size, keyEnd - s0);
            long ka = ((long)b * g.S + s0) * g.D;
            for (int c = tid; c < g.D; c += size)
            {
                float acc = 0f;
                for (int j = 0; j < count; j++)
                {
                    acc += grads[j] * a.K[ka + (long)j * g.D + c];
                }
                dq[qa + c] += acc;
            }
            Group.Barrier();
        }
    }

    /// <summary>
    /// dk_s = sum_t dS_ts q_t and dv_s = sum_t P_ts dO_t: one group per key row; chunk by chunk the group stages the
    /// chunk's dS_ts and P_ts in shared memory (each thread one query, its D_t a dot product over the value width) and
    /// each thread adds them into the dk and dv columns it owns.
    /// </summary>
    internal static void AttentionKeyGradKernel(AttentionBackwardViews a, ArrayView<float> kept, ArrayView<float> dk, ArrayView<float> dv, AttentionGeometry g)
    {
        var grads = SharedMemory.Allocate<float>(MaxReduceGroup);
        var weights = SharedMemory.Allocate<float>(MaxReduceGroup);
        int keyRow = Grid.IdxX, tid = Group.IdxX, size = Group.DimX;
        int b = keyRow / g.S, s = keyRow - b * g.S;
        long ka = (long)keyRow * g.D, va = (long)keyRow * g.Dv;
        int first = g.Causal != 0 ? s : 0;
        for (int t0 = first; t0 < g.T; t0 += size)
        {
            int t = t0 + tid;
            float ds = 0f, p = 0f;
            if (t < g.T)
            {
                int row = b * g.T + t;
                float keptKeys = g.HasMask != 0 ? kept[t] : g.KeyEnd(t);
                ds = ScoreGrad(a, g, b, t, s, a.Lse[row], Delta(a, g, row), keptKeys, out p);
            }
            grads[tid] = ds;
            weights[tid] = p;
            Group.Barrier();
            int count = Math.Min(size, g.T - t0);
            long qa = ((long)b * g.T + t0) * g.D, oa = ((long)b * g.T + t0) * g.Dv;
            for (int c = tid; c < g.D; c += size)
            {
                float acc = 0f;
                for (int j = 0; j < count; j++)
                {
                    acc += grads[j] * a.Q[qa + (long)j * g.D + c];
                }
                dk[ka + c] += acc;
            }
            for (int c = tid; c < g.Dv; c += size)
            {
                float acc = 0f;
                for (int j = 0; j < count; j++)
                {
                    acc += weights[j] * a.DOutput[oa + (long)j * g.Dv + c];
                }
                dv[va + c] += acc;
            }
            Group.Barrier();
        }
    }
}
