namespace Dsl;

/// <summary>
/// One dimension of a graph input's or output's declared shape: a size, or a name (<c>N</c>, <c>T</c>) that ONNX keeps
/// dynamic (<c>TensorShapeProto.Dimension</c>'s <c>dim_value</c> or <c>dim_param</c>).
/// </summary>
public readonly struct OnnxDim
{
    private OnnxDim(long size, string? symbol)
    {
        Size = size;
        Symbol = symbol;
    }

    /// <summary>The fixed size, when <see cref="Symbol"/> is null.</summary>
    public long Size { get; }

    /// <summary>The name of a dynamic dimension, or null for a fixed one.</summary>
    public string? Symbol { get; }

    public static implicit operator OnnxDim(long size)
        => size >= 0 ? new(size, null) : throw new ArgumentOutOfRangeException(nameof(size), size, "a dimension cannot be negative");

    public static implicit operator OnnxDim(string symbol)
        => !string.IsNullOrEmpty(symbol) ? new(0, symbol) : throw new ArgumentException("a dynamic dimension needs a name", nameof(symbol));

    public override string ToString() => Symbol ?? Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
