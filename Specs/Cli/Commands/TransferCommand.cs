using System.Globalization;
using Spectre.Console.Cli;
using Specs.Transfer;

namespace Specs.Cli;

/// <summary>
/// <c>transfer</c>: pretrain <see cref="Networks.TransferCnn"/> on Fashion-MNIST classes 0-4, then learn classes 5-9 from
/// a few labelled images per class from scratch, with the frozen trunk and a new head, and fine-tuning everything;
/// prints the table of test accuracies and seconds per epoch (<see cref="TransferExperiment"/>).
/// </summary>
public sealed class TransferCommand(CliOutput output) : Command<TransferSettings>
{
    public override int Execute(CommandContext context, TransferSettings settings, CancellationToken cancellationToken)
    {
        var o = output.Out;
        var location = Dsl.Data.FashionMnist.Locate(settings.Data);
        o.WriteLine($"data: {location.Describe()}");
        if (!location.IsFull)
        {
            o.WriteLine("      this is a slice, not the full data set: accuracies are not comparable with published ones");
        }
        var data = Dsl.Data.FashionMnist.Load(location.Folder);
        var options = settings.Options;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"transfer on {settings.ResolvedDevice.Name}: seed {options.Seed}, {options.Epochs} epochs per subset, Adam {options.LearningRate}, batch {options.BatchSize}"));
        var result = TransferExperiment.Run(data, settings.ResolvedDevice, options, o);
        o.WriteLine();
        o.WriteLine(TransferExperiment.Table(result));
        return 0;
    }
}
