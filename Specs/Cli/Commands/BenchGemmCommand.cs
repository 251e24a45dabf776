using Spectre.Console.Cli;
using Specs.Bench;

namespace Specs.Cli;

/// <summary><c>bench gemm</c>: matrix multiply GFLOP/s beside OpenBLAS.</summary>
public sealed class BenchGemmCommand(CliOutput cli) : Command<BenchGemmSettings>
{
    public override int Execute(CommandContext context, BenchGemmSettings settings, CancellationToken cancellationToken)
    {
        GemmBenchmark.Run(cli.Out, settings.ThreadCounts, withOpenBlas: true);
        return 0;
    }
}
