using Dsl.Data;
using Spectre.Console.Cli;
using Specs.Bench;

namespace Specs.Cli;

/// <summary>
/// <c>bench train &lt;network&gt;</c>: training and evaluation throughput beside PyTorch, on Fashion-MNIST for the image
/// networks and on the fortunes topics for the text classifiers (language models are refused in validation).
/// </summary>
public sealed class BenchTrainCommand(CliOutput cli) : Command<BenchTrainSettings>
{
    public override int Execute(CommandContext context, BenchTrainSettings settings, CancellationToken cancellationToken)
    {
        var info = NetworkCatalog.Get(settings.Network);
        if (info.Task is ImageClassificationTask)
        {
            TrainBenchmark.Run(cli.Out, info, FashionMnist.Locate(settings.Data), settings.ToBenchmark());
        }
        else
        {
            TextTrainBenchmark.Run(cli.Out, info, settings.Data, settings.ToBenchmark());
        }
        return 0;
    }
}
