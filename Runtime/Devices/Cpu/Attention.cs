using System.Numerics.Tensors;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu;

// Fused scaled dot-product attention, FlashAttention-2's schedule (Dao 2023) on the CPU. A forward job item is a tile
// of QueryBlock query rows of one batch entry; it walks the keys in blocks of AttentionGeometry.KeyBlock: the block of
// scores is a [rows, 64] product of the query tile and the block of keys transposed (AttentionTiles' Vector512
// micro-kernels, operands in L1), masked and scaled in one pass that also finds each row's maximum, then the online
// softmax keeps per row only the running maximum and sum, rescaling the output rows accumulated so far when the
// maximum grows, and P V accumulates as a second small product. The score matrix never exists beyond one
// [QueryBlock, KeyBlock] tile per thread, and a causal mask skips the key blocks past a tile's last query.
// Backward recomputes each tile of weights as exp(score - lse) from the saved log-sum-exp; a job item is one batch
// entry, walking its query tiles and key blocks in a fixed order, so dk and dv accumulate in that thread's scratch
// without races and every result is the same whatever the thread count. Scratch is per thread, grown once
// (PackBuffer): O(QueryBlock * width) for the forward, O(S * width) for the backward's dk and dv, linear in the length.
public sealed partial class CpuDevice
{
    private const int QueryBlock = 64;
    private const int KeyBlock = AttentionGeometry.KeyBlock;

    [ThreadStatic] private static PackBuffer? t_attentionScratch;

    protected override void AttentionCore(in AttentionGeometry g, Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? keyPadding, Tensor output, Tensor logSumExp)
    {
        int blocks = (g.T + QueryBlock - 1) / QueryBlock;
        var job = new ForwardJob(g, blocks, Floats(q), Floats(k), Floats(v), mask is null ? default : Floats(mask), keyPadding is null ? default : Floats(keyPadding),
            Floats(output), Floats(logSumExp));
        ParallelRange(g.Batch * blocks, 1, ref job);
    }

    protected override void AttentionBackwardCore(in AttentionGeometry g, Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? keyPadding,
        Tensor output, Tensor logSumExp, Tensor dOutput, Tensor dq, Tensor dk, Tensor dv)
    {
        var job = new BackwardJob(g, Floats(q), Floats(k), Floats(v), mask is null ? default : Floats(mask), keyPadding is null ? default : Floats(keyPadding),
            Floats(output), Floats(logSumExp), Floats(dOutput), Floats(dq), Floats(dk), Floats(dv));
        ParallelRange(g.Batch, 1, ref job);
    }

    /// <summary>A contiguous float tensor as (array, offset): the jobs below are structs and cannot hold spans.</summary>
    private static ArraySegment<float> Floats(Tensor t) => new(((CpuStorage)t.Storage).Floats!, checked((int)t.Offset), checked((int)t.Length));

    /// <summary>This thread's attention scratch of at least <paramref name="length"/> floats, 64-byte aligned.</summary>
    private static unsafe float* AttentionScratch(long length) => (t_attentionScratch ??= new PackBuffer()).Get(checked((int)length));

    /// <summary>
    /// The [rows, 64] tile of masked, scaled scores (ld KeyBlock) of query rows t0.. (at <paramref name="qRows"/>, D apart)
    /// against keys s0..s0+n of batch entry b, with keys past a row's causal end at -inf; the keys are transposed into
    /// <paramref name="kt"/> [D, 64] first. <paramref name="rowMax"/> receives each row's maximum when not null.
    /// </summary>
    private static unsafe void ScoreTile(in AttentionGeometry g, float* qRows, float* kBase, float* mask, float* keyPadding, int b, int t0, int rows, int s0, int n,
        float* kt, float* scores, float* rowMax)
    {
        int nPad = AttentionTiles.Padded(n);
        AttentionTiles.Transpose(kBase + ((long)b * g.S + s0) * g.D, g.D, n, g.D, kt, KeyBlock, nPad);
        AttentionTiles.Multiply(rows, nPad, g.D, qRows, g.D, kt, KeyBlock, scores, KeyBlock, accumulate: false);
        float* pad = keyPadding == null ? null : keyPadding + (long)(b / g.Heads) * g.S + s0;
        for (int r = 0; r < rows; r++)
        {
            int t = t0 + r;
            int keep = Math.Clamp(g.KeyEnd(t) - s0, 0, n);
            float m = AttentionTiles.ScoreRow(scores + r * KeyBlock, keep, n, g.Scale, mask == null ? null : mask + (long)t * g.S + s0, pad);
            if (rowMax != null)
            {
                rowMax[r] = m;
            }
        }
    }

    private readonly struct ForwardJob(AttentionGeometry g, int blocks, ArraySegment<float> q, ArraySegment<float> k, ArraySegment<float> v,
        ArraySegment<float> mask, ArraySegment<float> keyPadding, ArraySegment<float> output, ArraySegment<float> lse) : IRangeJob
    {
        public unsafe void Run(int start, int end)
        {
            int dvPad = AttentionTiles.Padded(g.Dv);
            bool packV = dvPad != g.Dv;
            // kt [D, 64] | vPacked [64, dvPad] | scores [64, 64] | acc [64, dvPad] | max, sum, blockMax [64 each]
            long ktLen = (long)g.D * KeyBlock, vLen = packV ? (long)KeyBlock * dvPad : 0, sLen = QueryBlock * KeyBlock, accLen = (long)QueryBlock * dvPad;
            float* kt = AttentionScratch(ktLen + vLen + sLen + accLen + 3 * QueryBlock);
            float* vPacked = kt + ktLen, scores = vPacked + vLen, acc = scores + sLen, max = acc + accLen, sum = max + QueryBlock, blockMax = sum + QueryBlock;
            fixed (float* q0 = q.Array, k0 = k.Array, v0 = v.Array, m0 = mask.Array, p0 = keyPadding.Array, o0 = output.Array, l0 = lse.Array)
            {
                float* qBase = q0 + q.Offset, kBase = k0 + k.Offset, vBase = v0 + v.Offset, oBase = o0 + output.Offset, lBase = l0 + lse.Offset;
                float* maskBase = m0 == null ? null : m0 + mask.Offset, padBase = p0 == null ? null : p0 + keyPadding.Offset;
                for (int item = start; item < end; item++)
                {
                    int b = item / blocks, t0 = item % blocks * QueryBlock;
                    int rows = Math.Min(QueryBlock, g.T - t0);
                    float* qRows = qBase + ((long)b * g.T + t0) * g.D;
                    new Span<float>(acc, rows * dvPad).Clear();
                    new Span<float>(max, rows).Fill(float.NegativeInfinity);
                    new Span<float>(sum, rows).Clear();
                    int keyEnd = g.KeyEnd(t0 + rows - 1);
                    for (int s0 = 0; s0 < keyEnd; s0 += KeyBlock)
                    {
                        int n = Math.Min(KeyBlock, keyEnd - s0);
                        ScoreTile(g, qRows, kBase, maskBase, padBase, b, t0, rows, s0, n, kt, scores, blockMax);
                        for (int r = 0; r < rows; r++)
                        {
                            float* row = scores + r * KeyBlock;
                            float rowMax = MathF.Max(max[r], blockMax[r]);
                            if (float.IsNegativeInfinity(rowMax))
                            {
                                new Span<float>(row, n).Clear(); // nothing kept yet: these weights are 0
                                continue;
                            }
                            if (rowMax > max[r])
                            {
                                // Rescale what was accumulated against the old maximum (exp(-inf) = 0 the first time).
                                float correction = MathF.Exp(max[r] - rowMax);
                                sum[r] *= correction;
                                AttentionTiles.ScaleRow(acc + r * dvPad, dvPad, correction);
                                max[r] = rowMax;
                            }
                            sum[r] += AttentionTiles.ExpRow(row, n, rowMax);
                        }
                        float* vBlock = vBase + ((long)b * g.S + s0) * g.Dv;
                        if (packV)
                        {
                            AttentionTiles.PadRows(vBlock, g.Dv, n, g.Dv, vPacked, dvPad);
                            vBlock = vPacked;
                        }
                        AttentionTiles.Multiply(rows, dvPad, n, scores, KeyBlock, vBlock, dvPad, acc, dvPad, accumulate: true);
                    }
                    for (int r = 0; r < rows; r++)
                    {
                        float* outRow = oBase + ((long)b * g.T + t0 + r) * g.Dv;
                        if (sum[r] > 0f)
                        {
                            float inv = 1f / sum[r];
                            for (int c = 0; c < g.Dv; c++)
                            {
                                outRow[c] = acc[r * dvPad + c] * inv;
                            }
                            lBase[(long)b * g.T + t0 + r] = max[r] + MathF.Log(sum[r]);
                        }
                        else
                        {
                            new Span<float>(outRow, g.Dv).Clear();
                            lBase[(long)b * g.T + t0 + r] = float.NegativeInfinity;
                        }
                    }
                }
            }
        }
    }

    private readonly struct BackwardJob(AttentionGeometry g, ArraySegment<float> q, ArraySegment<float> k, ArraySegment<float> v,
        ArraySegment<float> mask, ArraySegment<float> keyPadding, ArraySegment<float> output, ArraySegment<float> lse, ArraySegment<float> dOutput,
        ArraySegment<float> dq, ArraySegment<float> dk, ArraySegment<float> dv) : IRangeJob
    {
        public unsafe void Run(int start, int end)
        {
            int dPad = AttentionTiles.Padded(g.D), dvPad = AttentionTiles.Padded(g.Dv);
            bool padD = dPad != g.D, padDv = dvPad != g.Dv;
            const int tile = QueryBlock * KeyBlock;
            // kt [D,64] | vt [Dv,64] | p, dp, ds, pT, dsT [64,64] | qPad [64,dPad] | doPad [64,dvPad] | kPad [64,dPad] | dqAcc [64,dPad]
            // | dkAcc [S,dPad] | dvAcc [S,dvPad] | delta [64]
            long ktLen = (long)g.D * KeyBlock, vtLen = (long)g.Dv * KeyBlock;
            long qPadLen = padD ? (long)QueryBlock * dPad : 0, doPadLen = padDv ? (long)QueryBlock * dvPad : 0, kPadLen = padD ? (long)KeyBlock * dPad : 0;
            long dqLen = (long)QueryBlock * dPad, dkLen = (long)g.S * dPad, dvLen = (long)g.S * dvPad;
            float* kt = AttentionScratch(ktLen + vtLen + 5L * tile + qPadLen + doPadLen + kPadLen + dqLen + dkLen + dvLen + QueryBlock);
            float* vt = kt + ktLen, p = vt + vtLen, dp = p + tile, ds = dp + tile, pT = ds + tile, dsT = pT + tile;
            float* qPad = dsT + tile, doPad = qPad + qPadLen, kPad = doPad + doPadLen, dqAcc = kPad + kPadLen, dkAcc = dqAcc + dqLen, dvAcc = dkAcc + dkLen;
            float* delta = dvAcc + dvLen;
            fixed (float* q0 = q.Array, k0 = k.Array, v0 = v.Array, m0 = mask.Array, p0 = keyPadding.Array, o0 = output.Array, l0 = lse.Array,
                   do0 = dOutput.Array, dq0 = dq.Array, dk0 = dk.Array, dv0 = dv.Array)
            {
                float* qBase = q0 + q.Offset, kBase = k0 + k.Offset, vBase = v0 + v.Offset, oBase = o0 + output.Offset, lBase = l0 + lse.Offset;
                float* doBase = do0 + dOutput.Offset, dqBase = dq0 + dq.Offset, dkBase = dk0 + dk.Offset, dvBase = dv0 + dv.Offset;
                float* maskBase = m0 == null ? null : m0 + mask.Offset, padBase = p0 == null ? null : p0 + keyPadding.Offset;
                for (int b = start; b < end; b++)
                {
                    new Span<float>(dkAcc, checked((int)(dkLen + dvLen))).Clear();
                    for (int t0 = 0; t0 < g.T; t0 += QueryBlock)
                    {
                        int rows = Math.Min(QueryBlock, g.T - t0);
                        float* qRows = qBase + ((long)b * g.T + t0) * g.D;
                        float* doRows = doBase + ((long)b * g.T + t0) * g.Dv;
                        float* qB = qRows, doB = doRows;
                        if (padD)
                        {
                            AttentionTiles.PadRows(qRows, g.D, rows, g.D, qPad, dPad);
                            qB = qPad;
                        }
                        if (padDv)
                        {
                            AttentionTiles.PadRows(doRows, g.Dv, rows, g.Dv, doPad, dvPad);
                            doB = doPad;
                        }
                        new Span<float>(dqAcc, rows * dPad).Clear();
                        for (int r = 0; r < rows; r++)
                        {
                            // D_t = dO_t . O_t = sum_s P_ts dP_ts: the softmax backward's row term.
                            delta[r] = TensorPrimitives.Dot(new ReadOnlySpan<float>(doRows + r * g.Dv, g.Dv), new ReadOnlySpan<float>(oBase + ((long)b * g.T + t0 + r) * g.Dv, g.Dv));
                        }
                        int keyEnd = g.KeyEnd(t0 + rows - 1);
                        for (int s0 = 0; s0 < keyEnd; s0 += KeyBlock)
                        {
                            int n = Math.Min(KeyBlock, keyEnd - s0);
                            int nPad = AttentionTiles.Padded(n);
                            ScoreTile(g, qRows, kBase, maskBase, padBase, b, t0, rows, s0, n, kt, p, null);
                            for (int r = 0; r < rows; r++)
                            {
                                float rowLse = lBase[(long)b * g.T + t0 + r];
                                if (float.IsNegativeInfinity(rowLse))
                                {
                                    new Span<float>(p + r * KeyBlock, n).Clear();
                                    continue;
                                }
                                AttentionTiles.ExpRow(p + r * KeyBlock, n, rowLse);
                                if (rowLse < AttentionMath.SwampedLogSumExp)
                                {
                                    // Every kept key padded: uniform weights 1/count (the saved lse lost log(count) to rounding).
                                    var keptMask = maskBase == null ? default : new ReadOnlySpan<float>(maskBase, g.T * g.S);
                                    TensorPrimitives.Multiply(new ReadOnlySpan<float>(p + r * KeyBlock, n), 1f / AttentionMath.KeptKeys(g, keptMask, t0 + r),
                                        new Span<float>(p + r * KeyBlock, n));
                                }
                            }
                            float* vBlock = vBase + ((long)b * g.S + s0) * g.Dv;
                            float* kBlock = kBase + ((long)b * g.S + s0) * g.D;
                            // dV += P^T dO; dP = dO V^T; dS = P (dP - D) * scale; dQ += dS K; dK += dS^T Q.
                            AttentionTiles.Transpose(p, KeyBlock, rows, n, pT, QueryBlock, rows);
                            AttentionTiles.Multiply(n, dvPad, rows, pT, QueryBlock, doB, dvPad, dvAcc + (long)s0 * dvPad, dvPad, accumulate: true);
                            AttentionTiles.Transpose(vBlock, g.Dv, n, g.Dv, vt, KeyBlock, nPad);
                            AttentionTiles.Multiply(rows, nPad, g.Dv, doRows, g.Dv, vt, KeyBlock, dp, KeyBlock, accumulate: false);
                            for (int r = 0; r < rows; r++)
                            {
                                if (lBase[(long)b * g.T + t0 + r] < AttentionMath.SwampedLogSumExp)
                                {
                                    new Span<float>(ds + r * KeyBlock, n).Clear(); // swamped scores: the output does not depend on them
                                    continue;
                                }
                                AttentionTiles.SoftmaxGradRow(p + r * KeyBlock, dp + r * KeyBlock, ds + r * KeyBlock, n, delta[r], g.Scale);
                            }
                            float* kB = kBlock;
                            if (padD)
                            {
                                AttentionTiles.PadRows(kBlock, g.D, n, g.D, kPad, dPad);
                                kB = kPad;
                            }
                            AttentionTiles.Multiply(rows, dPad, n, ds, KeyBlock, kB, dPad, dqAcc, dPad, accumulate: true);
                            AttentionTiles.Transpose(ds, KeyBlock, rows, n, dsT, QueryBlock, rows);
                            AttentionTiles.Multiply(n, dPad, rows, dsT, QueryBlock, qB, dPad, dkAcc + (long)s0 * dPad, dPad, accumulate: true);
                        }
                        AttentionTiles.UnpadRows(dqAcc, dPad, rows, g.D, dqBase + ((long)b * g.T + t0) * g.D);
                    }
                    AttentionTiles.UnpadRows(dkAcc, dPad, g.S, g.D, dkBase + (long)b * g.S * g.D);
                    AttentionTiles.UnpadRows(dvAcc, dvPad, g.S, g.Dv, dvBase + (long)b * g.S * g.Dv);
                }
            }
        }
    }
}
