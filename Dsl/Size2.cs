namespace Dsl;

/// <summary>
/// A size along height and width, as PyTorch's <c>_size_2_t</c>: one number for both (<c>kernel: 3</c>) or a pair
/// <c>(height, width)</c> (<c>kernel: (1, 7)</c>). The layer arguments that take it (<see cref="Layers.Conv2d(int, Size2, Size2?, Size2?, Size2?, int, bool, string?)"/>,
/// the pooling layers) must be compile-time constants.
/// </summary>
public readonly record struct Size2(int Height, int Width)
{
    /// <summary>The same size along height and width.</summary>
    public static implicit operator Size2(int both) => new(both, both);

    /// <summary>A <c>(height, width)</c> pair.</summary>
    public static implicit operator Size2((int Height, int Width) pair) => new(pair.Height, pair.Width);

    /// <inheritdoc/>
    public override string ToString() => Height == Width ? Height.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"({Height}, {Width})";
}
