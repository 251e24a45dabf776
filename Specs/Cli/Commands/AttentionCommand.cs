using Dsl;
using Dsl.Data.Text;
using Spectre.Console.Cli;
using Specs.Text;

namespace Specs.Cli;

/// <summary><c>attention &lt;checkpoint&gt;</c>: loads a trained attention classifier and prints its weights over test quotes.</summary>
public sealed class AttentionCommand(CliOutput cli) : Command<AttentionSettings>
{
    public override int Execute(CommandContext context, AttentionSettings settings, CancellationToken cancellationToken)
    {
        var info = NetworkCatalog.Get(settings.Network);
        var task = (ITextClassificationTask)info.Task;
        var vocabulary = Vocabulary.Load(settings.VocabularyPath);
        var net = info.Create(Device.Default, settings.Seed);
        Checkpoint.Load(net, settings.Checkpoint);
        var data = TopicData.Load(settings.Data, vocabulary, task.MinTokens, task.MaxTokens);
        cli.Out.WriteLine($"data: {data.Location.Describe()}; the test split of the fixed split");
        task.ShowAttention(cli, net, data, settings.Count);
        return 0;
    }
}
