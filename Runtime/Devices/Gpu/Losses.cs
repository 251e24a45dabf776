using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    /// <summary>Elements per thread in the first pass of the MSE reduction.</summary>
    private const int ReduceChunk = 256;

    protected override void NllLossCore(Tensor logp, Tensor labels, Tensor loss, Tensor grad)
        => LabelLoss(logp, labels, loss, grad, fromLogits: false, nameof(NllLoss));

    protected override void CrossEntropyLossCore(Tensor logits, Tensor labels, Tensor loss, Tensor grad)
        => LabelLoss(logits, labels, loss, grad, fromLogits: true, nameof(CrossEntropyLoss));

    /// <summary>
    /// Per-row losses and gradients in one launch, then a one-thread pass that sums them in a fixed order and records
    /// the first bad label (a kernel cannot throw; <see cref="LossResult.Value"/> turns loss[1] into the exception).
    /// </summary>
    private void LabelLoss(Tensor scores, Tensor labels, Tensor loss, Tensor grad, bool fromLogits, string op)
    {
        int c = scores.Dims[^1];
        int n = Checked(scores.Length / c, op);
        var (s, y, g, l) = (F(scores, op), L(labels, op), F(grad, op), F(loss, op));
        var rowLoss = Scratch(FloatScratch.RowValues, n);
        var flags = Scratch(IntScratch.RowFlags, n);
        if (n > 0)
        {
            Kernel(nameof(LabelLossRowKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, float, int>(LabelLossRowKernel))(
                n, s, y, g, rowLoss, flags, c, 1f / n, fromLogits ? 1 : 0);
        }
        Kernel(nameof(LabelLossReduceKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>(LabelLossReduceKernel))(
            1, rowLoss, flags, l, n);
    }

    protected override void MseLossCore(Tensor x, Tensor target, Tensor loss, Tensor grad)
    {
        const string op = nameof(MseLoss);
        var (xv, t, g, l) = (F(x, op), F(target, op), F(grad, op), F(loss, op));
        int count = Checked(x.Length, op);
        int chunks = (count + ReduceChunk - 1) / ReduceChunk;
        var partials = Scratch(FloatScratch.RowValues, chunks);
        if (chunks > 0)
        {
            Kernel(nameof(MseChunkKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(MseChunkKernel))(
                chunks, xv, t, g, partials, count);
        }
        Kernel(nameof(MseReduceKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(MseReduceKernel))(
            1, partials, l, chunks, count);
    }

    protected override long CountCorrectCore(Tensor scores, Tensor labels)
    {
        const string op = nameof(CountCorrect);
        int c = scores.Dims[^1];
        int n = Checked(scores.Length / c, op);
        var (s, y) = (F(scores, op), L(labels, op));
        if (n == 0)
        {
            return 0;
        }
        var flags = Scratch(IntScratch.RowFlags, n);
        var result = Scratch(IntScratch.Result, 1);
        Kernel(nameof(CorrectRowKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<int>, int>(CorrectRowKernel))(
            n, s, y, flags, c);
        Kernel(nameof(SumIntsKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, int>(SumIntsKernel))(
            1, flags, result, n);
        result.SubView(0, 1).CopyToCPU(Stream, _oneInt);
        Stream.Synchronize();
        return _oneInt[0];
    }

    // ------------------------------------------------------------------ kernels

    internal static void LabelLossRowKernel(Index1D r, ArrayView<float> scores, ArrayView<long> labels, ArrayView<float> grad,
        ArrayView<float> rowLoss, ArrayView<int> bad, int c, float inv, int fromLogits)
    {
        int start = r * c;
        long label = labels[r];
        if (label < 0 || label >= c)
        {
            // Recorded, not thrown: the row contributes nothing and the reduction reports it.
            bad[r] = 1;
            rowLoss[r] = 0f;
            for (int j = 0; j < c; j++)
            {
                grad[start + j] = 0f;
            }
            return;
        }
        bad[r] = 0;
        int target = (int)label;
        if (fromLogits != 0)
        {
            float max = scores[start];
            for (int j = 1; j < c; j++)
            {
                max = MathF.Max(max, scores[start + j]);
            }
            float sum = 0f;
            for (int j = 0; j < c; j++)
            {
                sum += MathF.Exp(scores[start + j] - max);
            }
            float logSum = MathF.Log(sum) + max;
            rowLoss[r] = logSum - scores[start + target];
            for (int j = 0; j < c; j++)
            {
                grad[start + j] = MathF.Exp(scores[start + j] - logSum) * inv;
            }
            grad[start + target] -= inv;
        }
        else
        {
            rowLoss[r] = -scores[start + target];
            for (int j = 0; j < c; j++)
            {
                grad[start + j] = 0f;
            }
            grad[start + target] = -inv;
        }
    }

    internal static void LabelLossReduceKernel(Index1D i, ArrayView<float> rowLoss, ArrayView<int> bad, ArrayView<float> loss, int n)
    {
        float sum = 0f;
        float carry = 0f;
        int firstBad = 0;
        for (int r = 0; r < n; r++)
        {
            float v = rowLoss[r] - carry;
            float t = sum + v;
            carry = (t - sum) - v;
            sum = t;
            if (firstBad == 0 && bad[r] != 0)
            {
                firstBad = r + 1;
            }
        }
        loss[0] = n > 0 ? sum / n : 0f;
        if (loss.Length > 1)
        {
            loss[1] = firstBad;
        }
    }

    internal static void MseChunkKernel(Index1D chunk, ArrayView<float> x, ArrayView<float> target, ArrayView<float> grad, ArrayView<float> partials, int count)
    {
        float scale = 2f / count;
        int start = chunk * ReduceChunk;
        int end = Math.Min(count, start + ReduceChunk);
        float sum = 0f;
        for (int i = start; i < end; i++)
        {
            float d = x[i] - target[i];
            sum += d * d;
            grad[i] = scale * d;
        }
        partials[chunk] = sum;
    }

    internal static void MseReduceKernel(Index1D i, ArrayView<float> partials, ArrayView<float> loss, int chunks, int count)
    {
        float sum = 0f;
        float carry = 0f;
        for (int j = 0; j < chunks; j++)
        {
            float v = partials[j] - carry;
            float t = sum + v;
            carry = (t - sum) - v;
            sum = t;
        }
        loss[0] = count > 0 ? sum / count : 0f;
        if (loss.Length > 1)
        {
            loss[1] = 0f;
        }
    }

    /// <summary>1 when the row's first maximum is at its label (as the CPU: strict comparison, first wins).</summary>
    internal static void CorrectRowKernel(Index1D r, ArrayView<float> scores, ArrayView<long> labels, ArrayView<int> correct, int c)
    {
        int start = r * c;
        int best = 0;
        for (int j = 1; j < c; j++)
        {
            if (scores[start + j] > scores[start + best])
            {
                best = j;
            }
        }
        correct[r] = best == labels[r] ? 1 : 0;
    }

    internal static void SumIntsKernel(Index1D i, ArrayView<int> values, ArrayView<int> result, int n)
    {
        int sum = 0;
        for (int j = 0; j < n; j++)
        {
            sum += values[j];
        }
        result[0] = sum;
    }
}
