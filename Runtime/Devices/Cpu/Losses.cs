namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void NllLossCore(Tensor logp, Tensor labels, Tensor loss, Tensor grad)
        => LabelLoss(logp, labels, loss, grad, fromLogits: false);

    protected override void CrossEntropyLossCore(Tensor logits, Tensor labels, Tensor loss, Tensor grad)
        => LabelLoss(logits, labels, loss, grad, fromLogits: true);

    private static void LabelLoss(Tensor scores, Tensor labels, Tensor loss, Tensor grad, bool fromLogits)
    {
        int c = scores.Dims[^1];
        int n = (int)(scores.Length / c);
        var s = F(scores);
        var y = L(labels);
        var g = F(grad);
        var l = F(loss);
        double total = 0;
        float inv = 1f / n;
        for (int r = 0; r < n; r++)
        {
            long label = y[r];
            if (label < 0 || label >= c)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), $"Label {label} in row {r} is outside the {c} classes [0,{c - 1}].");
            }
            var sr = s.Slice(r * c, c);
            var gr = g.Slice(r * c, c);
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
        l[0] = (float)(total / n);
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

    protected override long CountCorrectCore(Tensor scores, Tensor labels)
    {
        int c = scores.Dims[^1];
        int n = (int)(scores.Length / c);
        var s = F(scores);
        var y = L(labels);
        long correct = 0;
        for (int r = 0; r < n; r++)
        {
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
        return correct;
    }
}
