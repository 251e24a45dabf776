namespace Dsl;

/// <summary>
/// Memory a generated network's planner shares between activations and gradients whose lifetimes do not overlap
/// (<see cref="SlotView"/> is how a value sees it). Its size per sample is the largest value planned into it; the storage
/// grows to the largest batch seen and stays, so steady-state steps allocate nothing.
/// </summary>
public sealed class MemorySlot
{
    private readonly Device _device;
    private Storage? _storage;
    private readonly PerPart<Storage> _parts = new();

    /// <summary>A slot of <paramref name="elementsPerSample"/> float32 elements per sample, allocated on first use.</summary>
    public MemorySlot(Device device, long elementsPerSample)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegative(elementsPerSample);
        _device = device;
        ElementsPerSample = elementsPerSample;
    }

    public Device Device => _device;

    /// <summary>Float32 elements per sample: the largest value planned into the slot.</summary>
    public long ElementsPerSample { get; }

    /// <summary>Elements allocated now (zero before first use).</summary>
    public long Capacity => _storage?.Length ?? 0;

    /// <summary>
    /// The storage for a batch of <paramref name="n"/> samples, sized for the largest value of the slot so that no value
    /// planned into it reallocates it within a step. A larger batch than any before replaces the storage (whatever the slot
    /// held is dead by the plan's construction); a smaller one uses the front of it.
    /// </summary>
    public Storage Reserve(int n)
    {
        long needed = Math.Max(checked(n * ElementsPerSample), 1);
        if (_storage is null || _storage.Length < needed)
        {
            _storage?.Dispose();
            _storage = _device.AllocateStorage(DType.Float32, needed);
        }
        return _storage;
    }

    /// <summary>
    /// The storage of row part <paramref name="part"/> of a split evaluation forward, for its <paramref name="n"/> samples:
    /// part 0 uses <see cref="Reserve(int)"/>'s storage, every other part one of its own, so parts running at the same time
    /// on other threads never share memory while the plan reuses a slot for values of different sizes.
    /// </summary>
    public Storage Reserve(int n, int part)
    {
        if (part == 0)
        {
            return Reserve(n);
        }
        long needed = Math.Max(checked(n * ElementsPerSample), 1);
        var storage = _parts[part];
        if (storage is null || storage.Length < needed)
        {
            storage?.Dispose();
            storage = _device.AllocateStorage(DType.Float32, needed);
            _parts[part] = storage;
        }
        return storage;
    }
}
