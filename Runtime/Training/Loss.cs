namespace Dsl;

/// <summary>A loss value (read lazily, so a GPU is not forced to synchronise) and its gradient.</summary>
public sealed class LossResult
{
    private readonly Tensor _scalars;
    private readonly float[] _host;

    internal LossResult(Tensor scalars, Tensor gradient, string name)
    {
        _scalars = scalars;
        _host = new float[scalars.Length];
        Gradient = gradient;
        Name = name;
    }

    public string Name { get; }

    /// <summary>
    /// Elements of <see cref="Scalars"/>: the loss, 1 + the first row with a bad label (0 when all are valid), and 1 + the
    /// row that made an optimiser step skip its update (sticky until <see cref="Value"/> reports it).
    /// </summary>
    internal const int StatusLength = 3;

    /// <summary>[loss, 1 + first bad label row or 0, 1 + the bad row of a skipped optimiser step or 0] on the device.</summary>
    internal Tensor Scalars => _scalars;

    /// <summary>d loss / d input, shaped like the input: pass it to the network's <c>Backward</c>.</summary>
    public Tensor Gradient { get; }

    /// <summary>
    /// The mean loss over the batch (copies three numbers from the device into a buffer kept for the purpose). Throws
    /// when this batch had a label outside the classes, or when an optimiser step since the last read was skipped for
    /// that reason (a GPU reports bad labels here, not in the loss call; see <see cref="Optimizer.Step"/>).
    /// </summary>
    public float Value
    {
        get
        {
            var s = _host;
            _scalars.Device.Download(_scalars, s);
            if (s[2] != 0f)
            {
                int skipped = (int)s[2] - 1;
                s[2] = 0f;
                _scalars.Device.Upload(s, _scalars);
                throw new ArgumentOutOfRangeException("labels",
                    $"{Name}: an optimiser step was skipped, leaving the parameters unchanged, because the label in row {skipped} of its batch is outside the classes of the input.");
            }
            if (s[1] != 0f)
            {
                throw new ArgumentOutOfRangeException("labels",
                    $"{Name}: the label in row {(int)s[1] - 1} is outside the classes of the input (optimiser steps leave the parameters unchanged while this loss is pending).");
            }
            return s[0];
        }
    }

    public override string ToString() => $"{Name} = {Value}";
}

/// <summary>
/// Losses with PyTorch's definitions and mean reduction. Each returns the value and the gradient; pass a
/// <see cref="LossResult"/> from an earlier call as <c>reuse</c> to write into its buffers instead of allocating.
/// </summary>
public static class Loss
{
    /// <summary>PyTorch's default <c>ignore_index</c>: a label with this value is left out of the loss and its mean.</summary>
    public const long DefaultIgnoreIndex = -100;

    /// <summary>
    /// Negative log-likelihood (<c>F.nll_loss</c>) of int64 labels under log-probabilities (after LogSoftmax): scores
    /// [N,C] with labels [N], or a sequence's [N,T,C] with labels [N,T] (each step one prediction, as PyTorch's
    /// <c>F.nll_loss(x.reshape(-1, C), labels.reshape(-1), ignore_index=...)</c>). A label equal to
    /// <paramref name="ignoreIndex"/> (padding) is left out and the mean is over the others; when every label is ignored
    /// the loss is NaN and the gradient zero, as in PyTorch.
    /// </summary>
    public static LossResult Nll(Tensor logProbabilities, Tensor labels, LossResult? reuse = null, long ignoreIndex = DefaultIgnoreIndex)
    {
        var r = Prepare(logProbabilities, labels, reuse, "Nll");
        logProbabilities.Device.NllLoss(logProbabilities, labels, Scalars(r), r.Gradient, ignoreIndex);
        logProbabilities.Device.PendingLabelLoss = r;
        return r;
    }

    /// <summary>
    /// Cross-entropy of raw logits (<c>F.cross_entropy</c>, log-softmax and NLL fused): [N,C] with labels [N], or
    /// [N,T,C] with labels [N,T]; <paramref name="ignoreIndex"/> as in <see cref="Nll"/>.
    /// </summary>
    public static LossResult CrossEntropy(Tensor logits, Tensor labels, LossResult? reuse = null, long ignoreIndex = DefaultIgnoreIndex)
    {
        var r = Prepare(logits, labels, reuse, "CrossEntropy");
        logits.Device.CrossEntropyLoss(logits, labels, Scalars(r), r.Gradient, ignoreIndex);
        logits.Device.PendingLabelLoss = r;
        return r;
    }

    /// <summary>Mean squared error over all elements (<c>F.mse_loss</c>).</summary>
    public static LossResult Mse(Tensor input, Tensor target, LossResult? reuse = null)
    {
        if (!input.Dims.SequenceEqual(target.Dims))
        {
            throw new ArgumentException($"Mse: the input {Tensor.FormatShape(input.Dims)} and the target {Tensor.FormatShape(target.Dims)} differ in shape.");
        }
        var r = Reuse(input, reuse, "Mse");
        input.Device.MseLoss(input, target.To(input.Device), Scalars(r), r.Gradient);
        return r;
    }

    private static LossResult Prepare(Tensor scores, Tensor labels, LossResult? reuse, string name)
    {
        if (scores.Rank is not (2 or 3))
        {
            throw new ArgumentException($"{name}: expects scores [N,C] or [N,T,C] but received {Tensor.FormatShape(scores.Dims)}.");
        }
        // Labels have the scores' shape without the class dimension: [N] for [N,C], [N,T] for [N,T,C].
        var expected = scores.Dims[..^1];
        if (labels.DType != DType.Int64 || !labels.Dims.SequenceEqual(expected))
        {
            throw new ArgumentException($"{name}: expects int64 labels {Tensor.FormatShape(expected)} for scores {Tensor.FormatShape(scores.Dims)} but received {labels.Describe()}.");
        }
        if (!ReferenceEquals(labels.Device, scores.Device))
        {
            throw new ArgumentException($"{name}: the labels are on {labels.Device.Name} but the scores are on {scores.Device.Name}.");
        }
        var r = Reuse(scores, reuse, name);
        // A skipped step not yet reported lives in the previous label loss's status: carry it into a new one (a copy
        // queued on the device, no wait) so the next read reports it whichever result the caller reads.
        if (scores.Device.PendingLabelLoss is { } pending && !ReferenceEquals(pending, r) && !pending.Scalars.Device.IsDisposed)
        {
            scores.Device.Copy(pending.Scalars, r.Scalars);
        }
        return r;
    }

    private static LossResult Reuse(Tensor input, LossResult? reuse, string name)
    {
        if (reuse is not null && reuse.Name == name && ReferenceEquals(reuse.Gradient.Device, input.Device)
            && reuse.Gradient.Dims.SequenceEqual(input.Dims))
        {
            return reuse;
        }
        var scalars = Tensor.Zeros(input.Device, LossResult.StatusLength);
        return new LossResult(scalars, input.Device.Allocate(DType.Float32, input.Shape), name);
    }

    private static Tensor Scalars(LossResult r) => r.Scalars;
}
