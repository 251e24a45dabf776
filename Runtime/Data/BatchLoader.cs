namespace Dsl.Data;

/// <summary>
/// A seeded, shuffling mini-batch loader (PyTorch's <c>DataLoader(shuffle=True, num_workers=...)</c>). Each epoch's
/// order is a permutation drawn from (<see cref="Seed"/>, epoch) alone, and each sample's augmentation from
/// (seed, epoch, position), so a run can be repeated, or resumed at any epoch, and gives the same batches on every
/// device and with any number of <see cref="Workers"/>.
/// </summary>
/// <remarks>
/// <para>Batches are gathered (and transformed) into reused host arrays and uploaded into reused device tensors, so
/// after the first epoch the loader allocates nothing per batch.</para>
/// <para><b>A batch is valid until the next one is produced</b>: its <see cref="Batch.Images"/> and
/// <see cref="Batch.Labels"/> are fresh handles over the loader's own tensors, which the next batch overwrites. Reading
/// an older batch's tensors then throws <see cref="StaleTensorException"/> (<c>loader.Epoch(0).Take(2).ToList()</c>
/// refuses the first); call <c>Clone()</c> or <c>ToArray()</c> on a batch's tensors before moving on to keep them
/// (<see cref="BatchVersion"/>). One enumeration at a time.</para>
/// <para>With <see cref="Workers"/> &gt; 0, that many threads gather and transform the next batches while the caller
/// trains on the current one (up to two batches ahead per worker); the upload to the device stays on the caller's
/// thread, which owns the device.</para>
/// </remarks>
public sealed class BatchLoader
{
    private readonly ILabeledDataset _data;
    private readonly int[] _order;
    private readonly int[] _sampleShape;
    private readonly Slot[] _slots;
    private readonly float[][] _scratch;
    private readonly Tensor _images;
    private readonly Tensor _labels;
    private Tensor? _tailImages;
    private Tensor? _tailLabels;

    /// <summary>Creates a loader over <paramref name="data"/> producing tensors on <paramref name="device"/>.</summary>
    /// <param name="data">The samples.</param>
    /// <param name="device">Where the batches are uploaded.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="seed">Decides every epoch's order and augmentations.</param>
    /// <param name="shuffle">False keeps the data's order (evaluation).</param>
    /// <param name="dropLast">Drops the last batch when it is smaller than <paramref name="batchSize"/>.</param>
    /// <param name="transforms">Applied to each sample in order after it is gathered (augmentation, normalisation).</param>
    /// <param name="workers">Threads preparing batches ahead of the caller; 0 prepares each on the caller's thread.</param>
    public BatchLoader(ILabeledDataset data, Device device, int batchSize, int seed = 0, bool shuffle = true, bool dropLast = false,
        IReadOnlyList<Transform>? transforms = null, int workers = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(device);
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"The batch size must be at least 1, got {batchSize}.");
        }
        if (workers < 0 || workers > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(workers), $"Use 0 to 64 worker threads, got {workers}.");
        }
        _data = data;
        Device = device;
        Seed = seed;
        Shuffle = shuffle;
        DropLast = dropLast;
        BatchSize = batchSize;
        Transforms = transforms?.ToArray() ?? [];
        Workers = workers;
        int rows = Math.Min(batchSize, Math.Max(data.Count, 1));
        BatchCount = dropLast ? data.Count / batchSize : (data.Count + batchSize - 1) / batchSize;
        _order = new int[data.Count];
        _sampleShape = data.SampleShape;
        _slots = new Slot[Math.Max(1, 2 * workers)];
        for (int s = 0; s < _slots.Length; s++)
        {
            _slots[s] = new Slot(new float[rows * data.SampleLength], new long[rows]);
        }
        _scratch = new float[Math.Max(1, workers)][];
        for (int w = 0; w < _scratch.Length; w++)
        {
            _scratch[w] = Transforms.Count == 0 ? [] : new float[data.SampleLength];
        }
        _images = device.Allocate(DType.Float32, [rows, .. _sampleShape]);
        _labels = device.Allocate(DType.Int64, rows);
    }

    public Device Device { get; }

    /// <summary>The version of the batch tensors: advanced by every batch, which overwrites them.</summary>
    public BufferVersion BatchVersion { get; } = new("a batch of a BatchLoader", "the loader's next batch");
    public int Seed { get; }
    public bool Shuffle { get; }
    public bool DropLast { get; }
    public int BatchSize { get; }

    /// <summary>The per-sample transforms, applied in order.</summary>
    public IReadOnlyList<Transform> Transforms { get; }

    /// <summary>Threads preparing batches ahead (0: on the caller's thread).</summary>
    public int Workers { get; }

    /// <summary>The data set batched.</summary>
    public ILabeledDataset Data => _data;

    /// <summary>Batches per epoch.</summary>
    public int BatchCount { get; }

    /// <summary>Samples per epoch (fewer than the data's count when <see cref="DropLast"/> drops a partial batch).</summary>
    public int SampleCount => DropLast ? BatchCount * BatchSize : _data.Count;
    /// <summary>
    /// Writes the sample order of <paramref name="epoch"/> into <paramref name="destination"/> (one index per sample):
    /// a Fisher-Yates shuffle driven by <see cref="CounterRandom"/> keyed on (seed, epoch), or 0, 1, 2, ... without shuffling.
    /// </summary>
    public void Order(int epoch, Span<int> destination)
    {
        if (destination.Length != _data.Count)
        {
            throw new ArgumentException($"The order of {_data.Count} samples needs a span of that length, got {destination.Length}.");
        }
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = i;
        }
        if (!Shuffle)
        {
            return;
        }
        ulong key = CounterRandom.Derive((ulong)(uint)Seed, (ulong)(uint)epoch);
        for (int i = destination.Length - 1; i > 0; i--)
        {
            // Multiply-shift maps 64 random bits to [0, i] with a bias below 2^-32 for any data set that fits in memory.
            int j = (int)(((UInt128)CounterRandom.Bits(key, (ulong)i) * (ulong)(i + 1)) >> 64);
            (destination[i], destination[j]) = (destination[j], destination[i]);
        }
    }

    /// <summary>The sample order of <paramref name="epoch"/> as a new array.</summary>
    public int[] Order(int epoch)
    {
        var order = new int[_data.Count];
        Order(epoch, order);
        return order;
    }

    /// <summary>
    /// The batches of <paramref name="epoch"/>, in order. Each batch's tensors are overwritten by the next one (see the
    /// remarks on <see cref="BatchLoader"/>). Stopping early (<c>break</c>, an exception) stops the workers.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch) => Epoch(epoch, publish: true);

    /// <summary>
    /// The batches of <paramref name="epoch"/>; without <paramref name="publish"/> they are the loader's tensors themselves,
    /// not stamped handles, so the trainer's steady-state step allocates nothing (it never keeps a batch past its step).
    /// </summary>
    internal IEnumerable<Batch> Epoch(int epoch, bool publish)
    {
        Order(epoch, _order);
        ulong augment = CounterRandom.Derive((ulong)(uint)Seed ^ 0xA5A5_5A5A_0F0F_F0F0UL, (ulong)(uint)epoch);
        if (Workers == 0)
        {
            for (int b = 0; b < BatchCount; b++)
            {
                Prepare(b, _slots[0], _scratch[0], augment);
                yield return Upload(b, _slots[0], publish);
            }
            yield break;
        }

        // Worker w prepares batches w, w + W, w + 2W, ... into slot b mod 2W: a slot is only ever reused by the worker
        // that owns it, after the caller has uploaded the batch it held, so each worker runs up to two batches ahead.
        using var stop = new CancellationTokenSource();
        foreach (var slot in _slots)
        {
            slot.Reset();
        }
        var workers = new Task[Workers];
        for (int w = 0; w < Workers; w++)
        {
            int worker = w;
            workers[w] = Task.Factory.StartNew(() => Work(worker, augment, stop.Token), stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        try
        {
            for (int b = 0; b < BatchCount; b++)
            {
                var slot = _slots[b % _slots.Length];
                // No cancellation token: only this thread cancels `stop` (below), and a worker's error arrives through the slot.
                // Waiting with a token registers a callback whenever the batch is not ready yet, which allocated on the
                // caller's thread in a steady-state epoch (seen under load in CI: 7,608 bytes over 20 batches).
                slot.Ready.Wait();
                if (slot.Error is { } error)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
                }
                var batch = Upload(b, slot, publish);
                slot.Free.Release();
                yield return batch;
            }
        }
        finally
        {
            stop.Cancel();
            try
            {
                Task.WaitAll(workers);
            }
            catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException))
            {
            }
        }
    }

    private void Work(int worker, ulong augment, CancellationToken stop)
    {
        for (int b = worker; b < BatchCount; b += Workers)
        {
            var slot = _slots[b % _slots.Length];
            slot.Free.Wait(stop);
            try
            {
                Prepare(b, slot, _scratch[worker], augment);
            }
            catch (Exception e)
            {
                // Handed to the caller with the batch, which rethrows it where the batch was awaited.
                slot.Error = e;
                slot.Ready.Release();
                return;
            }
            slot.Ready.Release();
        }
    }

    /// <summary>Gathers batch <paramref name="index"/> into <paramref name="slot"/>'s host arrays and transforms each sample.</summary>
    private void Prepare(int index, Slot slot, float[] scratch, ulong augment)
    {
        int start = index * BatchSize;
        int size = Math.Min(BatchSize, _data.Count - start);
        int length = _data.SampleLength;
        _data.Gather(_order.AsSpan(start, size), slot.Images, slot.Labels);
        if (Transforms.Count == 0)
        {
            return;
        }
        for (int row = 0; row < size; row++)
        {
            ulong key = CounterRandom.Derive(augment, (ulong)(start + row));
            var sample = slot.Images.AsSpan(row * length, length);
            for (int t = 0; t < Transforms.Count; t++)
            {
                Transforms[t].Apply(sample, _sampleShape, CounterRandom.Derive(key, (ulong)t), scratch);
            }
        }
    }

    private Batch Upload(int index, Slot slot, bool publish)
    {
        BatchVersion.Advance();
        int size = Math.Min(BatchSize, _data.Count - index * BatchSize);
        Tensor images = _images;
        Tensor labels = _labels;
        if (size != _images.Size(0))
        {
            // Only the last batch can be partial, so its views are made once and kept.
            if (_tailImages is null || _tailImages.Size(0) != size)
            {
                _tailImages = _images.Narrow(0, size);
                _tailLabels = _labels.Narrow(0, size);
            }
            images = _tailImages;
            labels = _tailLabels!;
        }
        Device.Upload(slot.Images.AsSpan(0, size * _data.SampleLength), images);
        Device.Upload(slot.Labels.AsSpan(0, size), labels);
        return publish ? new Batch(images.Stamped(BatchVersion), labels.Stamped(BatchVersion), index) : new Batch(images, labels, index);
    }

    /// <summary>Host arrays for one batch, and the signals between the worker that fills them and the caller.</summary>
    private sealed class Slot(float[] images, long[] labels)
    {
        public float[] Images { get; } = images;
        public long[] Labels { get; } = labels;
        public SemaphoreSlim Ready { get; private set; } = new(0);
        public SemaphoreSlim Free { get; private set; } = new(1);
        public Exception? Error { get; set; }

        /// <summary>Empty and free, as at the start of an epoch (a stopped epoch may have left either signal set).</summary>
        public void Reset()
        {
            Ready = new SemaphoreSlim(0);
            Free = new SemaphoreSlim(1);
            Error = null;
        }
    }
}
