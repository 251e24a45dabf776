namespace Dsl.Data.Text;

/// <summary>
/// Batches variable-length token sequences, padding each batch to its longest sequence. With bucketing (the
/// default) each epoch's seeded permutation is cut into pools of <see cref="PoolBatches"/> batches, each pool is
/// sorted by length (ties keep the shuffled order) and cut into batches, and the batches are shuffled again, so
/// sequences of like length share a batch and padding stays small while the order still changes every epoch
/// (torchtext's <c>BucketIterator</c> scheme). Everything is decided by (<see cref="Seed"/>, epoch).
/// </summary>
/// <remarks>
/// <para>Host arrays and device buffers are sized once for the longest sequence; a batch's tensors are views of them,
/// made the first time a (rows, length) pair occurs and kept, so an epoch allocates nothing per batch after the
/// first but the small handles it hands out. One enumeration at a time.</para>
/// <para><b>A batch is valid until the next one is produced</b>: its <see cref="PaddedBatch.Tokens"/>,
/// <see cref="PaddedBatch.Mask"/> and <see cref="PaddedBatch.Labels"/> are fresh handles over the batcher's own tensors,
/// stamped with <see cref="BatchVersion"/>, which the next batch overwrites. Reading an older batch's tensors then throws
/// <see cref="StaleTensorException"/> (<c>batcher.Epoch(0).Take(2).ToList()</c> refuses the first); call <c>Clone()</c>
/// or <c>ToArray()</c> on them before moving on to keep them. <see cref="PaddedBatch.Lengths"/> and
/// <see cref="PaddedBatch.Samples"/> are reused arrays as well: copy them (<c>ToArray()</c>) to keep them.
/// <see cref="Epoch(int, bool)"/> without publishing hands out the tensors themselves (the trainer's path).</para>
/// </remarks>
public sealed class BucketBatcher : Training.IBatchSource<PaddedBatch>
{
    private readonly IReadOnlyList<int[]> _sequences;
    private readonly long[]? _labels;
    private readonly int[] _order;
    private readonly long[] _sortKeys;
    private readonly int[] _batchOrder;
    private readonly long[] _hostTokens;
    private readonly float[] _hostMask;
    private readonly long[] _hostLabels;
    private readonly int[] _lengths;
    private readonly int[] _samples;
    private readonly Tensor _tokens;
    private readonly Tensor _mask;
    private readonly Tensor? _labelBuffer;
    private readonly Dictionary<(int Rows, int Length), (Tensor Tokens, Tensor Mask)> _views = [];
    private readonly Dictionary<int, Tensor> _labelViews = [];

    /// <summary>Creates a batcher over <paramref name="sequences"/> (each non-empty) producing tensors on <paramref name="device"/>.</summary>
    /// <param name="sequences">Token ids per sample; not copied, so do not change them while batching.</param>
    /// <param name="labels">One label per sequence, or null.</param>
    /// <param name="device">Where the batches are uploaded.</param>
    /// <param name="batchSize">Rows per batch.</param>
    /// <param name="seed">Decides every epoch's order.</param>
    /// <param name="shuffle">False keeps the data's order (and with bucketing, sorts pools of it by length).</param>
    /// <param name="bucket">Group sequences of like length (default) or batch them in plain order.</param>
    /// <param name="poolBatches">Batches per sorting pool: larger pools pad less but mix less.</param>
    public BucketBatcher(IReadOnlyList<int[]> sequences, long[]? labels, Device device, int batchSize, int seed = 0, bool shuffle = true, bool bucket = true, int poolBatches = 50)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(device);
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"The batch size must be at least 1, got {batchSize}.");
        }
        if (poolBatches < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(poolBatches), $"A pool holds at least one batch, got {poolBatches}.");
        }
        if (sequences.Count == 0)
        {
            throw new ArgumentException("There are no sequences to batch.", nameof(sequences));
        }
        if (labels is not null && labels.Length != sequences.Count)
        {
            throw new ArgumentException($"{labels.Length} labels for {sequences.Count} sequences.", nameof(labels));
        }
        int maxLength = 0;
        for (int i = 0; i < sequences.Count; i++)
        {
            int length = sequences[i]?.Length ?? throw new ArgumentException($"Sequence {i} is null.", nameof(sequences));
            if (length == 0)
            {
                throw new ArgumentException($"Sequence {i} is empty: a batch row needs at least one token (an all-padding row has no mean, max or last state).", nameof(sequences));
            }
            maxLength = Math.Max(maxLength, length);
        }
        _sequences = sequences;
        _labels = labels;
        Device = device;
        BatchSize = batchSize;
        Seed = seed;
        Shuffle = shuffle;
        Bucket = bucket;
        PoolBatches = poolBatches;
        MaxLength = maxLength;
        BatchCount = (sequences.Count + batchSize - 1) / batchSize;
        int rows = Math.Min(batchSize, sequences.Count);
        _order = new int[sequences.Count];
        _sortKeys = new long[sequences.Count];
        _batchOrder = new int[BatchCount];
        _hostTokens = new long[rows * maxLength];
        _hostMask = new float[rows * maxLength];
        _hostLabels = new long[rows];
        _lengths = new int[rows];
        _samples = new int[rows];
        _tokens = device.Allocate(DType.Int64, rows * maxLength);
        _mask = device.Allocate(DType.Float32, rows * maxLength);
        _labelBuffer = labels is null ? null : device.Allocate(DType.Int64, rows);
    }

    public Device Device { get; }
    public int BatchSize { get; }
    public int Seed { get; }
    public bool Shuffle { get; }
    public bool Bucket { get; }
    public int PoolBatches { get; }

    /// <summary>The longest sequence: the largest T a batch can have.</summary>
    public int MaxLength { get; }

    /// <summary>Batches per epoch (only the last pool's last batch can be partial).</summary>
    public int BatchCount { get; }

    /// <summary>Batches per epoch: the same in every epoch (<see cref="BatchCount"/>).</summary>
    public int BatchesIn(int epoch) => BatchCount;

    /// <summary>
    /// Writes the sample order of <paramref name="epoch"/>, batch after batch in the order they are served, into
    /// <paramref name="order"/>; batch b holds <c>order[BatchStart(b) .. BatchStart(b) + BatchRows(b)]</c>.
    /// </summary>
    public void Order(int epoch, Span<int> order, Span<int> batchOrder)
    {
        int n = _sequences.Count;
        if (order.Length != n || batchOrder.Length != BatchCount)
        {
            throw new ArgumentException($"Order needs spans of {n} samples and {BatchCount} batches, got {order.Length} and {batchOrder.Length}.");
        }
        ulong key = CounterRandom.Derive((ulong)(uint)Seed, (ulong)(uint)epoch);
        Permute(order, Shuffle, key);
        if (Bucket)
        {
            int pool = PoolBatches * BatchSize;
            for (int start = 0; start < n; start += pool)
            {
                int length = Math.Min(pool, n - start);
                var keys = _sortKeys.AsSpan(start, length);
                for (int i = 0; i < length; i++)
                {
                    // Length first, then the shuffled position: a total order, so the sort is deterministic.
                    keys[i] = ((long)_sequences[order[start + i]].Length << 32) | (uint)i;
                }
                keys.Sort(order.Slice(start, length));
            }
        }
        // The batches are served in a second seeded order (across buckets); without shuffling, in sequence.
        Permute(batchOrder, Shuffle, CounterRandom.Derive(key, 0x6261746368UL));
    }

    /// <summary>The first position in the order of batch <paramref name="batch"/> (in storage order, before the batch shuffle).</summary>
    public int BatchStart(int batch) => batch * BatchSize;

    /// <summary>Rows of batch <paramref name="batch"/> (in storage order).</summary>
    public int BatchRows(int batch) => Math.Min(BatchSize, _sequences.Count - batch * BatchSize);

    /// <summary>The version of the batch tensors: advanced by every batch, which overwrites them.</summary>
    public BufferVersion BatchVersion { get; } = new("a batch of a BucketBatcher", "the batcher's next batch");

    /// <summary>
    /// The batches of <paramref name="epoch"/>. Each batch's tensors are overwritten by the next one, and reading them
    /// after that throws (see the remarks on <see cref="BucketBatcher"/>).
    /// </summary>
    public IEnumerable<PaddedBatch> Epoch(int epoch) => Epoch(epoch, publish: true);

    /// <summary>
    /// The batches of <paramref name="epoch"/>; without <paramref name="publish"/> they are the batcher's tensors
    /// themselves, not stamped handles, so a loop that never keeps a batch past its step (the trainer's) allocates
    /// nothing, and nothing refuses a stale read.
    /// </summary>
    public IEnumerable<PaddedBatch> Epoch(int epoch, bool publish)
    {
        Order(epoch, _order, _batchOrder);
        for (int b = 0; b < BatchCount; b++)
        {
            int stored = _batchOrder[b];
            yield return Load(_order.AsSpan(BatchStart(stored), BatchRows(stored)), b, publish);
        }
    }

    /// <summary>
    /// The padding fraction of <paramref name="epoch"/>: padded positions over all positions of all batches
    /// (0 when every batch's rows have equal length). Computed from the order alone; nothing is uploaded.
    /// </summary>
    public double PaddingFraction(int epoch)
    {
        var order = new int[_sequences.Count];
        var batchOrder = new int[BatchCount];
        Order(epoch, order, batchOrder);
        long tokens = 0, slots = 0;
        for (int b = 0; b < BatchCount; b++)
        {
            var rows = order.AsSpan(BatchStart(b), BatchRows(b));
            int longest = 0;
            foreach (int i in rows)
            {
                longest = Math.Max(longest, _sequences[i].Length);
                tokens += _sequences[i].Length;
            }
            slots += (long)longest * rows.Length;
        }
        return 1.0 - (double)tokens / slots;
    }

    private PaddedBatch Load(ReadOnlySpan<int> rows, int index, bool publish)
    {
        BatchVersion.Advance();
        int n = rows.Length;
        int t = 0;
        foreach (int i in rows)
        {
            t = Math.Max(t, _sequences[i].Length);
        }
        for (int r = 0; r < n; r++)
        {
            int[] sequence = _sequences[rows[r]];
            var tokens = _hostTokens.AsSpan(r * t, t);
            var mask = _hostMask.AsSpan(r * t, t);
            for (int j = 0; j < sequence.Length; j++)
            {
                tokens[j] = sequence[j];
            }
            tokens[sequence.Length..].Fill(Vocabulary.PadId);
            mask[..sequence.Length].Fill(1f);
            mask[sequence.Length..].Clear();
            _lengths[r] = sequence.Length;
            _samples[r] = rows[r];
            if (_labels is not null)
            {
                _hostLabels[r] = _labels[rows[r]];
            }
        }
        if (!_views.TryGetValue((n, t), out var view))
        {
            view = (_tokens.Narrow(0, n * t).View(n, t), _mask.Narrow(0, n * t).View(n, t));
            _views.Add((n, t), view);
        }
        Device.Upload(_hostTokens.AsSpan(0, n * t), view.Tokens);
        Device.Upload(_hostMask.AsSpan(0, n * t), view.Mask);
        Tensor? labels = null;
        if (_labelBuffer is not null)
        {
            if (!_labelViews.TryGetValue(n, out labels))
            {
                labels = _labelBuffer.Narrow(0, n);
                _labelViews.Add(n, labels);
            }
            Device.Upload(_hostLabels.AsSpan(0, n), labels);
        }
        return publish
            ? new PaddedBatch(view.Tokens.Stamped(BatchVersion), view.Mask.Stamped(BatchVersion), _lengths.AsMemory(0, n), labels?.Stamped(BatchVersion), _samples.AsMemory(0, n), index)
            : new PaddedBatch(view.Tokens, view.Mask, _lengths.AsMemory(0, n), labels, _samples.AsMemory(0, n), index);
    }

    private static void Permute(Span<int> destination, bool shuffle, ulong key)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = i;
        }
        if (!shuffle)
        {
            return;
        }
        for (int i = destination.Length - 1; i > 0; i--)
        {
            int j = (int)(((UInt128)CounterRandom.Bits(key, (ulong)i) * (ulong)(i + 1)) >> 64);
            (destination[i], destination[j]) = (destination[j], destination[i]);
        }
    }
}
