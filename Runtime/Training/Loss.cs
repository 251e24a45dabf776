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

    /// <summary>[loss, 1 + first bad label row or 0] on the device.</summary>
    internal Tensor Scalars => _scalars;

    /// <summary>d loss / d input, shaped like the input: pass it to the network's <c>Backward</c>.</summary>
    public Tensor Gradient { get; }

    /// <summary>The mean loss over the batch (copies two numbers from the device into a buffer kept for the purpose).</summary>
    public float Value
    {
        get
        {
            var s = _host;
            _scalars.Device.Download(_scalars, s);
            if (s.Length > 1 && s[1] != 0f)
            {
                throw new ArgumentOutOfRangeException("labels", $"{Name}: the label in row {(int)s[1] - 1} is outside the classes of the input.");
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
    /// <summary>
    /// Negative log-likelihood (<c>F.nll_loss</c>): <paramref name="logProbabilities"/> [N,C] (after LogSoftmax), int64 labels [N].
    /// </summary>
    public static LossResult Nll(Tensor logProbabilities, Tensor labels, LossResult? reuse = null)
    {
        var r = Prepare(logProbabilities, labels, reuse, "Nll");
        logProbabilities.Device.NllLoss(logProbabilities, labels, Scalars(r), r.Gradient);
        return r;
    }

    /// <summary>Cross-entropy of raw logits [N,C] and int64 labels [N] (<c>F.cross_entropy</c>): log-softmax and NLL fused.</summary>
    public static LossResult CrossEntropy(Tensor logits, Tensor labels, LossResult? reuse = null)
    {
        var r = Prepare(logits, labels, reuse, "CrossEntropy");
        logits.Device.CrossEntropyLoss(logits, labels, Scalars(r), r.Gradient);
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
        if (scores.Rank != 2)
        {
            throw new ArgumentException($"{name}: expects scores [N,C] but received {Tensor.FormatShape(scores.Dims)}.");
        }
        if (labels.DType != DType.Int64 || labels.Rank != 1 || labels.Size(0) != scores.Size(0))
        {
            throw new ArgumentException($"{name}: expects int64 labels [{scores.Size(0)}] for scores {Tensor.FormatShape(scores.Dims)} but received {labels}.");
        }
        if (!ReferenceEquals(labels.Device, scores.Device))
        {
            throw new ArgumentException($"{name}: the labels are on {labels.Device.Name} but the scores are on {scores.Device.Name}.");
        }
        return Reuse(scores, reuse, name);
    }

    private static LossResult Reuse(Tensor input, LossResult? reuse, string name)
    {
        if (reuse is not null && reuse.Name == name && ReferenceEquals(reuse.Gradient.Device, input.Device)
            && reuse.Gradient.Dims.SequenceEqual(input.Dims))
        {
            return reuse;
        }
        var scalars = input.Device.Allocate(DType.Float32, 2);
        return new LossResult(scalars, input.Device.Allocate(DType.Float32, input.Shape), name);
    }

    private static Tensor Scalars(LossResult r) => r.Scalars;
}
