using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary><c>bench data &lt;network&gt;</c>: the data pipeline's throughput against the network's training step.</summary>
public sealed class BenchDataSettings : NetworkSettings
{
    [CommandOption("--batches <N>")]
    [Description("timed batches per measurement")]
    [DefaultValue(300)]
    public int Batches { get; set; } = 300;

    [CommandOption("--batch-size <N>")]
    [Description("samples per batch")]
    [DefaultValue(64)]
    public int BatchSize { get; set; } = 64;

    [CommandOption("--workers <LIST>")]
    [Description("loader worker counts to compare, comma-separated (0: on the training thread)")]
    [DefaultValue("0,1,2")]
    public string Workers { get; set; } = "0,1,2";

    [CommandOption("--repeat <N>")]
    [Description("runs per figure; the table shows their median")]
    [DefaultValue(3)]
    public int Repeat { get; set; } = 3;

    [CommandOption("--data <DIR>")]
    [Description("a folder with the Fashion-MNIST IDX files (default: Debian's dataset-fashion-mnist, else the bundled slice)")]
    public string? Data { get; set; }

    /// <summary>The worker counts, valid once <see cref="Validate"/> succeeded.</summary>
    public int[] WorkerCounts => Workers.Split(',').Select(w => int.Parse(w.Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    public override ValidationResult Validate() => Check.First(
        base.Validate(),
        NetworkCatalog.Find(Network) is { Task: not ImageClassificationTask } text ? NetworkTask.NotImages(text, "bench data") : null,
        Check.Positive("--batches", Batches),
        Check.Positive("--batch-size", BatchSize),
        Check.Positive("--repeat", Repeat),
        Workers.Split(',').All(w => int.TryParse(w.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n <= 64)
            ? null : $"--workers must be a comma-separated list of counts from 0 to 64, got '{Workers}'.");
}
