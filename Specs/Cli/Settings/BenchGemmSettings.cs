using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary><c>bench gemm</c>: the thread counts to measure.</summary>
public sealed class BenchGemmSettings : CommandSettings
{
    [CommandOption("--threads <LIST>")]
    [Description("thread counts to compare, comma-separated (default: 1 and the core count)")]
    public string? Threads { get; set; }

    /// <summary>The thread counts, once <see cref="Validate"/> succeeded.</summary>
    public int[] ThreadCounts => Threads is null ? BenchTrainOptions.DefaultThreads() : Check.ParsePositiveList(Threads)!;

    public override ValidationResult Validate() => Check.First(Check.PositiveList("--threads", Threads));
}
