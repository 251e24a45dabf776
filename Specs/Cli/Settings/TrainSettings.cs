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
    [Description("a folder with the Fashion-MNIST IDX files, or with fortunes files for the text networks (default: Debian's dataset-fashion-mnist or fortunes packages, else the bundled slice)")]
    public string? Data { get; set; }

    [CommandOption("--weight-decay <X>")]
    [Description("weight decay: decoupled for Adam (AdamW), an L2 term for SGD (default: the network's recipe)")]
    public float? WeightDecay { get; set; }

    [CommandOption("--clip <X>")]
    [Description("clip the gradients' global 2-norm to X after every backward pass (default: the network's recipe)")]
    public float? Clip { get; set; }

    [CommandOption("--windows <N>")]
    [Description("language models: train on N windows of the stream per epoch, drawn afresh each epoch (default: the network's budget; see 'list')")]
    public int? Windows { get; set; }

    [CommandOption("--show-attention")]
    [Description("bilstm-attention: after training, print the attention weights over the words of a few test quotes")]
    public bool ShowAttention { get; set; }

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

    /// <summary>
    /// The device <see cref="Device"/> names, or <see cref="Dsl.Device.Default"/> (DSL_DEVICE, else the CPU) when absent;
    /// created by <see cref="Validate"/>, so a missing GPU or a bad DSL_DEVICE is a usage error before any data is read.
    /// </summary>
    public Device ResolvedDevice { get; private set; } = null!;

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
        Check.Positive("--windows", Windows),
        Clip is { } clip && !(clip > 0f && float.IsFinite(clip)) ? $"--clip must be a positive number, got {clip.ToString(System.Globalization.CultureInfo.InvariantCulture)}." : null,
        WeightDecay is { } decay && !(decay >= 0f && float.IsFinite(decay)) ? $"--weight-decay must be a number >= 0, got {decay.ToString(System.Globalization.CultureInfo.InvariantCulture)}." : null,
        NetworkCatalog.Find(Network)?.Task.Refuse(this),
        Init is not null && !File.Exists(Init) ? $"--init: {Path.GetFullPath(Init)} not found." : null,
        OutProblem(Out),
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
        ClipGradNorm = Clip ?? recipe.ClipGradNorm,
        WeightDecay = WeightDecay ?? recipe.WeightDecay,
    };

    /// <summary>
    /// Why <paramref name="folder"/> cannot be the output folder (an existing file, or a path under a file), or null:
    /// found here so the trained weights are never lost to a bad <c>--out</c> after training.
    /// </summary>
    public static string? OutProblem(string? folder)
    {
        if (folder is null)
        {
            return null;
        }
        string full;
        try
        {
            full = Path.GetFullPath(folder);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return $"--out {folder}: not a valid path ({e.Message})";
        }
        if (File.Exists(full))
        {
            return $"--out {folder}: is an existing file; name a folder (the run writes several files into it).";
        }
        for (string? parent = Path.GetDirectoryName(full); parent is not null; parent = Path.GetDirectoryName(parent))
        {
            if (File.Exists(parent))
            {
                return $"--out {folder}: {parent} is a file, so no folder can be made under it.";
            }
        }
        return null;
    }

    /// <summary>Creates the named device here, so that a missing GPU is a usage error before any data is read.</summary>
    private string? ResolveDevice()
    {
        if (Device is null)
        {
            try
            {
                ResolvedDevice = Dsl.Device.Default;
                return null;
            }
            catch (DeviceSelectionException e)
            {
                return e.Message;
            }
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
