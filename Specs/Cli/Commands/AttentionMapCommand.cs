using System.Globalization;
using Dsl;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// <c>attention-map &lt;network&gt; --checkpoint FILE</c>: runs one input through a trained network and draws the attention
/// weights it kept (<see cref="Module.Readout"/>) as a heat map PNG, one panel per head (<see cref="AttentionHeatMap"/>).
/// </summary>
public sealed class AttentionMapCommand(CliOutput cli) : Command<AttentionMapSettings>
{
    public override int Execute(CommandContext context, AttentionMapSettings settings, CancellationToken cancellationToken)
    {
        var info = settings.Info;
        var task = (IAttentionMapTask)info.Task;
        var net = info.Create(Device.Default, settings.Seed);
        Checkpoint.Load(net, settings.Checkpoint!);
        string readout = settings.Readout ?? task.DefaultReadout!;
        if (!net.ReadoutNames.Contains(readout))
        {
            throw new UsageException($"--readout {readout}: {info.Name} keeps {string.Join(", ", net.ReadoutNames)}");
        }
        var example = task.Attend(cli, net, settings, readout);
        AttentionHeatMap.Save(example.Weights, 0, example.Queries, example.Keys, $"{info.Name} {readout}: {example.Title}", settings.Out);
        int heads = example.Weights.Rank == 4 ? example.Weights.Size(1) : 1;
        cli.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {settings.Out}: {readout} {Tensor.FormatShape(example.Weights.Shape)}, {heads} panel{(heads == 1 ? "" : "s")} of {example.Queries.Count} x {example.Keys.Count}"));
        return 0;
    }
}
