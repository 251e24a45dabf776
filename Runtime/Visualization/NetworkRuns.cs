namespace Dsl.Visualization;

/// <summary>What the visualisations share about running a trained network: evaluation mode for a while, batches, probabilities.</summary>
internal static class NetworkRuns
{
    /// <summary>Puts <paramref name="net"/> in evaluation mode and returns the action that restores its mode.</summary>
    public static Action Evaluating(Module net)
    {
        bool training = net.IsTraining;
        net.Eval();
        return () =>
        {
            if (training)
            {
                net.Train();
            }
        };
    }

    /// <summary>One image [C,H,W] or [1,C,H,W] as its values and per-sample shape.</summary>
    public static (float[] Values, int[] Shape) Sample(Tensor image, string op)
    {
        ArgumentNullException.ThrowIfNull(image);
        var shape = image.Shape;
        if (shape.Length >= 2 && shape[0] == 1 && shape.Length == 4)
        {
            shape = shape[1..];
        }
        if (shape.Length != 3)
        {
            throw new ArgumentException($"{op}: an image is [C,H,W] or [1,C,H,W]; got {Tensor.FormatShape(image.Shape)}.", nameof(image));
        }
        return (image.ToArray(), shape);
    }

    /// <summary>The batch [rows, ...sample] of <paramref name="values"/> on the network's device.</summary>
    public static Tensor Batch(Module net, float[] values, int rows, int[] sample)
        => Tensor.From(values, net.Device, [rows, .. sample]);

    /// <summary>
    /// Each row's class probabilities from the network's outputs: the rows themselves when they already are probabilities
    /// (non-negative, summing to 1: a <c>Softmax</c> output), else their softmax, which is exp of log-probabilities
    /// (<c>LogSoftmax</c>) and the probabilities of logits.
    /// </summary>
    public static float[] Probabilities(float[] outputs, int rows)
    {
        int classes = outputs.Length / rows;
        var p = new float[outputs.Length];
        for (int r = 0; r < rows; r++)
        {
            var row = outputs.AsSpan(r * classes, classes);
            var dst = p.AsSpan(r * classes, classes);
            double sum = 0;
            bool nonNegative = true;
            foreach (float v in row)
            {
                sum += v;
                nonNegative &= v >= 0f;
            }
            if (nonNegative && Math.Abs(sum - 1.0) < 1e-4)
            {
                row.CopyTo(dst);
                continue;
            }
            float max = float.NegativeInfinity;
            foreach (float v in row)
            {
                max = MathF.Max(max, v);
            }
            double total = 0;
            for (int k = 0; k < classes; k++)
            {
                total += Math.Exp(row[k] - max);
            }
            for (int k = 0; k < classes; k++)
            {
                dst[k] = (float)(Math.Exp(row[k] - max) / total);
            }
        }
        return p;
    }

    /// <summary>The tile of an image's values [C,H,W] (grey for one channel, RGB for three, else the first channel).</summary>
    public static ImageTile ImageTile(float[] values, int[] shape, string? caption = null)
    {
        int c = shape[0], h = shape[1], w = shape[2];
        return c == 3 ? new ImageTile(values, 3, h, w, caption) : new ImageTile(values.AsSpan(0, h * w).ToArray(), 1, h, w, caption);
    }
}
