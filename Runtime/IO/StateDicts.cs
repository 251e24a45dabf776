namespace Dsl;

/// <summary>
/// Name mapping for state dicts, the dictionary comprehensions PyTorch users write around <c>load_state_dict</c>: keep a
/// trunk's tensors (<see cref="StripPrefix"/>), put a network's tensors under a block's name (<see cref="AddPrefix"/>), or
/// rename them one by one (<see cref="Rename"/>: torchvision's <c>layer1.0.conv1.weight</c> to this library's
/// <c>conv2.weight</c>). <see cref="Checkpoint.Load"/> applies the same mappings to a file.
/// </summary>
public static class StateDicts
{
    /// <summary>The tensors whose names start with <paramref name="prefix"/> (<c>"trunk."</c>), with the prefix removed; the others are left out.</summary>
    public static IReadOnlyDictionary<string, T> StripPrefix<T>(IReadOnlyDictionary<string, T> state, string prefix)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var result = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var (name, value) in state)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                result[name[prefix.Length..]] = value;
            }
        }
        return result;
    }

    /// <summary>Every tensor with <paramref name="prefix"/> put before its name (<c>conv1.weight</c> becomes <c>trunk.conv1.weight</c>).</summary>
    public static IReadOnlyDictionary<string, T> AddPrefix<T>(IReadOnlyDictionary<string, T> state, string prefix)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        return state.ToDictionary(kv => prefix + kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    /// <summary>
    /// Renames the tensors named in <paramref name="map"/> (old name to new) and keeps the others as they are. A name of
    /// the map that the state lacks, or two tensors ending under one name, is an error naming them.
    /// </summary>
    public static IReadOnlyDictionary<string, T> Rename<T>(IReadOnlyDictionary<string, T> state, IReadOnlyDictionary<string, string> map)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(map);
        return TryRename(state, map, out var result, out string? reason) ? result : throw new ArgumentException(reason + ".", nameof(map));
    }

    /// <summary><see cref="Rename"/> that returns the reason instead of throwing (for messages that name a file).</summary>
    internal static bool TryRename<T>(IReadOnlyDictionary<string, T> state, IReadOnlyDictionary<string, string> map,
        out IReadOnlyDictionary<string, T> result, out string? reason)
    {
        var renamed = new Dictionary<string, T>(StringComparer.Ordinal);
        result = renamed;
        var absent = map.Keys.Where(k => !state.ContainsKey(k)).ToList();
        if (absent.Count > 0)
        {
            reason = $"the rename map names {string.Join(", ", absent.Take(5).Select(n => "'" + n + "'"))}{(absent.Count > 5 ? $" and {absent.Count - 5} more" : "")}, which the state dict does not hold";
            return false;
        }
        var from = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in state)
        {
            string target = map.TryGetValue(name, out var mapped) ? mapped : name;
            if (from.TryGetValue(target, out var other))
            {
                reason = $"the rename map sends both '{other}' and '{name}' to '{target}'";
                return false;
            }
            from.Add(target, name);
            renamed.Add(target, value);
        }
        reason = null;
        return true;
    }
}
