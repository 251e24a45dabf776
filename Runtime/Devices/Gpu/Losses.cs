using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

public sealed partial class GpuDevice
{
    protected override void NllLossCore(Tensor logp, Tensor labels, Tensor loss, Tensor grad, long ignoreIndex)
        => LabelLoss(logp, labels, loss, grad, ignoreIndex, fromLogits: false, nameof(NllLoss));

    protected override void CrossEntropyLossCore(Tensor logits, Tensor labels, Tensor loss, Tensor grad, long ignoreIndex)
        => LabelLoss(logits, labels, loss, grad, ignoreIndex, fromLogits: true, nameof(CrossEntropyLoss));

    /// <summary>
    /// Three launches, none waiting for the host: one group counts the rows not ignored (the mean's divisor, which
    /// scales every gradient); one group per row writes the row's loss and gradient (the log-sum-exp reduced in shared
    /// memory); one group sums the rows in a shared-memory tree, divides by the count and finds the first bad label (a
    /// kernel cannot throw; <see cref="LossResult.Value"/> turns loss[1] into the exception).
    /// </summary>
    private void LabelLoss(Tensor scores, Tensor labels, Tensor loss, Tensor grad, long ignoreIndex, bool fromLogits, string op)
    {
        int c = scores.Dims[^1];
        int n = Checked(scores.Length / c, op);
        var (s, y, g, l) = (F(scores, op), L(labels, op), F(grad, op), F(loss, op));
        var rowLoss = Scratch(FloatScratch.RowValues, n);
        var flags = Scratch(IntScratch.RowFlags, n);
        var counted = Scratch(IntScratch.LabelCount, 1);
        Kernel(nameof(LabelCountKernel), a => a.LoadStreamKernel<ArrayView<long>, ArrayView<int>, int, long>(LabelCountKernel))(
            new KernelConfig(1, ReduceGroup), y, counted, n, ignoreIndex);
        if (n > 0)
        {
            Kernel(nameof(LabelLossRowKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, long, int>(LabelLossRowKernel))(
                new KernelConfig(n, RowGroup(c)), s, y, g, rowLoss, flags, counted, c, ignoreIndex, fromLogits ? 1 : 0);
        }
        Kernel(nameof(LabelLossFinishKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int>(LabelLossFinishKernel))(
            new KernelConfig(1, ReduceGroup), rowLoss, flags, counted, l, n);
    }

    /// <summary>loss[0] = scale * the sum of the first <paramref name="parts"/> partials; loss[1] = 1 + the first flagged row of <paramref name="rows"/>, or 0.</summary>
    private void FinishLoss(ArrayView<float> partials, ArrayView<int> flags, ArrayView<float> loss, int parts, int rows, float scale)
        => Kernel(nameof(LossFinishKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, float>(LossFinishKernel))(
            new KernelConfig(1, ReduceGroup), partials, flags, loss, parts, rows, scale);

    protected override void MseLossCore(Tensor x, Tensor target, Tensor loss, Tensor grad)
    {
        const string op = nameof(MseLoss);
        var (xv, t, g, l) = (F(x, op), F(target, op), F(grad, op), F(loss, op));
        int count = Checked(x.Length, op);
        int group = ReduceGroup;
        int groups = Math.Clamp((count + group - 1) / group, 1, MaxReduceGroups);
        var partials = Scratch(FloatScratch.Partials, groups);
        Kernel(nameof(MsePartialsKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(MsePartialsKernel))(
            new KernelConfig(groups, group), xv, t, g, partials, count);
        FinishLoss(partials, Scratch(IntScratch.RowFlags, 1), l, groups, 0, count > 0 ? 1f / count : 0f);
    }

    protected override long CountCorrectCore(Tensor scores, Tensor labels)
    {
        const string op = nameof(CountCorrect);
        _correctCounter ??= Accelerator.Allocate1D<long>(1);
        _correctCounter.View.MemSetToZero(Stream);
        CorrectViews(scores, labels, _correctCounter.View, Loss.DefaultIgnoreIndex, op);
        _correctCounter.View.CopyToCPU(Stream, _oneLong);
        Wait();
        return _oneLong[0];
    }

    protected override void AccumulateCorrectCore(Tensor scores, Tensor labels, Tensor counter, long ignoreIndex)
        => CorrectViews(scores, labels, L(counter, nameof(AccumulateCorrect)), ignoreIndex, nameof(AccumulateCorrect));

    /// <summary>counter[0] += the correct rows not ignored; counter[1], when the counter has it, += the rows not ignored.</summary>
    private void CorrectViews(Tensor scores, Tensor labels, ArrayView<long> counter, long ignoreIndex, string op)
    {
        int c = scores.Dims[^1];
        int n = Checked(scores.Length / c, op);
        var (s, y) = (F(scores, op), L(labels, op));
        if (n == 0)
        {
            return;
        }
        int group = ReduceGroup;
        int groups = Math.Clamp((n + group - 1) / group, 1, MaxReduceGroups);
        Kernel(nameof(CorrectCountKernel), a => a.LoadStreamKernel<ArrayView<float>, ArrayView<long>, ArrayView<long>, int, int, long>(CorrectCountKernel))(
            new KernelConfig(groups, group), s, y, counter, n, c, ignoreIndex);
    }

    private MemoryBuffer1D<long, Stride1D.Dense>? _correctCounter;
    private readonly long[] _oneLong = new long[1];

    // ------------------------------------------------------------------ kernels

    /// <summary>One group: counted[0] = the rows whose label is not <paramref name="ignoreIndex"/>.</summary>
    internal static void LabelCountKernel(ArrayView<long> labels, ArrayView<int> counted, int n, long ignoreIndex)
    {
        var shared = SharedMemory.Allocate<int>(MaxReduceGroup);
        int count = 0;
        for (int r = Group.IdxX; r < n; r += Group.DimX)
        {
            count += labels[r] == ignoreIndex ? 0 : 1;
        }
        int total = GroupInt(shared, count, 0);
        if (Group.IdxX == 0)
        {
            counted[0] = total;
        }
    }

    /// <summary>
    /// One group per row: the row's loss (NLL, or cross-entropy through a log-sum-exp) and gradient, scaled by
    /// 1 / counted[0]; an ignored row has zero loss and gradient.
    /// </summary>
    internal static void LabelLossRowKernel(ArrayView<float> scores, ArrayView<long> labels, ArrayView<float> grad,
        ArrayView<float> rowLoss, ArrayView<int> bad, ArrayView<int> counted, int c, long ignoreIndex, int fromLogits)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        int r = Grid.IdxX;
        int t = Group.IdxX;
        int start = r * c;
        long label = labels[r];
        bool ignored = label == ignoreIndex;
        if (ignored || label < 0 || label >= c)
        {
            // Ignored, or recorded (not thrown): the row contributes nothing and the reduction reports a bad one. The
            // whole group takes this branch, so no thread is left waiting at a barrier.
            for (int j = t; j < c; j += Group.DimX)
            {
                grad[start + j] = 0f;
            }
            if (t == 0)
            {
                bad[r] = ignored ? 0 : 1;
                rowLoss[r] = 0f;
            }
            return;
        }
        int target = (int)label;
        float inv = 1f / counted[0];
        if (fromLogits != 0)
        {
            float max = float.NegativeInfinity;
            for (int j = t; j < c; j += Group.DimX)
            {
                max = MathF.Max(max, scores[start + j]);
            }
            max = GroupMax(shared, max);
            float sum = 0f;
            for (int j = t; j < c; j += Group.DimX)
            {
                sum += MathF.Exp(scores[start + j] - max);
            }
            float logSum = MathF.Log(GroupSum(shared, sum)) + max;
            for (int j = t; j < c; j += Group.DimX)
            {
                float p = MathF.Exp(scores[start + j] - logSum) * inv;
                grad[start + j] = j == target ? p - inv : p;
            }
            if (t == 0)
            {
                bad[r] = 0;
                rowLoss[r] = logSum - scores[start + target];
            }
        }
        else
        {
            for (int j = t; j < c; j += Group.DimX)
            {
                grad[start + j] = j == target ? -inv : 0f;
            }
            if (t == 0)
            {
                bad[r] = 0;
                rowLoss[r] = -scores[start + target];
            }
        }
    }

    /// <summary>
    /// One group: loss[0] = the sum of the row losses / counted[0] (0 / 0 = NaN when every row is ignored, as
    /// PyTorch); loss[1] = 1 + the first row whose flag is set (0 if none).
    /// </summary>
    internal static void LabelLossFinishKernel(ArrayView<float> rowLoss, ArrayView<int> flags, ArrayView<int> counted, ArrayView<float> loss, int rows)
    {
        var sums = SharedMemory.Allocate<float>(MaxReduceGroup);
        var firsts = SharedMemory.Allocate<int>(MaxReduceGroup);
        float sum = 0f;
        int first = int.MaxValue;
        for (int r = Group.IdxX; r < rows; r += Group.DimX)
        {
            sum += rowLoss[r];
            if (first == int.MaxValue && flags[r] != 0)
            {
                // Rows are visited in increasing order per thread: the first hit is this thread's smallest.
                first = r;
            }
        }
        float total = GroupSum(sums, sum);
        int firstBad = GroupInt(firsts, first, 1);
        if (Group.IdxX == 0)
        {
            loss[0] = total / counted[0];
            if (loss.Length > 1)
            {
                loss[1] = firstBad == int.MaxValue ? 0f : firstBad + 1;
            }
        }
    }

    /// <summary>
    /// One group: loss[0] = scale * the sum of the partials; loss[1] = 1 + the first row whose flag is set (0 if none).
    /// </summary>
    internal static void LossFinishKernel(ArrayView<float> partials, ArrayView<int> flags, ArrayView<float> loss, int parts, int rows, float scale)
    {
        var sums = SharedMemory.Allocate<float>(MaxReduceGroup);
        var firsts = SharedMemory.Allocate<int>(MaxReduceGroup);
        float sum = 0f;
        for (int i = Group.IdxX; i < parts; i += Group.DimX)
        {
            sum += partials[i];
        }
        int first = int.MaxValue;
        for (int r = Group.IdxX; r < rows; r += Group.DimX)
        {
            if (flags[r] != 0)
            {
                // Rows are visited in increasing order per thread: the first hit is this thread's smallest.
                first = r;
                break;
            }
        }
        float total = GroupSum(sums, sum);
        int firstBad = GroupInt(firsts, first, 1);
        if (Group.IdxX == 0)
        {
            loss[0] = total * scale;
            if (loss.Length > 1)
            {
                loss[1] = firstBad == int.MaxValue ? 0f : firstBad + 1;
            }
        }
    }

    /// <summary>grad = 2 (x - target) / count; each group writes the sum of its grid-strided squared differences.</summary>
    internal static void MsePartialsKernel(ArrayView<float> x, ArrayView<float> target, ArrayView<float> grad, ArrayView<float> partials, int count)
    {
        var shared = SharedMemory.Allocate<float>(MaxReduceGroup);
        float scale = 2f / count;
        int stride = Grid.DimX * Group.DimX;
        float sum = 0f;
        for (int i = Grid.IdxX * Group.DimX + Group.IdxX; i < count; i += stride)
        {
            float d = x[i] - target[i];
            sum += d * d;
            grad[i] = scale * d;
        }
        float total = GroupSum(shared, sum);
        if (Group.IdxX == 0)
        {
            partials[Grid.IdxX] = total;
        }
    }

    /// <summary>
    /// counter[0] += the rows whose first maximum is at their label (as the CPU: strict comparison, first wins), rows
    /// labelled <paramref name="ignoreIndex"/> left out; counter[1] (when the counter has two elements) += the rows not
    /// left out. Each thread takes grid-strided rows, the group sums its counts, and one atomic add per group and count
    /// lands in the counter.
    /// </summary>
    internal static void CorrectCountKernel(ArrayView<float> scores, ArrayView<long> labels, ArrayView<long> counter, int n, int c, long ignoreIndex)
    {
        var shared = SharedMemory.Allocate<int>(MaxReduceGroup);
        int stride = Grid.DimX * Group.DimX;
        int correct = 0;
        int counted = 0;
        for (int r = Grid.IdxX * Group.DimX + Group.IdxX; r < n; r += stride)
        {
            if (labels[r] == ignoreIndex)
            {
                continue;
            }
            counted++;
            int start = r * c;
            int best = 0;
            for (int j = 1; j < c; j++)
            {
                if (scores[start + j] > scores[start + best])
                {
                    best = j;
                }
            }
            correct += best == labels[r] ? 1 : 0;
        }
        int total = GroupInt(shared, correct, 0);
        if (Group.IdxX == 0 && total != 0)
        {
            Atomic.Add(ref counter[0], (long)total);
        }
        if (counter.Length > 1)
        {
            int rows = GroupInt(shared, counted, 0);
            if (Group.IdxX == 0 && rows != 0)
            {
                Atomic.Add(ref counter[1], (long)rows);
            }
        }
    }
}
