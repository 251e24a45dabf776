using Dsl.Data;
using Spectre.Console.Cli;
using Specs.Bench;

namespace Specs.Cli;

/// <summary><c>bench train &lt;network&gt;</c>: training and evaluation throughput beside PyTorch.</summary>
public sealed class BenchTrainCommand(CliOutput cli) : Command<BenchTrainSettings>
{
    public override int Execute(CommandContext context, BenchTrainSettings settings, CancellationToken cancellationToken)
    {
        TrainBenchmark.Run(cli.Out, NetworkCatalog.Get(settings.Network), FashionMnist.Locate(settings.Data), settings.ToBenchmark());
        return 0;
    }
}
