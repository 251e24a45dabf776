namespace Dsl;

public abstract partial class Module
{
    private readonly List<Readout> _readouts = new();

    /// <summary>The names of the values layers keep readable after <c>Forward</c> (<c>attention1.weights</c>), in definition order.</summary>
    public IReadOnlyList<string> ReadoutNames => _readouts.Select(r => r.Name).ToArray();

    /// <summary>
    /// A value a layer kept from the last <c>Forward</c> for display, by name: <c>Readout("attention1.weights")</c> is the
    /// attention weights [N,T,S] of the layer named attention1. The tensor is a view of a buffer the next <c>Forward</c>
    /// overwrites: <c>Clone()</c> it to keep it.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The network has no readout of that name (the message lists those it has).</exception>
    /// <exception cref="InvalidOperationException">No <c>Forward</c> has run yet.</exception>
    public Tensor Readout(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var readout = _readouts.FirstOrDefault(r => r.Name == name)
            ?? throw new KeyNotFoundException($"{NetworkName} has no readout '{name}'; it has {(_readouts.Count == 0 ? "none" : string.Join(", ", _readouts.Select(r => r.Name)))}.");
        return readout.Value ?? readout.Compute?.Invoke() ?? throw new InvalidOperationException($"{NetworkName}.Readout(\"{name}\"): run Forward first.");
    }

    /// <summary>Registers a readout; generated constructors call this for layers that keep a value for display.</summary>
    protected Readout AddReadout(string name) => AddReadout(name, null);

    /// <summary>
    /// Registers a readout computed when it is read (<paramref name="compute"/> throws <see cref="InvalidOperationException"/>
    /// before a Forward): for a layer whose fast path keeps no such value.
    /// </summary>
    protected Readout AddReadout(string name, Func<Tensor>? compute)
    {
        var readout = new Readout(name, compute);
        _readouts.Add(readout);
        return readout;
    }
}
