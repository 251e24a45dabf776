namespace Dsl;

/// <summary>
/// Strided views of a layer's buffers, made once and reused: a view is a small object, so making the same ones on every step
/// would allocate on a training step that must allocate nothing. An entry is keyed by the tensor it views (the buffers are
/// themselves the cached views of <see cref="SymbolicSlot"/>s, so the same sizes give the same object) and a code naming the
/// view; when the cache fills (many sequence lengths seen) it starts over.
/// </summary>
internal sealed class ViewCache
{
    private const int Capacity = 96;
    private readonly Tensor?[] _sources = new Tensor?[Capacity];
    private readonly int[] _codes = new int[Capacity];
    private readonly Tensor?[] _views = new Tensor?[Capacity];
    private int _count;

    /// <summary>The view of <paramref name="source"/> named <paramref name="code"/>, or null when not made yet.</summary>
    public Tensor? Find(Tensor source, int code)
    {
        for (int i = 0; i < _count; i++)
        {
            if (ReferenceEquals(_sources[i], source) && _codes[i] == code)
            {
                return _views[i];
            }
        }
        return null;
    }

    /// <summary>Keeps <paramref name="view"/> as the view of <paramref name="source"/> named <paramref name="code"/>.</summary>
    public Tensor Add(Tensor source, int code, Tensor view)
    {
        if (_count == Capacity)
        {
            System.Array.Clear(_sources);
            System.Array.Clear(_views);
            _count = 0;
        }
        _sources[_count] = source;
        _codes[_count] = code;
        _views[_count] = view;
        _count++;
        return view;
    }

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/> of a projection [N, L, parts*H*dh] seen per head:
    /// [N, H, L, dh] (a strided view; PyTorch's <c>view(N, L, H, dh).transpose(1, 2)</c> of that part's columns).
    /// </summary>
    public Tensor HeadsOf(Tensor projection, int parts, int part, int heads)
    {
        int code = 1000 + parts * 10 + part;
        if (Find(projection, code) is { } found)
        {
            return found;
        }
        int n = projection.Dims[0], l = projection.Dims[1], dh = projection.Dims[2] / (parts * heads);
        return Add(projection, code, projection.View(n, l, parts, heads, dh).Select(2, part).Transpose(1, 2));
    }

    /// <summary>A contiguous [N*H, L, dh] buffer seen as [N, H, L, dh].</summary>
    public Tensor Split(Tensor perHead, int heads)
    {
        const int code = 2000;
        if (Find(perHead, code) is { } found)
        {
            return found;
        }
        return Add(perHead, code, perHead.View(perHead.Dims[0] / heads, heads, perHead.Dims[1], perHead.Dims[2]));
    }

    /// <summary>Rows <paramref name="start"/>..<paramref name="start"/>+<paramref name="length"/> of a parameter (contiguous).</summary>
    public Tensor Rows(Tensor parameter, int start, int length)
    {
        int code = 3000 + start * 7919 + length;
        if (Find(parameter, code) is { } found)
        {
            return found;
        }
        return Add(parameter, code, parameter.Narrow(0, start, length));
    }
}
