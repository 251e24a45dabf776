namespace Dsl;

/// <summary>
/// A value a layer computes as a by-product and keeps readable after <c>Forward</c> for display (attention weights):
/// the generated forward stores the current batch's view here; it is valid until the next <c>Forward</c>.
/// </summary>
public sealed class Readout
{
    internal Readout(string name) => Name = name;

    /// <summary>The readout's name: the layer's name and what it holds, <c>attention1.weights</c>.</summary>
    public string Name { get; }

    /// <summary>The last <c>Forward</c>'s value (a view of a buffer the next call reuses); null before the first.</summary>
    public Tensor? Value { get; set; }
}
