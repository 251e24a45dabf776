namespace Specs.Cli;

public static partial class NetworkCatalog
{
    // The registered networks: one NetworkInfo per generated network class, e.g.
    //   new("mlp", "784-256-128-100-10 perceptron", (d, s) => new Mlp(d, s), () => Mlp.Summary, [1, 28, 28], Recipe.CourseSgd),
    private static readonly IReadOnlyList<NetworkInfo> Entries =
    [
    ];
}
