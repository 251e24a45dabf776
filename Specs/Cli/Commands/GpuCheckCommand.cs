using Specs.Gpu;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// <c>gpu-check</c>: every GPU kernel against the CPU backend on fresh random inputs, then training steps and a GEMM
/// timed beside PyTorch eager on the same card, in one table (what <c>Specs/Gpu/check.sh run</c> calls).
/// Exit code 0 when every kernel agrees.
/// </summary>
public sealed class GpuCheckCommand(CliOutput output) : Command<GpuCheckSettings>
{
    public override int Execute(CommandContext context, GpuCheckSettings settings, CancellationToken cancellationToken)
        => GpuCheck.Run(settings.ResolvedDevice!, settings.Options, output.Out);
}
