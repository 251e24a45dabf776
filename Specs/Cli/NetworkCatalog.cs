namespace Specs.Cli;

/// <summary>
/// The networks the CLI knows, by name. The entries themselves live in <c>NetworkCatalog.Entries.cs</c> (the image
/// networks, and any other list appended there) and <c>NetworkCatalog.Text.cs</c> (the text networks).
/// </summary>
public static partial class NetworkCatalog
{
    // Joined on first use: the lists are static fields of several files, whose initialisation order is not the reader's.
    private static IReadOnlyList<NetworkInfo>? s_all;

    /// <summary>Every registered network, in listing order.</summary>
    public static IReadOnlyList<NetworkInfo> All => s_all ??= [.. Entries, .. TextEntries];

    /// <summary>The network called <paramref name="name"/> (case-insensitive), or null.</summary>
    public static NetworkInfo? Find(string name)
        => All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The network called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="UsageException">No network has that name.</exception>
    public static NetworkInfo Get(string name) => Find(name) ?? throw new UsageException(Unknown(name));

    /// <summary>The error for a name no network has, listing the known ones.</summary>
    public static string Unknown(string name)
    {
        string known = All.Count == 0 ? "the catalog is empty" : "known: " + string.Join(", ", All.Select(e => e.Name));
        return $"unknown network '{name}' ({known}; see 'list').";
    }
}
