namespace Dsl.Data.Text;

/// <summary>A folder of fortunes files, where it came from, and the topics it holds.</summary>
/// <param name="Folder">The folder.</param>
/// <param name="Kind">The system package, the <c>--data</c> folder, or the slice bundled with the app.</param>
/// <param name="Topics">The topic files found there (file names without <c>.dat</c>/<c>.u8</c>), sorted.</param>
public sealed record FortunesLocation(string Folder, DataSourceKind Kind, IReadOnlyList<string> Topics)
{
    /// <summary>One line for logs, e.g. <c>the fortunes corpus (43 topics) from the system package (Debian's fortunes, fortunes-min) in ...</c>.</summary>
    public string Describe()
    {
        string what = Kind == DataSourceKind.Bundled ? "a slice of the fortunes corpus" : "the fortunes corpus";
        string where = Kind switch
        {
            DataSourceKind.Option => "the --data folder",
            DataSourceKind.System => "the system package (Debian's fortunes, fortunes-min)",
            DataSourceKind.Bundled => "the slice bundled with the app",
            _ => throw new InvalidOperationException($"Unknown data source kind {Kind}."),
        };
        return FormattableString.Invariant($"{what} ({Topics.Count} topics) from {where} in {Folder}");
    }
}
