namespace Dsl;

/// <summary>
/// One value per row part of a split evaluation forward (<see cref="Module.RunEvaluationParts"/>): the buffers and cached views
/// that part p of a network uses. Part p's value is read and written only by the thread running part p, so reads take
/// no lock; a write (a first use, a larger batch) takes one, because it may grow the table other parts read.
/// </summary>
internal sealed class PerPart<T> where T : class
{
    private T?[] _items = [];
    private readonly object _writeLock = new();

    public T? this[int part]
    {
        get
        {
            var items = Volatile.Read(ref _items);
            return (uint)part < (uint)items.Length ? items[part] : null;
        }
        set
        {
            lock (_writeLock)
            {
                var items = _items;
                if (part >= items.Length)
                {
                    var grown = new T?[Math.Max(part + 1, items.Length * 2)];
                    items.CopyTo(grown, 0);
                    grown[part] = value;
                    Volatile.Write(ref _items, grown);
                    return;
                }
                items[part] = value;
            }
        }
    }
}

/// <summary>
/// A view cached for a row part, with the tensor it was made from: a hit needs that very tensor, not only its memory, because
/// a result or loader handle over reused memory carries the version it was made at (<see cref="Tensor.Stamped"/>), and a view
/// made from an earlier handle would read as stale.
/// </summary>
internal sealed record SourceView(Tensor Source, int Start, Tensor View);
