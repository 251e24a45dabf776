using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary><c>summary &lt;network&gt;</c>: the network's generated layer table.</summary>
public sealed class SummaryCommand(CliOutput output) : Command<NetworkSettings>
{
    public override int Execute(CommandContext context, NetworkSettings settings, CancellationToken cancellationToken)
    {
        output.Out.WriteLine(settings.Info.Summary());
        return 0;
    }
}
