using Dsl;
using Dsl.Data.Text;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary><c>sample &lt;checkpoint&gt;</c>: loads a trained character language model and prints sampled text.</summary>
public sealed class SampleCommand(CliOutput cli) : Command<SampleSettings>
{
    public override int Execute(CommandContext context, SampleSettings settings, CancellationToken cancellationToken)
    {
        var info = NetworkCatalog.Get(settings.Network);
        var task = (ISamplingTask)info.Task;
        var vocabulary = Vocabulary.Load(settings.VocabularyPath);
        var net = info.Create(Device.Default, settings.Seed);
        Checkpoint.Load(net, settings.Checkpoint);
        string prime = settings.Prime ?? FortunesCorpus.StreamSeparator[1..];
        string text = task.Sampler(net, vocabulary).Sample(prime, settings.Length, settings.Temperature, settings.Seed);
        cli.Out.Write(settings.Prime ?? "");
        cli.Out.WriteLine(text);
        return 0;
    }
}
