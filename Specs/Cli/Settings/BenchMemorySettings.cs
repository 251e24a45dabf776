using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary><c>bench memory &lt;network&gt;</c>: the network and the batch size to measure at.</summary>
public sealed class BenchMemorySettings : NetworkSettings
{
    [CommandOption("--batch <N>")]
    [Description("samples per batch (default 128)")]
    public int Batch { get; set; } = 128;

    public override ValidationResult Validate() => Check.First(base.Validate(),
        NetworkCatalog.Find(Network) is { Task: not ImageClassificationTask } text ? NetworkTask.NotImages(text, "bench memory") : null,
        Check.Positive("--batch", Batch));
}
