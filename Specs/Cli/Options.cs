using System.Globalization;

namespace Specs.Cli;

/// <summary>
/// The arguments of one command: positional words and <c>--name value</c> (or <c>--name=value</c>) options. Every
/// option must be one the command declares; typed getters report bad values as <see cref="UsageException"/>.
/// </summary>
public sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly List<string> _positional = new();
    private readonly string _command;

    /// <summary>Parses <paramref name="args"/> for <paramref name="command"/>, which accepts <paramref name="known"/> options.</summary>
    public Options(string command, IEnumerable<string> args, params string[] known)
    {
        _command = command;
        var allowed = new HashSet<string>(known, StringComparer.Ordinal);
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                _positional.Add(a);
                continue;
            }
            string name = a[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            if (!allowed.Contains(name))
            {
                string hint = allowed.Count == 0 ? "it takes no options" : "options: " + string.Join(", ", allowed.Order().Select(k => "--" + k));
                throw new UsageException($"{command}: unknown option --{name} ({hint}).");
            }
            if (value is null)
            {
                if (i + 1 >= list.Count)
                {
                    throw new UsageException($"{command}: --{name} needs a value.");
                }
                value = list[++i];
            }
            if (!_values.TryAdd(name, value))
            {
                throw new UsageException($"{command}: --{name} is given twice.");
            }
        }
    }

    /// <summary>The positional words, in order.</summary>
    public IReadOnlyList<string> Positional => _positional;

    /// <summary>The one required positional argument, described as <paramref name="what"/> in the error.</summary>
    public string Single(string what)
    {
        if (_positional.Count != 1)
        {
            throw new UsageException(_positional.Count == 0
                ? $"{_command}: expected {what}."
                : $"{_command}: expected one {what}, got {string.Join(" ", _positional)}.");
        }
        return _positional[0];
    }

    public string? String(string name) => _values.GetValueOrDefault(name);

    public int? PositiveInt(string name)
    {
        if (!_values.TryGetValue(name, out string? s))
        {
            return null;
        }
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < 1)
        {
            throw new UsageException($"{_command}: --{name} must be a positive integer, got '{s}'.");
        }
        return v;
    }

    public int? Int(string name)
    {
        if (!_values.TryGetValue(name, out string? s))
        {
            return null;
        }
        return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new UsageException($"{_command}: --{name} must be an integer, got '{s}'.");
    }

    public float? NonNegativeFloat(string name)
    {
        if (!_values.TryGetValue(name, out string? s))
        {
            return null;
        }
        if (!float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !(v >= 0f) || float.IsInfinity(v))
        {
            throw new UsageException($"{_command}: --{name} must be a non-negative number, got '{s}'.");
        }
        return v;
    }

    /// <summary>A comma-separated list of positive integers, e.g. <c>--threads 1,2</c>.</summary>
    public int[]? PositiveInts(string name)
    {
        if (!_values.TryGetValue(name, out string? s))
        {
            return null;
        }
        var parts = s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out result[i]) || result[i] < 1)
            {
                throw new UsageException($"{_command}: --{name} must be positive integers separated by commas, got '{s}'.");
            }
        }
        return result.Length > 0 ? result : throw new UsageException($"{_command}: --{name} is empty.");
    }

    /// <summary>One of <paramref name="choices"/> (case-insensitive), or null when absent.</summary>
    public string? Choice(string name, params string[] choices)
    {
        if (!_values.TryGetValue(name, out string? s))
        {
            return null;
        }
        string lower = s.ToLowerInvariant();
        return choices.Contains(lower) ? lower : throw new UsageException($"{_command}: --{name} must be one of {string.Join(", ", choices)}, got '{s}'.");
    }
}
