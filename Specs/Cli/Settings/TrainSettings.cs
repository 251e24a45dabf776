using System.ComponentModel;
using Dsl;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// <c>train &lt;network&gt;</c>: every recipe field can be overridden; an option left out keeps the network's default
/// recipe (see <c>list</c>).
/// </summary>
public sealed class TrainSettings : NetworkSettings
{
    [CommandOption("--epochs <N>")]
    [Description("passes over the training set (default: the network's recipe)")]
    public int? Epochs { get; set; }

    [CommandOption("--batch-size <N>")]
    [Description("samples per step (default: the network's recipe)")]
    public int? BatchSize { get; set; }

    [CommandOption("--lr <X>")]
    [Description("learning rate (default: the network's recipe)")]
    public float? LearningRate { get; set; }

    [CommandOption("--optimizer <NAME>")]
    [Description("sgd or adam (default: the network's recipe)")]
    public string? Optimizer { get; set; }

    [CommandOption("--momentum <X>")]
    [Description("SGD's momentum, in [[0, 1]] (default: the network's recipe)")]
    public float? Momentum { get; set; }

    [CommandOption("--schedule <NAME>")]
    [Description("learning-rate schedule: none or cosine (annealed to 0; default: the network's recipe)")]
    public string? Schedule { get; set; }

    [CommandOption("--seed <N>")]
    [Description("seeds initialisation, shuffling and dropout")]
    [DefaultValue(0)]
    public int Seed { get; set; }

    [CommandOption("--data <DIR>")]
    [Description("a folder with the Fashion-MNIST IDX files (default: Debian's dataset-fashion-mnist, else the bundled slice)")]
    public string? Data { get; set; }

    [CommandOption("--device <DEVICE>")]
    [Description("cpu, cpu:THREADS, gpu or gpu:cpu (ILGPU's CPU accelerator, for tests; default: cpu)")]
    public string? Device { get; set; }

    [CommandOption("--limit-train <N>")]
    [Description("train on the first N images only")]
    public int? LimitTrain { get; set; }

    [CommandOption("--limit-test <N>")]
    [Description("evaluate on the first N images only")]
    public int? LimitTest { get; set; }

    [CommandOption("--out <DIR>")]
    [Description("where loss.png, metrics.csv, steps.csv and model.safetensors go (default: runs/<network>-<time>)")]
    public string? Out { get; set; }

    [CommandOption("--init <CHECKPOINT>")]
    [Description("a safetensors file (PyTorch's names and layouts) to start from")]
    public string? Init { get; set; }

    /// <summary>The device <see cref="Device"/> names, created by <see cref="Validate"/> (CPU when absent).</summary>
    public Device ResolvedDevice { get; private set; } = Dsl.Device.Default;

    public override ValidationResult Validate() => Check.First(
        base.Validate(),
        Check.Positive("--epochs", Epochs),
        Check.Positive("--batch-size", BatchSize),
        Check.NonNegative("--lr", LearningRate),
        Check.OneOf("--optimizer", Optimizer, "sgd", "adam"),
        Check.NonNegative("--momentum", Momentum) ?? Check.Fraction("--momentum", Momentum),
        Check.OneOf("--schedule", Schedule, "none", "cosine"),
        Check.Positive("--limit-train", LimitTrain),
        Check.Positive("--limit-test", LimitTest),
        Init is not null && !File.Exists(Init) ? $"--init: {Path.GetFullPath(Init)} not found." : null,
        ResolveDevice());

    /// <summary>The recipe with this command line's overrides applied.</summary>
    public Recipe ApplyTo(Recipe recipe) => recipe with
    {
        Optimizer = Optimizer?.ToLowerInvariant() switch
        {
            null => recipe.Optimizer,
            "sgd" => OptimizerKind.Sgd,
            "adam" => OptimizerKind.Adam,
            string other => throw new InvalidOperationException($"--optimizer {other} passed validation"),
        },
        LearningRate = LearningRate ?? recipe.LearningRate,
        Momentum = Momentum ?? recipe.Momentum,
        BatchSize = BatchSize ?? recipe.BatchSize,
        Epochs = Epochs ?? recipe.Epochs,
        Schedule = Schedule?.ToLowerInvariant() ?? recipe.Schedule,
    };

    /// <summary>Creates the named device here, so that a missing GPU is a usage error before any data is read.</summary>
    private string? ResolveDevice()
    {
        if (Device is null)
        {
            return null;
        }
        try
        {
            ResolvedDevice = Dsl.Device.Parse(Device);
            return null;
        }
        catch (ArgumentException e)
        {
            return $"--device: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}";
        }
        catch (NotSupportedException e)
        {
            return $"--device {Device}: {e.Message}";
        }
    }
}
