using Dsl;

namespace Specs.Seq2Seq;

/// <summary>
/// Cross-entropy of logits [N,U,V] against int64 targets [N,U] that ignores the positions holding
/// <see cref="IgnoreIndex"/> (the padding id): PyTorch's <c>F.cross_entropy(logits.view(-1, V), targets.view(-1),
/// ignore_index=pad)</c>, the mean over the counted positions. The seq2seq branch's own loss until the runtime's
/// <c>Loss.CrossEntropy</c> takes an <c>ignoreIndex</c>; it runs on the host (a decoder's [N,U,V] logits for a
/// vocabulary of a few dozen characters are a few hundred kilobytes) and reuses its buffers, so a step allocates
/// nothing once the longest batch has passed.
/// </summary>
public sealed class MaskedCrossEntropy
{
    private readonly SymbolicSlot _gradient;
    private float[] _logits = [];
    private long[] _targets = [];
    private float[] _grad = [];

    public MaskedCrossEntropy(Device device, int ignoreIndex)
    {
        ArgumentNullException.ThrowIfNull(device);
        _gradient = new SymbolicSlot(device);
        IgnoreIndex = ignoreIndex;
    }

    /// <summary>The target id that counts for nothing (the padding id).</summary>
    public int IgnoreIndex { get; }

    /// <summary>d loss / d logits of the last <see cref="Compute"/>, [N,U,V] (zero at ignored positions); reused by the next call.</summary>
    public Tensor? Gradient { get; private set; }

    /// <summary>
    /// The mean loss over the positions whose target is not <see cref="IgnoreIndex"/>, how many there are, and how many of
    /// them the logits' arg-max predicts (first maximum wins); writes <see cref="Gradient"/>.
    /// </summary>
    public (double Loss, int Counted, int Correct) Compute(Tensor logits, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.Rank != 3 || targets.Rank != 2 || targets.Size(0) != logits.Size(0) || targets.Size(1) != logits.Size(1))
        {
            throw new ArgumentException($"{nameof(MaskedCrossEntropy)}: logits should be [N,U,V] and targets [N,U], got {Tensor.FormatShape(logits.Shape)} and {Tensor.FormatShape(targets.Shape)}.");
        }
        if (targets.DType != DType.Int64)
        {
            throw new ArgumentException($"{nameof(MaskedCrossEntropy)}: the targets must be int64 ids, got {targets.DType}.");
        }
        int n = logits.Size(0), u = logits.Size(1), v = logits.Size(2);
        int rows = n * u;
        Grow(ref _logits, rows * v);
        Grow(ref _grad, rows * v);
        Grow(ref _targets, rows);
        var x = _logits.AsSpan(0, rows * v);
        var g = _grad.AsSpan(0, rows * v);
        var y = _targets.AsSpan(0, rows);
        logits.Device.Download(logits, x);
        targets.Device.Download(targets, y);
        int counted = 0;
        for (int r = 0; r < rows; r++)
        {
            if (y[r] != IgnoreIndex)
            {
                if ((ulong)y[r] >= (ulong)v)
                {
                    throw new ArgumentOutOfRangeException(nameof(targets), $"{nameof(MaskedCrossEntropy)}: target {y[r]} at position {r} is outside the {v} classes.");
                }
                counted++;
            }
        }
        double total = 0;
        int correct = 0;
        float inverse = counted == 0 ? 0f : 1f / counted;
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * v, v);
            var grad = g.Slice(r * v, v);
            if (y[r] == IgnoreIndex)
            {
                grad.Clear();
                continue;
            }
            int best = 0;
            float max = row[0];
            for (int j = 1; j < v; j++)
            {
                if (row[j] > max)
                {
                    max = row[j];
                    best = j;
                }
            }
            correct += best == y[r] ? 1 : 0;
            double sum = 0;
            for (int j = 0; j < v; j++)
            {
                sum += Math.Exp(row[j] - max);
            }
            double logSum = Math.Log(sum);
            int target = (int)y[r];
            total += logSum - (row[target] - max);
            for (int j = 0; j < v; j++)
            {
                grad[j] = (float)Math.Exp(row[j] - max - logSum) * inverse;
            }
            grad[target] -= inverse;
        }
        var gradient = _gradient.Rows(n, u, v);
        logits.Device.Upload(g, gradient);
        Gradient = gradient;
        return (counted == 0 ? 0 : total / counted, counted, correct);
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new T[length];
        }
    }
}
