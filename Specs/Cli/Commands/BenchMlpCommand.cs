using Dsl.Data;
using Spectre.Console.Cli;
using Specs.Bench;

namespace Specs.Cli;

/// <summary><c>bench mlp</c>: <c>bench train mlp</c>, kept for the scripts that call it.</summary>
public sealed class BenchMlpCommand(CliOutput cli) : Command<BenchTrainOptions>
{
    public override int Execute(CommandContext context, BenchTrainOptions settings, CancellationToken cancellationToken)
    {
        TrainBenchmark.Run(cli.Out, NetworkCatalog.Get("mlp"), FashionMnist.Locate(settings.Data), settings.ToBenchmark());
        return 0;
    }
}
