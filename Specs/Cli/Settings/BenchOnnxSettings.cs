using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary><c>bench onnx [networks...]</c>: which Specs, thread counts, batch sizes and how many runs per figure.</summary>
public sealed class BenchOnnxSettings : CommandSettings
{
    [CommandArgument(0, "[networks]")]
    [Description("networks of the catalog (default: mnist-net and resnet20; 'all' for every one)")]
    public string[] Networks { get; set; } = [];

    [CommandOption("--threads <LIST>")]
    [Description("thread counts, comma-separated, each given to both our CPU device and ONNX Runtime's intra-op pool (default: the core count)")]
    public string? Threads { get; set; }

    [CommandOption("--batch-sizes <LIST>")]
    [Description("batch sizes, comma-separated")]
    [DefaultValue("1,64")]
    public string BatchSizes { get; set; } = "1,64";

    [CommandOption("--repeat <N>")]
    [Description("timed runs per figure (each at least --min-ms long), ours and ONNX Runtime's alternating; the table shows medians")]
    [DefaultValue(5)]
    public int Repeat { get; set; } = 5;

    [CommandOption("--min-ms <MS>")]
    [Description("the least milliseconds one timed run lasts (the batch is repeated until it does)")]
    [DefaultValue(200)]
    public int MinMilliseconds { get; set; } = 200;

    [CommandOption("--ort-optimization <LEVEL>")]
    [Description("ONNX Runtime's graph optimisation: all (the default: constant folding, conv + batch norm and activation fusion, blocked layouts), basic or none")]
    [DefaultValue("all")]
    public string OrtOptimization { get; set; } = "all";

    [CommandOption("--data <DIR>")]
    [Description("a folder with the Fashion-MNIST IDX files (default: Debian's dataset-fashion-mnist, else the bundled slice)")]
    public string? Data { get; set; }

    /// <summary>The catalog entries to measure.</summary>
    public IReadOnlyList<NetworkInfo> Selected
        => Networks.Length == 0 ? [NetworkCatalog.Get("mnist-net"), NetworkCatalog.Get("resnet20")]
            : Networks.Any(n => n.Equals("all", StringComparison.OrdinalIgnoreCase)) ? NetworkCatalog.All
            : Networks.Select(NetworkCatalog.Get).ToList();

    public int[] ThreadCounts => Threads is null ? [Environment.ProcessorCount] : Check.ParsePositiveList(Threads)!;

    public int[] Sizes => Check.ParsePositiveList(BatchSizes)!;

    public override ValidationResult Validate() => Check.First(
        Networks.Where(n => !n.Equals("all", StringComparison.OrdinalIgnoreCase) && NetworkCatalog.Find(n) is null).Select(NetworkCatalog.Unknown).FirstOrDefault(),
        Check.PositiveList("--threads", Threads),
        Check.PositiveList("--batch-sizes", BatchSizes),
        Check.Positive("--repeat", Repeat),
        Check.OneOf("--ort-optimization", OrtOptimization, "all", "basic", "none"),
        Check.Positive("--min-ms", MinMilliseconds));
}
