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

    public ViewSlot(params int[] sampleShape) => _sample = sampleShape;

    /// <summary>The view made by the last <see cref="Of"/>.</summary>
    public Tensor Current => _view ?? throw new InvalidOperationException("No view yet: run Forward first.");

    /// <summary><paramref name="source"/> [N, ...] seen as [N, ...sample].</summary>
    public Tensor Of(Tensor source)
    {
        if (_view is not null && ReferenceEquals(source, _source))
        {
            return _view;
        }
        var shape = new int[_sample.Length + 1];
        shape[0] = source.Size(0);
        _sample.CopyTo(shape, 1);
        _view = source.View(shape);
        _source = source;
        return _view;
    }
}
