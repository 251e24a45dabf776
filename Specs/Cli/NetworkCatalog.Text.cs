namespace Specs.Cli;

public static partial class NetworkCatalog
{
    // The text networks of Specs/Networks, each with the task that feeds it (see NetworkTask): fortunes topics for the
    // classifiers, the fortunes character stream for the language model.
    private static readonly IReadOnlyList<NetworkInfo> TextEntries = [];
}
