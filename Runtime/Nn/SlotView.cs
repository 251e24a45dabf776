namespace Dsl;

/// <summary>
/// One planned value or gradient of a generated network: a per-sample shape fixed at compile time, seen at the front of
/// a <see cref="MemorySlot"/> it may share with others whose lifetimes do not overlap. A value has a slot in the training
/// plan (which keeps what backward reads) and one in the evaluation plan (which reuses memory as soon as a value is
/// consumed); a gradient has one. The views for the last two (slot, batch) pairs are cached, so steady-state steps,
/// alternating batch sizes included, allocate nothing.
/// </summary>
public sealed class SlotView
{
    private readonly MemorySlot _training;
    private readonly MemorySlot _evaluation;
    private readonly int[] _sample;
    private readonly Cached[] _cache = new Cached[4];
    private readonly PerPart<Tensor> _parts = new();
    private int _next;

    /// <summary>A value living in <paramref name="training"/> when kept for backward and in <paramref name="evaluation"/> otherwise.</summary>
    public SlotView(MemorySlot training, MemorySlot evaluation, params int[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(evaluation);
        ArgumentNullException.ThrowIfNull(sampleShape);
        long elements = Tensor.CheckedLength(sampleShape);
        if (!MemoryPlanning.Sharing)
        {
            // The layout without reuse: a slot of its own, the same in both plans.
            training = evaluation = new MemorySlot(training.Device, elements);
        }
        foreach (var slot in new[] { training, evaluation })
        {
            if (elements > slot.ElementsPerSample)
            {
                throw new ArgumentException($"A value of {elements} elements per sample does not fit a slot of {slot.ElementsPerSample}.", nameof(sampleShape));
            }
        }
        _training = training;
        _evaluation = evaluation;
        _sample = (int[])sampleShape.Clone();
    }

    /// <summary>A gradient (or a value that never changes plans) living in <paramref name="slot"/>.</summary>
    public SlotView(MemorySlot slot, params int[] sampleShape)
        : this(slot, slot, sampleShape)
    {
    }

    private SlotView(SlotView source, int[] sampleShape)
    {
        _training = source._training;
        _evaluation = source._evaluation;
        _sample = (int[])sampleShape.Clone();
    }

    /// <summary>
    /// Another view of this one's memory, reshaped (the same number of elements per sample): a gradient that an op passes on
    /// unchanged is the same memory, not a copy.
    /// </summary>
    public SlotView Alias(params int[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(sampleShape);
        if (Tensor.CheckedLength(sampleShape) != Tensor.CheckedLength(_sample))
        {
            throw new ArgumentException($"An alias of {Tensor.FormatShape(_sample)} must have as many elements per sample, got {Tensor.FormatShape(sampleShape)}.", nameof(sampleShape));
        }
        return new SlotView(this, sampleShape);
    }

    /// <summary>
    /// The value for a batch of <paramref name="n"/> samples, [n, ...sample], in the training plan's slot when
    /// <paramref name="keep"/> (a forward whose values backward reads, and every gradient) or the evaluation plan's.
    /// </summary>
    public Tensor Rows(int n, bool keep = true)
    {
        var slot = keep ? _training : _evaluation;
        var storage = slot.Reserve(n);
        for (int i = 0; i < _cache.Length; i++)
        {
            var c = _cache[i];
            if (c.Tensor is not null && ReferenceEquals(c.Storage, storage) && c.Tensor.Size(0) == n)
            {
                return c.Tensor;
            }
        }
        var tensor = new Tensor(storage, 0, Shape(n));
        _cache[_next] = new Cached(storage, tensor);
        _next = (_next + 1) % _cache.Length;
        return tensor;
    }

    /// <summary>
    /// The value for row part <paramref name="part"/> of a split evaluation forward (<see cref="Module.RunEvaluationParts"/>), its
    /// <paramref name="n"/> samples in the part's own memory (<see cref="MemorySlot.Reserve(int, int)"/>); part 0, and every
    /// forward that is not split, is <see cref="Rows(int, bool)"/>. Safe to call from the parts' threads at once.
    /// </summary>
    public Tensor Rows(int n, bool keep, int part)
    {
        if (part == 0)
        {
            return Rows(n, keep);
        }
        var storage = (keep ? _training : _evaluation).Reserve(n, part);
        var view = _parts[part];
        if (view is null || !ReferenceEquals(view.Storage, storage) || view.Size(0) != n)
        {
            view = new Tensor(storage, 0, Shape(n));
            _parts[part] = view;
        }
        return view;
    }

    private int[] Shape(int n) => Tensor.BatchShape(n, _sample);

    private readonly record struct Cached(Storage Storage, Tensor Tensor);
}
