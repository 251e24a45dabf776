using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu;

// Fused scaled dot-product attention (FlashAttention's schedule, Dao et al. 2022). A job item is a block of
// QueryBlock query rows of one batch entry; it walks the keys in blocks of AttentionGeometry.KeyBlock, computing the
// block of scores with the packed GEMM, and keeps per row only the running maximum and sum of an online softmax, rescaling
// the output rows accumulated so far when the maximum grows. So the score matrix never exists beyond one
// [QueryBlock, KeyBlock] block per thread, and memory grows linearly with the sequence length. Backward recomputes
// each block of weights as exp(score - lse) from the saved log-sum-exp; a job item is one batch entry, so its dk and
// dv accumulate without races.
public sealed partial class CpuDevice
{
    private const int QueryBlock = 64;
    private const int KeyBlock = AttentionGeometry.KeyBlock;

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

    /// <summary>
    /// scores[r, j] for query rows t0.. and keys s0..s0+n of batch entry b: scale * q k^T (the packed GEMM) plus the additive
    /// masks, -inf where a causal mask drops the key (<see cref="AttentionMath.Score"/> element by element, vectorised).
    /// </summary>
    private static void ScoreBlock(in AttentionGeometry g, ArraySegment<float> q, ArraySegment<float> k, ArraySegment<float> mask, ArraySegment<float> keyPadding,
        int b, int t0, int rows, int s0, int n, Span<float> scores)
    {
        CpuGemm.Multiply(false, true, rows, n, g.D, g.Scale, q.AsSpan((b * g.T + t0) * g.D, rows * g.D), k.AsSpan((b * g.S + s0) * g.D, n * g.D), 0f, scores);
        for (int r = 0; r < rows; r++)
        {
            var row = scores.Slice(r * n, n);
            int t = t0 + r;
            if (g.HasMask != 0)
            {
                TensorPrimitives.Add(row, mask.AsSpan(t * g.S + s0, n), row);
            }
            if (g.HasKeyPadding != 0)
            {
                TensorPrimitives.Add(row, keyPadding.AsSpan(b / g.Heads * g.S + s0, n), row);
            }
            int keep = Math.Clamp(g.KeyEnd(t) - s0, 0, n);
            row[keep..].Fill(float.NegativeInfinity);
        }
    }

    private readonly struct ForwardJob(AttentionGeometry g, int blocks, ArraySegment<float> q, ArraySegment<float> k, ArraySegment<float> v,
        ArraySegment<float> mask, ArraySegment<float> keyPadding, ArraySegment<float> output, ArraySegment<float> lse) : IRangeJob
    {
        public void Run(int start, int end)
        {
            Span<float> scores = stackalloc float[QueryBlock * KeyBlock];
            Span<float> max = stackalloc float[QueryBlock];
            Span<float> sum = stackalloc float[QueryBlock];
            for (int item = start; item < end; item++)
            {
                int b = item / blocks, t0 = item % blocks * QueryBlock;
                int rows = Math.Min(QueryBlock, g.T - t0);
                var acc = output.AsSpan((b * g.T + t0) * g.Dv, rows * g.Dv);
                acc.Clear();
                max.Fill(float.NegativeInfinity);
                sum.Clear();
                int keyEnd = g.KeyEnd(t0 + rows - 1);
                for (int s0 = 0; s0 < keyEnd; s0 += KeyBlock)
                {
                    int n = Math.Min(KeyBlock, keyEnd - s0);
                    var block = scores[..(rows * n)];
                    ScoreBlock(g, q, k, mask, keyPadding, b, t0, rows, s0, n, block);
                    for (int r = 0; r < rows; r++)
                    {
                        var row = block.Slice(r * n, n);
                        float rowMax = Math.Max(max[r], TensorPrimitives.Max(row));
                        if (float.IsNegativeInfinity(rowMax))
                        {
                            row.Clear(); // nothing kept yet: these weights are 0
                            continue;
                        }
                        if (rowMax > max[r])
                        {
                            // Rescale what was accumulated against the old maximum (exp(-inf) = 0 the first time).
                            float correction = MathF.Exp(max[r] - rowMax);
                            sum[r] *= correction;
                            var accRow = acc.Slice(r * g.Dv, g.Dv);
                            TensorPrimitives.Multiply(accRow, correction, accRow);
                            max[r] = rowMax;
                        }
                        TensorPrimitives.Subtract(row, rowMax, row);
                        TensorPrimitives.Exp(row, row);
                        sum[r] += TensorPrimitives.Sum(row);
                    }
                    CpuGemm.Multiply(false, false, rows, g.Dv, n, 1f, block, v.AsSpan((b * g.S + s0) * g.Dv, n * g.Dv), 1f, acc);
                }
                for (int r = 0; r < rows; r++)
                {
                    var accRow = acc.Slice(r * g.Dv, g.Dv);
                    if (sum[r] > 0f)
                    {
                        TensorPrimitives.Divide(accRow, sum[r], accRow);
                        lse[b * g.T + t0 + r] = max[r] + MathF.Log(sum[r]);
                    }
                    else
                    {
                        lse[b * g.T + t0 + r] = float.NegativeInfinity;
                    }
                }
            }
        }
    }

    private readonly struct BackwardJob(AttentionGeometry g, ArraySegment<float> q, ArraySegment<float> k, ArraySegment<float> v,
        ArraySegment<float> mask, ArraySegment<float> keyPadding, ArraySegment<float> output, ArraySegment<float> lse, ArraySegment<float> dOutput,
        ArraySegment<float> dq, ArraySegment<float> dk, ArraySegment<float> dv) : IRangeJob
    {
        public void Run(int start, int end)
        {
            Span<float> weights = stackalloc float[QueryBlock * KeyBlock];
            Span<float> dScores = stackalloc float[QueryBlock * KeyBlock];
            Span<float> delta = stackalloc float[QueryBlock];
            for (int b = start; b < end; b++)
            {
                for (int t0 = 0; t0 < g.T; t0 += QueryBlock)
                {
                    int rows = Math.Min(QueryBlock, g.T - t0);
                    var qBlock = q.AsSpan((b * g.T + t0) * g.D, rows * g.D);
                    var dqBlock = dq.AsSpan((b * g.T + t0) * g.D, rows * g.D);
                    var doBlock = dOutput.AsSpan((b * g.T + t0) * g.Dv, rows * g.Dv);
                    for (int r = 0; r < rows; r++)
                    {
                        // D_t = dO_t . O_t = sum_s P_ts dP_ts: the softmax backward's row term.
                        delta[r] = TensorPrimitives.Dot(doBlock.Slice(r * g.Dv, g.Dv), output.AsSpan((b * g.T + t0 + r) * g.Dv, g.Dv));
                    }
                    int keyEnd = g.KeyEnd(t0 + rows - 1);
                    for (int s0 = 0; s0 < keyEnd; s0 += KeyBlock)
                    {
                        int n = Math.Min(KeyBlock, keyEnd - s0);
                        var p = weights[..(rows * n)];
                        var ds = dScores[..(rows * n)];
                        ScoreBlock(g, q, k, mask, keyPadding, b, t0, rows, s0, n, p);
                        for (int r = 0; r < rows; r++)
                        {
                            var row = p.Slice(r * n, n);
                            float rowLse = lse[b * g.T + t0 + r];
                            if (float.IsNegativeInfinity(rowLse))
                            {
                                row.Clear();
                                continue;
                            }
                            TensorPrimitives.Subtract(row, rowLse, row);
                            TensorPrimitives.Exp(row, row);
                            if (rowLse < AttentionMath.SwampedLogSumExp)
                            {
                                // Every kept key padded: uniform weights 1/count (the saved lse lost log(count) to rounding).
                                TensorPrimitives.Multiply(row, 1f / AttentionMath.KeptKeys(g, mask.AsSpan(), t0 + r), row);
                            }
                        }
                        var vBlock = v.AsSpan((b * g.S + s0) * g.Dv, n * g.Dv);
                        var kBlock = k.AsSpan((b * g.S + s0) * g.D, n * g.D);
                        // dV += P^T dO; dP = dO V^T; dS = P (dP - D) * scale; dQ += dS K; dK += dS^T Q.
                        CpuGemm.Multiply(true, false, n, g.Dv, rows, 1f, p, doBlock, 1f, dv.AsSpan((b * g.S + s0) * g.Dv, n * g.Dv));
                        CpuGemm.Multiply(false, true, rows, n, g.Dv, 1f, doBlock, vBlock, 0f, ds);
                        for (int r = 0; r < rows; r++)
                        {
                            var dsRow = ds.Slice(r * n, n);
                            if (lse[b * g.T + t0 + r] < AttentionMath.SwampedLogSumExp)
                            {
                                dsRow.Clear(); // swamped scores: the output does not depend on them
                                continue;
                            }
                            TensorPrimitives.Subtract(dsRow, delta[r], dsRow);
                            TensorPrimitives.Multiply(dsRow, p.Slice(r * n, n), dsRow);
                            TensorPrimitives.Multiply(dsRow, g.Scale, dsRow);
                        }
                        CpuGemm.Multiply(false, false, rows, g.D, n, 1f, ds, kBlock, 1f, dqBlock);
                        CpuGemm.Multiply(true, false, n, g.D, rows, 1f, ds, qBlock, 1f, dk.AsSpan((b * g.S + s0) * g.D, n * g.D));
                    }
                }
            }
        }
    }
}
