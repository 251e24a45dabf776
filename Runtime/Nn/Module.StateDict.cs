namespace Dsl;

/// <summary>
/// PyTorch's <c>state_dict()</c> and <c>load_state_dict()</c>: every parameter and buffer by its PyTorch name, from
/// memory; <see cref="Checkpoint"/> saves and loads the same names through safetensors files.
/// </summary>
public abstract partial class Module
{
    private const string RunningMean = ".running_mean";
    private const string BatchCount = ".num_batches_tracked";

    private List<NamedTensor>? _batchCounters;

    /// <summary>
    /// Every parameter and buffer by name, in definition order (parameters, buffers, then each batch norm's int64
    /// <c>num_batches_tracked</c>, which PyTorch keeps and this runtime carries from load to save without counting:
    /// it only matters to PyTorch's <c>momentum=None</c>). The tensors are the network's own, not copies.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> StateDict()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in StateEntries())
        {
            result.Add(name, tensor);
        }
        return result;
    }

    /// <summary>
    /// Copies <paramref name="state"/>'s tensors (on any device) into this network's parameters and buffers. With
    /// <paramref name="strict"/> (the default, as in PyTorch) the names must match exactly; otherwise every name present
    /// on both sides is loaded and the others are returned. A name present on both sides with another shape or dtype is
    /// an error naming both, whatever <paramref name="strict"/> says. Nothing changes unless the whole load is valid.
    /// A missing <c>num_batches_tracked</c> is never an error (checkpoints from before PyTorch 0.4.1 have none).
    /// </summary>
    public StateDictLoadResult LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        return LoadState(state, strict, reason => new ArgumentException($"{NetworkName}.LoadStateDict: {reason}.", nameof(state)));
    }

    /// <summary>The load behind <see cref="LoadStateDict"/> and <see cref="Checkpoint.Load"/>; <paramref name="fail"/> builds the error.</summary>
    internal StateDictLoadResult LoadState(IReadOnlyDictionary<string, Tensor> state, bool strict, Func<string, Exception> fail)
    {
        var entries = StateEntries();
        var staged = new List<(Tensor Source, Tensor Target)>();
        var missing = new List<string>();
        foreach (var (name, target) in entries)
        {
            if (!state.TryGetValue(name, out var source))
            {
                if (!name.EndsWith(BatchCount, StringComparison.Ordinal))
                {
                    missing.Add(name);
                }
                continue;
            }
            if (!source.Dims.SequenceEqual(target.Dims))
            {
                throw fail($"'{name}' is {Tensor.FormatShape(source.Dims)} but {NetworkName} needs {Tensor.FormatShape(target.Dims)}");
            }
            if (source.DType != target.DType)
            {
                throw fail($"'{name}' is {source.DType} but {NetworkName} needs {target.DType}");
            }
            staged.Add((source, target));
        }
        var known = entries.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var unexpected = state.Keys.Where(k => !known.Contains(k)).ToList();
        if (strict && missing.Count > 0)
        {
            throw fail($"it has no tensor {List(missing, "'")} ({NetworkName} needs {Tensor.FormatShape(entries.First(e => e.Name == missing[0]).Tensor.Dims)} for '{missing[0]}')");
        }
        if (strict && unexpected.Count > 0)
        {
            throw fail($"it has tensors {NetworkName} does not: {List(unexpected, "")}");
        }
        foreach (var (source, target) in staged)
        {
            Tensor.CopyAcross(source, target);
        }
        StateChanged();
        return new StateDictLoadResult(missing, unexpected);
    }

    /// <summary>Parameters, buffers, then one int64 scalar batch counter per batch norm (created on first use).</summary>
    private List<(string Name, Tensor Tensor)> StateEntries()
    {
        if (_batchCounters is null)
        {
            _batchCounters = new List<NamedTensor>();
            foreach (var buffer in Buffers)
            {
                if (buffer.Name.EndsWith(RunningMean, StringComparison.Ordinal))
                {
                    var counter = Device.Allocate(DType.Int64);
                    Device.Upload([0L], counter);
                    _batchCounters.Add(new NamedTensor(buffer.Name[..^RunningMean.Length] + BatchCount, counter));
                }
            }
        }
        return Parameters.Select(p => (p.Name, p.Value))
            .Concat(Buffers.Select(b => (b.Name, b.Value)))
            .Concat(_batchCounters.Select(c => (c.Name, c.Value)))
            .ToList();
    }

    private static string List(List<string> names, string quote)
        => string.Join(", ", names.Take(5).Select(n => quote + n + quote)) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");
}
