namespace Specs.Cli;

/// <summary>The networks the CLI knows, by name. The entries themselves live in <c>NetworkCatalog.Entries.cs</c>.</summary>
public static partial class NetworkCatalog
{
    /// <summary>Every registered network, in listing order.</summary>
    public static IReadOnlyList<NetworkInfo> All => Entries;

    /// <summary>The network called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="UsageException">No network has that name.</exception>
    public static NetworkInfo Get(string name)
    {
        var info = Entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
        if (info is not null)
        {
            return info;
        }
        string known = Entries.Count == 0 ? "the catalog is empty" : "known: " + string.Join(", ", Entries.Select(e => e.Name));
        throw new UsageException($"Unknown network '{name}' ({known}; see 'list').");
    }
}
