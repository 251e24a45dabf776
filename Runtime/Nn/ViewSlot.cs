namespace Dsl;

/// <summary>
/// A reshaped view of another buffer (<c>Flatten</c>): the same memory with a per-sample shape fixed at compile
/// time. The view object is cached while its source stays the same, so steady-state steps allocate nothing.
/// </summary>
public sealed class ViewSlot
{
    private readonly int[] _sample;
    private Tensor? _source;
    private Tensor? _view;
    private readonly (Tensor? Source, Tensor? View)[] _sized = new (Tensor?, Tensor?)[4];
    private int _next;
    private readonly PerPart<SourceView> _parts = new();

    public ViewSlot(params int[] sampleShape) => _sample = sampleShape;

    /// <summary>
    /// A view whose per-sample shape has symbolic sizes, given on each call (<see cref="Of(Tensor, int)"/> and its overloads):
    /// the view is remade only when the source or the sizes change.
    /// </summary>
    public ViewSlot() => _sample = [];

    /// <summary><paramref name="source"/> [N, ...] seen as [N, d1].</summary>
    public Tensor Of(Tensor source, int d1) => Sized(source, 1, d1, 0, 0, 0);

    /// <summary><paramref name="source"/> [N, ...] seen as [N, d1, d2].</summary>
    public Tensor Of(Tensor source, int d1, int d2) => Sized(source, 2, d1, d2, 0, 0);

    /// <summary><paramref name="source"/> [N, ...] seen as [N, d1, d2, d3].</summary>
    public Tensor Of(Tensor source, int d1, int d2, int d3) => Sized(source, 3, d1, d2, d3, 0);

    /// <summary><paramref name="source"/> [N, ...] seen as [N, d1, d2, d3, d4].</summary>
    public Tensor Of(Tensor source, int d1, int d2, int d3, int d4) => Sized(source, 4, d1, d2, d3, d4);

    private Tensor Sized(Tensor source, int rank, int d1, int d2, int d3, int d4)
    {
        // The last few (source, sizes) pairs are cached, as SymbolicSlot caches its views: batches alternating between a
        // few lengths reuse their views.
        foreach (var (cachedSource, view) in _sized)
        {
            if (view is not null && ReferenceEquals(source, cachedSource) && view.Rank == rank + 1)
            {
                var dims = view.Dims;
                if (dims[0] == source.Size(0) && dims[1] == d1 && (rank < 2 || dims[2] == d2) && (rank < 3 || dims[3] == d3) && (rank < 4 || dims[4] == d4))
                {
                    _view = view;
                    _source = source;
                    return view;
                }
            }
        }
        int[] shape = rank switch
        {
            1 => [source.Size(0), d1],
            2 => [source.Size(0), d1, d2],
            3 => [source.Size(0), d1, d2, d3],
            _ => [source.Size(0), d1, d2, d3, d4],
        };
        _view = source.View(shape);
        _source = source;
        _sized[_next] = (source, _view);
        _next = (_next + 1) % _sized.Length;
        return _view;
    }

    /// <summary>The view made by the last <see cref="Of(Tensor)"/>.</summary>
    public Tensor Current => _view ?? throw new InvalidOperationException("No view yet: run Forward first.");

    /// <summary><paramref name="source"/> [N, ...] seen as [N, ...sample].</summary>
    public Tensor Of(Tensor source)
    {
        if (_view is not null && ReferenceEquals(source, _source))
        {
            return _view;
        }
        var shape = Tensor.BatchShape(source.Size(0), _sample);
        _view = source.View(shape);
        _source = source;
        return _view;
    }

    /// <summary>
    /// <see cref="Of(Tensor)"/> for row part <paramref name="part"/> of a split evaluation forward
    /// (<see cref="Module.RunEvaluationParts"/>): each part keeps its own view, so the parts' threads never share the cache.
    /// </summary>
    public Tensor OfPart(Tensor source, int part)
    {
        if (part == 0)
        {
            return Of(source);
        }
        var cached = _parts[part];
        if (cached is null || !ReferenceEquals(cached.Source, source))
        {
            var shape = Tensor.BatchShape(source.Size(0), _sample);
            cached = new SourceView(source, 0, source.View(shape));
            _parts[part] = cached;
        }
        return cached.View;
    }
}
