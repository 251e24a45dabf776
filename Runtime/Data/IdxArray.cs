namespace Dsl.Data;

/// <summary>
/// An IDX file's contents: its shape (outermost first, as stored) and its unsigned bytes in row-major order.
/// </summary>
public sealed class IdxArray
{
    internal IdxArray(string source, int[] shape, byte[] data)
    {
        Source = source;
        _shape = shape;
        Data = data;
    }

    private readonly int[] _shape;

    /// <summary>The file (or stream name) the array was read from, for messages.</summary>
    public string Source { get; }

    /// <summary>A copy of the dimension sizes, e.g. <c>[60000, 28, 28]</c>.</summary>
    public int[] Shape => (int[])_shape.Clone();

    /// <summary>The number of items: the first dimension.</summary>
    public int Count => _shape[0];

    /// <summary>The elements, row-major.</summary>
    public byte[] Data { get; }
}
