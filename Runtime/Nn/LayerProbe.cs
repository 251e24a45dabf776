namespace Dsl;

/// <summary>
/// The outputs of some layers of a network, copied at every <c>Forward</c> while the probe lives (<see cref="Module.Probe"/>).
/// Dispose it to stop copying: a network without probes runs its layers without the hook.
/// </summary>
public sealed class LayerProbe : IDisposable
{
    private readonly Module _network;
    private readonly string[] _names;
    private readonly int[] _ids;
    private readonly Tensor?[] _values;
    private bool _disposed;

    internal LayerProbe(Module network, string[] names, int[] ids)
    {
        _network = network;
        _names = names;
        _ids = ids;
        _values = new Tensor?[names.Length];
    }

    /// <summary>The layer names this probe copies, as given.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>
    /// The output [N, ...] of layer <paramref name="name"/> in the last <c>Forward</c> since the probe was made, on the
    /// network's device; the probe's own tensor, overwritten by the next <c>Forward</c> (<c>Clone()</c> to keep it).
    /// </summary>
    /// <exception cref="KeyNotFoundException">The probe was not made for that layer (the message lists those it was).</exception>
    /// <exception cref="InvalidOperationException">No <c>Forward</c> has run since the probe was made.</exception>
    public Tensor this[string name]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(name);
            int k = Array.IndexOf(_names, name);
            if (k < 0)
            {
                // Another spelling of the same layer (its number) is the same value.
                int id = _network.ProbeId(name);
                k = Array.IndexOf(_ids, id);
                if (k < 0)
                {
                    throw new KeyNotFoundException($"this probe of {_network.NetworkName} copies {string.Join(", ", _names)}, not '{name}'.");
                }
            }
            return _values[k] ?? throw new InvalidOperationException($"{_network.NetworkName}: no Forward has run since Probe({string.Join(", ", _names)}).");
        }
    }

    internal void Capture(int id, Tensor value)
    {
        for (int k = 0; k < _ids.Length; k++)
        {
            if (_ids[k] != id)
            {
                continue;
            }
            var copy = _values[k];
            if (copy is null || !SameShape(copy, value))
            {
                copy = _values[k] = Tensor.Zeros(value.Device, value.Shape);
            }
            if (value.IsContiguous)
            {
                value.Device.Copy(value, copy);
            }
            else
            {
                value.Device.CopyStrided(value, copy);
            }
        }
    }

    // Compared size by size: Shape returns a copy, and a probe's steady state allocates nothing.
    private static bool SameShape(Tensor a, Tensor b)
    {
        if (a.Rank != b.Rank)
        {
            return false;
        }
        for (int d = 0; d < a.Rank; d++)
        {
            if (a.Size(d) != b.Size(d))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Stops copying; the tensors already copied stay readable.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _network.RemoveProbe(this);
        }
    }
}
