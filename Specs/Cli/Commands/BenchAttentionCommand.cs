using Spectre.Console.Cli;
using Specs.Bench;

namespace Specs.Cli;

/// <summary><c>bench attention</c>: the fused attention kernels against the unfused reference, and one attention layer's pieces.</summary>
public sealed class BenchAttentionCommand(CliOutput cli) : Command<BenchGemmSettings>
{
    public override int Execute(CommandContext context, BenchGemmSettings settings, CancellationToken cancellationToken)
    {
        AttentionBenchmark.Run(cli.Out, settings.ThreadCounts);
        return 0;
    }
}
