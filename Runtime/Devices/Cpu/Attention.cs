using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu;

// Fused scaled dot-product attention. Forward walks each query row over blocks of AttentionGeometry.KeyBlock keys with
// an online softmax (running maximum and sum; the accumulated output is rescaled when the maximum grows), so only one
// block of scores per row exists at a time. Backward recomputes each weight as exp(score - lse) and owns one batch
// entry per thread, so dk and dv accumulate without races.
public sealed partial class CpuDevice
{
    protected override void AttentionCore(in AttentionGeometry g, Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? keyPadding, Tensor output, Tensor logSumExp)
    {
        var job = new ForwardJob(g, Floats(q), Floats(k), Floats(v), mask is null ? default : Floats(mask), keyPadding is null ? default : Floats(keyPadding),
            Floats(output), Floats(logSumExp));
        ParallelRange(g.Batch * g.T, 4, ref job);
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

    /// <summary>The additive mask entries for query t of batch entry b and key s.</summary>
    private static float MaskAt(in AttentionGeometry g, ArraySegment<float> mask, ArraySegment<float> keyPadding, int b, int t, int s)
        => (g.HasMask != 0 ? mask[t * g.S + s] : 0f) + (g.HasKeyPadding != 0 ? keyPadding[b / g.Heads * g.S + s] : 0f);

    private readonly struct ForwardJob(AttentionGeometry g, ArraySegment<float> q, ArraySegment<float> k, ArraySegment<float> v,
        ArraySegment<float> mask, ArraySegment<float> keyPadding, ArraySegment<float> output, ArraySegment<float> lse) : IRangeJob
    {
        public void Run(int start, int end)
        {
            Span<float> scores = stackalloc float[AttentionGeometry.KeyBlock];
            for (int row = start; row < end; row++)
            {
                int b = row / g.T, t = row - b * g.T;
                var qr = q.AsSpan(row * g.D, g.D);
                var acc = output.AsSpan(row * g.Dv, g.Dv);
                acc.Clear();
                float max = float.NegativeInfinity, sum = 0f;
                int keyEnd = g.KeyEnd(t);
                for (int s0 = 0; s0 < keyEnd; s0 += AttentionGeometry.KeyBlock)
                {
                    int n = Math.Min(AttentionGeometry.KeyBlock, keyEnd - s0);
                    var block = scores[..n];
                    for (int j = 0; j < n; j++)
                    {
                        int s = s0 + j;
                        float dot = TensorPrimitives.Dot(qr, k.AsSpan((b * g.S + s) * g.D, g.D));
                        block[j] = AttentionMath.Score(g, dot, 0f, MaskAt(g, mask, keyPadding, b, t, s));
                    }
                    float blockMax = TensorPrimitives.Max(block);
                    if (float.IsNegativeInfinity(blockMax))
                    {
                        continue;
                    }
                    if (blockMax > max)
                    {
                        // Rescale what has been accumulated against the old maximum.
                        float correction = MathF.Exp(max - blockMax);
                        sum *= correction;
                        TensorPrimitives.Multiply(acc, correction, acc);
                        max = blockMax;
                    }
                    TensorPrimitives.Subtract(block, max, block);
                    TensorPrimitives.Exp(block, block);
                    sum += TensorPrimitives.Sum(block);
                    for (int j = 0; j < n; j++)
                    {
                        TensorPrimitives.MultiplyAdd(v.AsSpan((b * g.S + s0 + j) * g.Dv, g.Dv), block[j], acc, acc);
                    }
                }
                if (sum > 0f)
                {
                    TensorPrimitives.Divide(acc, sum, acc);
                    lse[row] = max + MathF.Log(sum);
                }
                else
                {
                    lse[row] = float.NegativeInfinity;
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
            Span<float> weights = stackalloc float[AttentionGeometry.KeyBlock];
            for (int b = start; b < end; b++)
            {
                for (int t = 0; t < g.T; t++)
                {
                    int row = b * g.T + t;
                    float rowLse = lse[row];
                    if (float.IsNegativeInfinity(rowLse))
                    {
                        continue;
                    }
                    var qr = q.AsSpan(row * g.D, g.D);
                    var dqr = dq.AsSpan(row * g.D, g.D);
                    var dor = dOutput.AsSpan(row * g.Dv, g.Dv);
                    // D_t = dO_t . O_t = sum_s P_ts dP_ts: the softmax backward's row term.
                    float delta = TensorPrimitives.Dot(dor, output.AsSpan(row * g.Dv, g.Dv));
                    int keyEnd = g.KeyEnd(t);
                    for (int s0 = 0; s0 < keyEnd; s0 += AttentionGeometry.KeyBlock)
                    {
                        int n = Math.Min(AttentionGeometry.KeyBlock, keyEnd - s0);
                        var block = weights[..n];
                        for (int j = 0; j < n; j++)
                        {
                            int s = s0 + j;
                            float dot = TensorPrimitives.Dot(qr, k.AsSpan((b * g.S + s) * g.D, g.D));
                            block[j] = AttentionMath.Score(g, dot, 0f, MaskAt(g, mask, keyPadding, b, t, s)) - rowLse;
                        }
                        TensorPrimitives.Exp(block, block);
                        for (int j = 0; j < n; j++)
                        {
                            float p = block[j];
                            if (p == 0f)
                            {
                                continue;
                            }
                            int s = s0 + j;
                            var vs = v.AsSpan((b * g.S + s) * g.Dv, g.Dv);
                            float ds = p * (TensorPrimitives.Dot(dor, vs) - delta) * g.Scale;
                            TensorPrimitives.MultiplyAdd(k.AsSpan((b * g.S + s) * g.D, g.D), ds, dqr, dqr);
                            var dks = dk.AsSpan((b * g.S + s) * g.D, g.D);
                            TensorPrimitives.MultiplyAdd(qr, ds, dks, dks);
                            var dvs = dv.AsSpan((b * g.S + s) * g.Dv, g.Dv);
                            TensorPrimitives.MultiplyAdd(dor, p, dvs, dvs);
                        }
                    }
                }
            }
        }
    }
}
