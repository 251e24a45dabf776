namespace Dsl.Data;

/// <summary>
/// A seeded, shuffling mini-batch loader (PyTorch's <c>DataLoader(shuffle=True)</c> without workers). Each epoch's
/// order is a permutation drawn from (<see cref="Seed"/>, epoch) alone, so a run can be repeated, or resumed at any
/// epoch, and gives the same batches on every device.
/// </summary>
/// <remarks>
/// Batches are gathered into one reused host array and uploaded into reused device tensors, so after the first
/// epoch the loader allocates nothing per batch. One enumeration at a time: a second one would overwrite the first's
/// tensors.
/// </remarks>
public sealed class BatchLoader
{
    private readonly LabeledImages _data;
    private readonly int[] _order;
    private readonly float[] _hostImages;
    private readonly long[] _hostLabels;
    private readonly Tensor _images;
    private readonly Tensor _labels;
    private Tensor? _tailImages;
    private Tensor? _tailLabels;

    /// <summary>Creates a loader over <paramref name="data"/> producing tensors on <paramref name="device"/>.</summary>
    /// <param name="data">The samples.</param>
    /// <param name="device">Where the batches are uploaded.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="seed">Decides every epoch's order.</param>
    /// <param name="shuffle">False keeps the data's order (evaluation).</param>
    /// <param name="dropLast">Drops the last batch when it is smaller than <paramref name="batchSize"/>.</param>
    public BatchLoader(LabeledImages data, Device device, int batchSize, int seed = 0, bool shuffle = true, bool dropLast = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(device);
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"The batch size must be at least 1, got {batchSize}.");
        }
        _data = data;
        Device = device;
        Seed = seed;
        Shuffle = shuffle;
        DropLast = dropLast;
        BatchSize = batchSize;
        int rows = Math.Min(batchSize, Math.Max(data.Count, 1));
        BatchCount = dropLast ? data.Count / batchSize : (data.Count + batchSize - 1) / batchSize;
        _order = new int[data.Count];
        _hostImages = new float[rows * data.SampleLength];
        _hostLabels = new long[rows];
        _images = device.Allocate(DType.Float32, rows, data.Channels, data.Height, data.Width);
        _labels = device.Allocate(DType.Int64, rows);
    }

    public Device Device { get; }
    public int Seed { get; }
    public bool Shuffle { get; }
    public bool DropLast { get; }
    public int BatchSize { get; }

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
    /// The batches of <paramref name="epoch"/>, in order. Each batch's tensors are overwritten by the next one.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        Order(epoch, _order);
        for (int b = 0; b < BatchCount; b++)
        {
            yield return Load(b);
        }
    }

    private Batch Load(int index)
    {
        int start = index * BatchSize;
        int size = Math.Min(BatchSize, _data.Count - start);
        _data.Gather(_order.AsSpan(start, size), _hostImages, _hostLabels);
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
        Device.Upload(_hostImages.AsSpan(0, size * _data.SampleLength), images);
        Device.Upload(_hostLabels.AsSpan(0, size), labels);
        return new Batch(images, labels, index);
    }
}
