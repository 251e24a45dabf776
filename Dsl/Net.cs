namespace Dsl;

/// <summary>
/// A symbolic tensor in a network definition: what <see cref="Layers.Input(int[])"/> declares and what a layer returns.
/// <c>net | layer</c> applies a layer (F#'s <c>|&gt;</c>); <c>a + b</c> adds and <c>a * b</c> multiplies two values of the same
/// shape. A layer may take other values as named arguments (<c>x | MaxOverTime(mask: m)</c>), bound earlier with <c>var</c>.
/// It exists for the compiler and the source generator: its members do no numerical work.
/// </summary>
public sealed class Net
{
    internal Net(string description) => Description = description;

    /// <summary>The expression this value was built from, for debugging.</summary>
    public string Description { get; }

    /// <summary>Applies <paramref name="layer"/> to <paramref name="input"/>.</summary>
    public static Net operator |(Net input, Layer layer) => new($"{input.Description} | {layer.Description}");

    /// <summary>Elementwise sum of two values of the same shape (a shortcut connection); the gradient flows to both.</summary>
    public static Net operator +(Net left, Net right) => new($"({left.Description}) + ({right.Description})");

    /// <summary>
    /// Elementwise product of two values of the same shape (symbolic dimensions compared exactly), as a gate multiplies a
    /// value: d left = dy * right, d right = dy * left.
    /// </summary>
    public static Net operator *(Net left, Net right) => new($"({left.Description}) * ({right.Description})");

    // Tensor operations (issue 8): element-wise - and /, and a number on either side of + - * /, broadcasting as PyTorch
    // does over the per-sample dimensions (compared from the right: equal, 1 or missing); the number may be a constant or
    // arithmetic over a block's parameters (Math.Sqrt included).

    /// <summary>Elementwise difference, broadcasting the per-sample dimensions.</summary>
    public static Net operator -(Net left, Net right) => new($"({left.Description}) - ({right.Description})");

    /// <summary>Elementwise quotient, broadcasting the per-sample dimensions.</summary>
    public static Net operator /(Net left, Net right) => new($"({left.Description}) / ({right.Description})");

    /// <summary>Adds a number to every element.</summary>
    public static Net operator +(Net left, double right) => new($"({left.Description}) + {right}");

    /// <summary>Adds a number to every element.</summary>
    public static Net operator +(double left, Net right) => new($"{left} + ({right.Description})");

    /// <summary>Subtracts a number from every element.</summary>
    public static Net operator -(Net left, double right) => new($"({left.Description}) - {right}");

    /// <summary>A number minus every element (<c>1.0 - m</c> inverts a 0/1 mask).</summary>
    public static Net operator -(double left, Net right) => new($"{left} - ({right.Description})");

    /// <summary>Scales every element.</summary>
    public static Net operator *(Net left, double right) => new($"({left.Description}) * {right}");

    /// <summary>Scales every element.</summary>
    public static Net operator *(double left, Net right) => new($"{left} * ({right.Description})");

    /// <summary>Divides every element by a number (<c>scores / Math.Sqrt(d)</c>).</summary>
    public static Net operator /(Net left, double right) => new($"({left.Description}) / {right}");

    /// <summary>A number divided by every element.</summary>
    public static Net operator /(double left, Net right) => new($"{left} / ({right.Description})");

    /// <inheritdoc/>
    public override string ToString() => Description;
}

/// <summary>
/// A function from <see cref="Net"/> to <see cref="Net"/>: one layer, or several composed with
/// <c>a | b</c> (F#'s <c>&gt;&gt;</c>). A block is a static method returning a <see cref="Layer"/>.
/// </summary>
public sealed class Layer
{
    internal Layer(string description) => Description = description;

    /// <summary>The expression this layer was built from, for debugging.</summary>
    public string Description { get; }

    /// <summary>Composes two layers: <c>(a | b)(x) = b(a(x))</c>.</summary>
    public static Layer operator |(Layer first, Layer second) => new($"{first.Description} | {second.Description}");

    /// <inheritdoc/>
    public override string ToString() => Description;
}
