namespace Dsl;

/// <summary>
/// A planned buffer of a generated network whose shape has symbolic dimensions (<c>[N,T,16]</c>): the generated code
/// passes the bound sizes on each fetch. The memory grows to the largest element count seen and is kept, so once the
/// largest batch has passed no fetch allocates storage; the views of the last few shapes are cached, so alternating
/// between a few sequence lengths (bucketed batches) allocates nothing either. Fixed-shape buffers stay
/// <see cref="BufferSlot"/>s, planned at compile time.
/// </summary>
public sealed class SymbolicSlot
{
    private const int CachedViews = 4;
    private readonly Device _device;
    private readonly DType _dtype;
    private readonly Tensor?[] _views = new Tensor?[CachedViews];
    private int _next;
    private Storage? _storage;

    public SymbolicSlot(Device device)
        : this(device, DType.Float32)
    {
    }

    public SymbolicSlot(Device device, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
        _dtype = dtype;
    }

    /// <summary>The elements the storage holds now (the largest seen), for tests and memory reports.</summary>
    public long Capacity => _storage?.Length ?? 0;

    /// <summary>The buffer shaped [n, d1].</summary>
    public Tensor Rows(int n, int d1) => Get(n, d1, -1, -1, 2);

    /// <summary>The buffer shaped [n, d1, d2].</summary>
    public Tensor Rows(int n, int d1, int d2) => Get(n, d1, d2, -1, 3);

    /// <summary>The buffer shaped [n, d1, d2, d3].</summary>
    public Tensor Rows(int n, int d1, int d2, int d3) => Get(n, d1, d2, d3, 4);

    /// <summary>The buffer shaped [n, d1, d2, d3, d4].</summary>
    public Tensor Rows(int n, int d1, int d2, int d3, int d4) => Get(n, d1, d2, d3, 5, d4);

    private Tensor Get(int n, int d1, int d2, int d3, int rank, int d4 = -1)
    {
        foreach (var view in _views)
        {
            if (view is not null && Matches(view, n, d1, d2, d3, rank) && (rank < 5 || view.Dims[4] == d4))
            {
                return view;
            }
        }
        var shape = rank switch
        {
            2 => new[] { n, d1 },
            3 => new[] { n, d1, d2 },
            4 => new[] { n, d1, d2, d3 },
            5 => new[] { n, d1, d2, d3, d4 },
            _ => throw new ArgumentOutOfRangeException(nameof(rank)),
        };
        long needed = Tensor.CheckedLength(shape);
        if (_storage is null || _storage.Length < needed)
        {
            // Views of the old storage are dropped with it: a later fetch of their shape makes a view of the new one.
            _storage?.Dispose();
            _storage = _device.AllocateStorage(_dtype, Math.Max(needed, 1));
            Array.Clear(_views);
            _next = 0;
        }
        var created = new Tensor(_storage, 0, shape);
        _views[_next] = created;
        _next = (_next + 1) % CachedViews;
        return created;
    }

    private static bool Matches(Tensor view, int n, int d1, int d2, int d3, int rank)
    {
        var dims = view.Dims;
        return dims.Length == rank && dims[0] == n && dims[1] == d1 && (rank < 3 || dims[2] == d2) && (rank < 4 || dims[3] == d3);
    }
}
