namespace Dsl;

/// <summary>
/// A planned activation or gradient buffer of a generated network: the per-sample shape is fixed at
/// compile time, the batch size is not. Memory grows to the largest batch seen and is reused, and the
/// view for the current batch is cached, so steady-state training allocates nothing.
/// </summary>
public sealed class BufferSlot
{
    private readonly Device _device;
    private readonly DType _dtype;
    private readonly int[] _sample;
    private readonly long _sampleLength;
    private Storage? _storage;
    private Tensor? _view;
    private Tensor? _previous;
    private readonly PerPart<Tensor> _parts = new();

    public BufferSlot(Device device, params int[] sampleShape)
        : this(device, DType.Float32, sampleShape)
    {
    }

    /// <summary>A slot of another element type (int32 arg-max indices of max pooling).</summary>
    public BufferSlot(Device device, DType dtype, params int[] sampleShape)
    {
        _device = device;
        _dtype = dtype;
        _sample = sampleShape;
        _sampleLength = Tensor.CheckedLength(sampleShape);
    }

    /// <summary>The buffer for a batch of <paramref name="n"/> samples: shape [n, ...sample].</summary>
    public Tensor Rows(int n)
    {
        if (_view is not null && _view.Size(0) == n)
        {
            return _view;
        }
        if (_previous is not null && _previous.Size(0) == n)
        {
            (_view, _previous) = (_previous, _view);
            return _view;
        }
        long needed = n * _sampleLength;
        if (_storage is null || _storage.Length < needed)
        {
            _storage?.Dispose();
            _storage = _device.AllocateStorage(_dtype, Math.Max(needed, 1));
            _previous = null;
        }
        var shape = Tensor.BatchShape(n, _sample);
        _previous = _view is not null && ReferenceEquals(_view.Storage, _storage) ? _view : null;
        _view = new Tensor(_storage, 0, shape);
        return _view;
    }

    /// <summary>
    /// The buffer for row part <paramref name="part"/> of a split evaluation forward (<see cref="Module.RunEvaluationParts"/>):
    /// part 0, and every forward that is not split, is <see cref="Rows(int)"/>; every other part has memory of its own.
    /// Safe to call from the parts' threads at once.
    /// </summary>
    public Tensor Rows(int n, int part)
    {
        if (part == 0)
        {
            return Rows(n);
        }
        var view = _parts[part];
        if (view is not null && view.Size(0) == n)
        {
            return view;
        }
        long needed = Math.Max(n * _sampleLength, 1);
        var storage = view is not null && view.Storage.Length >= needed ? view.Storage : null;
        if (storage is null)
        {
            view?.Storage.Dispose();
            storage = _device.AllocateStorage(_dtype, needed);
        }
        var shape = Tensor.BatchShape(n, _sample);
        view = new Tensor(storage, 0, shape);
        _parts[part] = view;
        return view;
    }
}
