namespace Specs.Cli;

/// <summary>The networks the CLI knows, by name. The entries themselves live in <c>NetworkCatalog.Entries.cs</c>.</summary>
public static partial class NetworkCatalog
{
    /// <summary>Every registered network, in listing order.</summary>
    public static IReadOnlyList<NetworkInfo> All => Entries;

    /// <summary>The network called <paramref name="name"/> (case-insensitive), or null.</summary>
    public static NetworkInfo? Find(string name)
        => Entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The network called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="UsageException">No network has that name.</exception>
    public static NetworkInfo Get(string name) => Find(name) ?? throw new UsageException(Unknown(name));

    /// <summary>The error for a name no network has, listing the known ones.</summary>
    public static string Unknown(string name)
    {
        string known = Entries.Count == 0 ? "the catalog is empty" : "known: " + string.Join(", ", Entries.Select(e => e.Name));
        return $"unknown network '{name}' ({known}; see 'list').";
    }
}
