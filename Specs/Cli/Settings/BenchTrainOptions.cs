using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Specs.Bench;

namespace Specs.Cli;

/// <summary>The options of <c>bench train</c>, shared with <c>bench mlp</c> (which names no network).</summary>
public class BenchTrainOptions : CommandSettings
{
    [CommandOption("--threads <LIST>")]
    [Description("thread counts to compare, comma-separated (default: 1 and the core count)")]
    public string? Threads { get; set; }

    [CommandOption("--batches|--epochs-equivalent-batches <N>")]
    [Description("timed batches per measurement")]
    [DefaultValue(300)]
    public int Batches { get; set; } = 300;

    [CommandOption("--warmup <N>")]
    [Description("untimed batches before (JIT, buffers, caches)")]
    [DefaultValue(30)]
    public int Warmup { get; set; } = 30;

    [CommandOption("--repeat <N>")]
    [Description("runs per figure; the table shows their median and range")]
    [DefaultValue(3)]
    public int Repeat { get; set; } = 3;

    [CommandOption("--batch-size <N>")]
    [Description("samples per batch")]
    [DefaultValue(64)]
    public int BatchSize { get; set; } = 64;

    [CommandOption("--lr <X>")]
    [Description("SGD learning rate")]
    [DefaultValue(0.01f)]
    public float LearningRate { get; set; } = 0.01f;

    [CommandOption("--momentum <X>")]
    [Description("SGD momentum")]
    [DefaultValue(0.5f)]
    public float Momentum { get; set; } = 0.5f;

    [CommandOption("--data <DIR>")]
    [Description("a folder with the Fashion-MNIST IDX files (default: Debian's dataset-fashion-mnist, else the bundled slice)")]
    public string? Data { get; set; }

    /// <summary>What <see cref="TrainBenchmark"/> measures.</summary>
    public TrainBenchmark.Settings ToBenchmark() => new(
        Threads is null ? DefaultThreads() : Check.ParsePositiveList(Threads)!, Batches, Warmup, BatchSize, LearningRate, Momentum, Repeat);

    public override ValidationResult Validate() => Check.First(
        Check.PositiveList("--threads", Threads),
        Check.Positive("--batches", Batches),
        Check.NonNegative("--warmup", Warmup),
        Check.Positive("--repeat", Repeat),
        Check.Positive("--batch-size", BatchSize),
        Check.NonNegative("--lr", LearningRate),
        Check.NonNegative("--momentum", Momentum));

    /// <summary>One thread and every core.</summary>
    public static int[] DefaultThreads() => new[] { 1, Environment.ProcessorCount }.Distinct().ToArray();
}
