namespace Dsl;

/// <summary>
/// A value a layer computes as a by-product and keeps readable after <c>Forward</c> for display (attention weights):
/// the generated forward stores the current batch's view here; it is valid until the next <c>Forward</c>. A layer that does
/// not keep the value (fused attention never holds its weights) gives a <see cref="Compute"/> instead, run when it is read.
/// </summary>
public sealed class Readout
{
    internal Readout(string name, Func<Tensor>? compute = null) => (Name, Compute) = (name, compute);

    /// <summary>Computes the value of the last <c>Forward</c> when read (throws before one), or null when the forward stores it.</summary>
    public Func<Tensor>? Compute { get; }

    /// <summary>The readout's name: the layer's name and what it holds, <c>attention1.weights</c>.</summary>
    public string Name { get; }

    /// <summary>The last <c>Forward</c>'s value (a view of a buffer the next call reuses); null before the first.</summary>
    public Tensor? Value { get; set; }
}
