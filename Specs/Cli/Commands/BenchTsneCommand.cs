using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using Specs.Bench;

namespace Specs.Cli;

/// <summary>
/// <c>bench tsne mnist-net</c>: our t-SNE beside scikit-learn's on the penultimate features of a trained network
/// (<see cref="TsneBenchmark"/>); writes <c>tsne.png</c> and <c>tsne-sklearn.png</c>.
/// </summary>
public sealed class BenchTsneCommand(CliOutput cli) : Command<BenchTsneSettings>
{
    public override int Execute(CommandContext context, BenchTsneSettings settings, CancellationToken cancellationToken)
    {
        TsneBenchmark.Run(cli.Out, settings.ToBenchmark());
        return 0;
    }
}

/// <summary><c>bench tsne &lt;network&gt;</c>: the network, its checkpoint and the t-SNE settings.</summary>
public sealed class BenchTsneSettings : CommandSettings
{
    /// <summary>The networks whose penultimate features the benchmark can read (through a twin without the last layer).</summary>
    public static IReadOnlyList<string> Networks { get; } = ["mnist-net"];

    [CommandArgument(0, "<network>")]
    [Description("the network whose penultimate features are embedded: mnist-net")]
    public string Network { get; set; } = "";

    [CommandOption("--checkpoint <FILE>")]
    [Description("the model.safetensors a 'train' run wrote (default: train the network briefly first)")]
    public string? Checkpoint { get; set; }

    [CommandOption("--samples <N>")]
    [Description("test images to embed (the first N)")]
    [DefaultValue(2000)]
    public int Samples { get; set; } = 2000;

    [CommandOption("--threads <LIST>")]
    [Description("thread counts to compare, comma-separated (default: 1 and the core count)")]
    public string? Threads { get; set; }

    [CommandOption("--epochs <N>")]
    [Description("training epochs when no --checkpoint is given")]
    [DefaultValue(1)]
    public int Epochs { get; set; } = 1;

    [CommandOption("--limit-train <N>")]
    [Description("train on the first N training images only, when no --checkpoint is given (default: all)")]
    public int? LimitTrain { get; set; }

    [CommandOption("--perplexity <X>")]
    [Description("t-SNE's perplexity (both implementations)")]
    [DefaultValue(30.0)]
    public double Perplexity { get; set; } = 30;

    [CommandOption("--iterations <N>")]
    [Description("t-SNE's iterations, the 250 exaggerated ones included (both implementations)")]
    [DefaultValue(1000)]
    public int Iterations { get; set; } = 1000;

    [CommandOption("--seed <N>")]
    [Description("seeds the training when there is no checkpoint, and both t-SNEs")]
    [DefaultValue(0)]
    public int Seed { get; set; }

    [CommandOption("--data <DIR>")]
    [Description("a folder with the four Fashion-MNIST files (default: the system data set, else the bundled slice)")]
    public string? Data { get; set; }

    [CommandOption("--out <DIR>")]
    [Description("the folder for tsne.png and tsne-sklearn.png")]
    [DefaultValue(".")]
    public string Out { get; set; } = ".";

    [CommandOption("--python <PATH>")]
    [Description("the Python that has scikit-learn (Debian's python3-sklearn), or 'none' to measure ours alone")]
    [DefaultValue(TrainBenchmark.Python)]
    public string Python { get; set; } = TrainBenchmark.Python;

    /// <summary>The benchmark's settings, once <see cref="Validate"/> succeeded.</summary>
    public TsneBenchmark.Settings ToBenchmark() => new(Checkpoint, Data, Samples,
        Threads is null ? BenchTrainOptions.DefaultThreads() : Check.ParsePositiveList(Threads)!, Epochs, LimitTrain, Seed, Perplexity, Iterations, Out, Python);

    public override ValidationResult Validate() => Check.First(
        !Networks.Contains(Network)
            ? $"bench tsne reads the penultimate features of {string.Join(", ", Networks)} only, got '{Network}'." : null,
        Checkpoint is not null && !File.Exists(Checkpoint) ? $"{Checkpoint}: checkpoint not found." : null,
        Samples < 2 ? $"--samples must be 2 or more, got {Samples.ToString(CultureInfo.InvariantCulture)}." : null,
        Check.PositiveList("--threads", Threads),
        Check.Positive("--epochs", Epochs),
        Check.Positive("--limit-train", LimitTrain),
        !(Perplexity > 0) || !double.IsFinite(Perplexity) || Perplexity >= Samples
            ? $"--perplexity must be positive and less than --samples ({Samples.ToString(CultureInfo.InvariantCulture)}), got {Perplexity.ToString(CultureInfo.InvariantCulture)}." : null,
        Iterations < 250 ? $"--iterations must be 250 or more (the exaggerated stage alone is 250), got {Iterations.ToString(CultureInfo.InvariantCulture)}." : null);
}
