namespace Dsl;

/// <summary>
/// A split evaluation forward: in evaluation every layer of a convolutional or fully connected network treats each sample
/// on its own (batch norm uses its running statistics), so the generated <c>Forward</c> may hand each thread a contiguous
/// part of the batch to run through every layer, instead of splitting every layer over the threads. Nothing is shared
/// between the parts but the weights, so the threads never wait for each other between layers, and a part's values stay
/// in its core's cache from one layer to the next. The generator emits the split only for networks whose every op runs on
/// any rows of the batch; the device decides how many parts (one, a GPU's whole batch, by default).
/// </summary>
public abstract partial class Module
{
    private readonly PerPart<SourceView> _inputParts = new();
    private readonly PerPart<SourceView> _outputParts = new();

    /// <summary>
    /// Whether an evaluation forward of <paramref name="n"/> samples runs as <paramref name="parts"/> row parts
    /// (<see cref="RunEvaluationParts"/>): never while probes capture layers, which read whole-batch values.
    /// </summary>
    protected bool SplitsEvaluation(int n, out int parts)
    {
        parts = Probing ? 1 : Device.EvaluationRowParts(n);
        return parts > 1;
    }

    /// <summary>
    /// Runs an evaluation forward of <paramref name="n"/> samples as <paramref name="parts"/> row parts on the device's threads:
    /// <paramref name="forward"/>(part, start, count) runs every layer on samples [start, start + count) in the part's own
    /// memory and returns its output, which is copied into rows [start, ...) of <paramref name="output"/>'s whole batch, returned.
    /// </summary>
    protected Tensor RunEvaluationParts(int n, int parts, BufferSlot output, Func<int, int, int, Tensor> forward)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(forward);
        var whole = output.Rows(n);
        SplitEvaluations++;
        _splitWhole = whole;
        _splitForward = forward;
        try
        {
            Device.RunRowParts(n, parts, _splitPart ??= RunPart);
        }
        finally
        {
            _splitWhole = null;
            _splitForward = null;
        }
        return whole;
    }

    /// <summary>How many forwards ran as row parts (for tests: a network that should split and does not shows here).</summary>
    internal long SplitEvaluations { get; private set; }

    private Tensor? _splitWhole;
    private Func<int, int, int, Tensor>? _splitForward;
    private Action<int, int, int>? _splitPart;

    private void RunPart(int part, int start, int count)
        => Device.Copy(_splitForward!(part, start, count), Window(_outputParts, _splitWhole!, part, start, count));

    /// <summary>Rows [<paramref name="start"/>, start + <paramref name="count"/>) of <paramref name="input"/>: the input itself when that is all of it, else a view cached for the part.</summary>
    protected Tensor InputRows(Tensor input, int part, int start, int count)
        => start == 0 && count == input.Size(0) ? input : Window(_inputParts, input, part, start, count);

    private static Tensor Window(PerPart<SourceView> cache, Tensor whole, int part, int start, int count)
    {
        var cached = cache[part];
        if (cached is null || !ReferenceEquals(cached.Source, whole) || cached.Start != start || cached.View.Size(0) != count)
        {
            cached = new SourceView(whole, start, whole.Slice(0, start, start + count));
            cache[part] = cached;
        }
        return cached.View;
    }
}
