namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void NllLossCore(Tensor logp, Tensor labels, Tensor loss, Tensor grad, long ignoreIndex)
        => LabelLoss(logp, labels, loss, grad, ignoreIndex, fromLogits: false);

    protected override void CrossEntropyLossCore(Tensor logits, Tensor labels, Tensor loss, Tensor grad, long ignoreIndex)
        => LabelLoss(logits, labels, loss, grad, ignoreIndex, fromLogits: true);

    private static void LabelLoss(Tensor scores, Tensor labels, Tensor loss, Tensor grad, long ignoreIndex, bool fromLogits)
    {
        int c = scores.Dims[^1];
        int n = (int)(scores.Length / c);
        var s = F(scores);
        var y = L(labels);
        var g = F(grad);
        var l = F(loss);
        // The mean is over the rows that are not ignored, so their count scales every gradient: count them first.
        int counted = 0;
        for (int r = 0; r < n; r++)
        {
            long label = y[r];
            if (label == ignoreIndex)
            {
                continue;
            }
            if (label < 0 || label >= c)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), $"Label {label} in row {r} is outside the {c} classes [0,{c - 1}].");
            }
            counted++;
        }
        double total = 0;
        float inv = 1f / counted;
        for (int r = 0; r < n; r++)
        {
            long label = y[r];
            var sr = s.Slice(r * c, c);
            var gr = g.Slice(r * c, c);
            if (label == ignoreIndex)
            {
                gr.Clear();
                continue;
            }
            if (fromLogits)
            {
                float max = float.NegativeInfinity;
                foreach (float v in sr)
                {
                    max = MathF.Max(max, v);
                }
                double sum = 0;
                foreach (float v in sr)
                {
                    sum += Math.Exp(v - max);
                }
                double logSum = Math.Log(sum) + max;
                total += logSum - sr[(int)label];
                for (int j = 0; j < c; j++)
                {
                    gr[j] = (float)Math.Exp(sr[j] - logSum) * inv;
                }
                gr[(int)label] -= inv;
            }
            else
            {
                total -= sr[(int)label];
                gr.Clear();
                gr[(int)label] = -inv;
            }
        }
        // Every row ignored: 0 / 0 = NaN, as PyTorch's mean reduction gives (the gradient stays zero).
        l[0] = counted == 0 ? float.NaN : (float)(total / counted);
        if (l.Length > 1)
        {
            l[1] = 0f;
        }
    }

    protected override void MseLossCore(Tensor x, Tensor target, Tensor loss, Tensor grad)
    {
        var xs = F(x);
        var t = F(target);
        var g = F(grad);
        double total = 0;
        float scale = 2f / xs.Length;
        for (int i = 0; i < xs.Length; i++)
        {
            float d = xs[i] - t[i];
            total += (double)d * d;
            g[i] = scale * d;
        }
        var l = F(loss);
        l[0] = (float)(total / xs.Length);
        if (l.Length > 1)
        {
            l[1] = 0f;
        }
    }

    protected override void AccumulateCorrectCore(Tensor scores, Tensor labels, Tensor counter, long ignoreIndex)
    {
        var (correct, counted) = Correct(scores, labels, ignoreIndex);
        var k = L(counter);
        k[0] += correct;
        if (k.Length > 1)
        {
            k[1] += counted;
        }
    }

    protected override long CountCorrectCore(Tensor scores, Tensor labels) => Correct(scores, labels, Loss.DefaultIgnoreIndex).Correct;

    /// <summary>Rows whose first maximum is at the label, and rows whose label is not <paramref name="ignoreIndex"/>.</summary>
    private static (long Correct, long Counted) Correct(Tensor scores, Tensor labels, long ignoreIndex)
    {
        int c = scores.Dims[^1];
        int n = (int)(scores.Length / c);
        var s = F(scores);
        var y = L(labels);
        long correct = 0, counted = 0;
        for (int r = 0; r < n; r++)
        {
            if (y[r] == ignoreIndex)
            {
                continue;
            }
            counted++;
            var sr = s.Slice(r * c, c);
            int best = 0;
            for (int j = 1; j < c; j++)
            {
                if (sr[j] > sr[best])
                {
                    best = j;
                }
            }
            if (best == y[r])
            {
                correct++;
            }
        }
        return (correct, counted);
    }
}
