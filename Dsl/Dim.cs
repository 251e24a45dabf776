namespace Dsl;

/// <summary>
/// A dimension of an input as declared: a positive constant (<c>16</c>) or a named symbol (<c>"T"</c>), converted
/// implicitly from <see cref="int"/> and <see cref="string"/>, so <c>Input("x", "T", 16)</c> is a float32 input
/// [N,T,16] whose sequence length T is bound when <c>Forward</c> runs. A symbol is a letter followed by letters or
/// digits (at most 16); <c>N</c> is the batch and cannot be declared. Inputs that name the same symbol must agree on its
/// size at run time; a layer that needs a fixed size (the in-features of <c>Linear</c>) refuses a symbol at compile time.
/// </summary>
public readonly struct Dim
{
    private Dim(int size, string? symbol)
    {
        Size = size;
        Symbol = symbol;
    }

    /// <summary>The constant size, or 0 for a symbol.</summary>
    public int Size { get; }

    /// <summary>The symbol's name, or null for a constant.</summary>
    public string? Symbol { get; }

    /// <summary>A constant dimension.</summary>
    public static implicit operator Dim(int size) => new(size, null);

    /// <summary>A symbolic dimension, bound from the inputs when <c>Forward</c> runs.</summary>
    public static implicit operator Dim(string symbol) => new(0, symbol);

    /// <inheritdoc/>
    public override string ToString() => Symbol ?? Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
