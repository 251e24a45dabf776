using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary><c>bench train &lt;network&gt;</c>: the benchmark's options and the network to measure.</summary>
public sealed class BenchTrainSettings : BenchTrainOptions
{
    [CommandArgument(0, "<network>")]
    [Description("a network of the catalog (see 'list'), e.g. mnist-net")]
    public string Network { get; set; } = "";

    public override ValidationResult Validate()
        => Check.First(base.Validate(), NetworkCatalog.Find(Network) is null ? NetworkCatalog.Unknown(Network) : null,
            NetworkCatalog.Find(Network) is { Task: not (ImageClassificationTask or ITextClassificationTask) } other
                ? $"bench train measures image networks and text classifiers; {other.Name} trains on {other.Task.Data}." : null);
}
