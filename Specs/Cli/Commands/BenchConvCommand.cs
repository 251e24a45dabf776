using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Specs.Bench;

namespace Specs.Cli;

/// <summary><c>bench conv</c>: every CPU convolution algorithm on ResNet-20's and DenseNet-BC's layer shapes, and the device's pick.</summary>
public sealed class BenchConvCommand(CliOutput cli) : Command<BenchConvSettings>
{
    public override int Execute(CommandContext context, BenchConvSettings settings, CancellationToken cancellationToken)
    {
        ConvBenchmark.Run(cli.Out, settings.ThreadCounts, settings.BatchSizes, settings.Layers);
        return 0;
    }
}

/// <summary><c>bench conv</c>: thread counts and batch sizes.</summary>
public sealed class BenchConvSettings : CommandSettings
{
    [CommandOption("--threads <LIST>")]
    [Description("thread counts to compare, comma-separated (default: 1 and the core count)")]
    public string? Threads { get; set; }

    [CommandOption("--batch-sizes <LIST>")]
    [Description("batch sizes, comma-separated")]
    [DefaultValue("64,128")]
    public string BatchSizesText { get; set; } = "64,128";

    [CommandOption("--layers <TEXT>")]
    [Description("only the layers whose name contains this text, e.g. 'densenet' or '1x1'")]
    public string? Layers { get; set; }

    /// <summary>The thread counts, once <see cref="Validate"/> succeeded.</summary>
    public int[] ThreadCounts => Threads is null ? BenchTrainOptions.DefaultThreads() : Check.ParsePositiveList(Threads)!;

    /// <summary>The batch sizes, once <see cref="Validate"/> succeeded.</summary>
    public int[] BatchSizes => Check.ParsePositiveList(BatchSizesText)!;

    public override ValidationResult Validate() => Check.First(Check.PositiveList("--threads", Threads), Check.PositiveList("--batch-sizes", BatchSizesText));
}
