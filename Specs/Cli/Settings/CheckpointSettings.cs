using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// Settings of a command that reads a trained text network: <c>&lt;checkpoint&gt;</c> (the <c>model.safetensors</c> a
/// <c>train</c> run wrote, with its <c>vocab.json</c> beside it) and the network it holds.
/// </summary>
public abstract class CheckpointSettings : CommandSettings
{
    [CommandArgument(0, "<checkpoint>")]
    [Description("the model.safetensors a 'train' run wrote (its vocab.json must be beside it)")]
    public string Checkpoint { get; set; } = "";

    [CommandOption("--seed <N>")]
    [Description("seeds sampling (and the network's construction before the weights are loaded)")]
    [DefaultValue(0)]
    public int Seed { get; set; }

    /// <summary>The catalog name of the network in the checkpoint.</summary>
    public abstract string NetworkName { get; }

    /// <summary>The vocabulary file beside the checkpoint.</summary>
    public string VocabularyPath => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(Checkpoint)) ?? ".", TextClassificationTask<Dsl.Module>.VocabularyFile);

    public override ValidationResult Validate() => Check.First(
        !File.Exists(Checkpoint) ? $"{Checkpoint}: checkpoint not found (train writes runs/<network>-<time>/model.safetensors)." : null,
        File.Exists(Checkpoint) && !File.Exists(VocabularyPath) ? $"{VocabularyPath}: not found; the checkpoint needs the vocabulary its run wrote beside it." : null,
        NetworkCatalog.Find(NetworkName) is null ? NetworkCatalog.Unknown(NetworkName) : null);
}

/// <summary><c>sample &lt;checkpoint&gt;</c>: temperature sampling from a trained character language model.</summary>
public sealed class SampleSettings : CheckpointSettings
{
    [CommandOption("--network <NAME>")]
    [Description("the language model the checkpoint holds")]
    [DefaultValue("char-lstm")]
    public string Network { get; set; } = "char-lstm";

    [CommandOption("--temperature <X>")]
    [Description("divides the scores before the softmax: below 1 is more conservative, 1 samples the model as it is")]
    [DefaultValue(0.8f)]
    public float Temperature { get; set; } = 0.8f;

    [CommandOption("--length <N>")]
    [Description("characters to generate")]
    [DefaultValue(300)]
    public int Length { get; set; } = 300;

    [CommandOption("--prime <TEXT>")]
    [Description("text to start from (default: the start of a quote)")]
    public string? Prime { get; set; }

    public override string NetworkName => Network;

    public override ValidationResult Validate() => Check.First(
        base.Validate(),
        !(Temperature > 0f && float.IsFinite(Temperature)) ? $"--temperature must be a positive number, got {Temperature.ToString(System.Globalization.CultureInfo.InvariantCulture)}." : null,
        Check.Positive("--length", Length),
        Prime is { Length: 0 } ? "--prime must hold at least one character." : null,
        NetworkCatalog.Find(Network) is { Task: not ISamplingTask } info ? $"--network {info.Name} is not a language model (it trains on {info.Task.Data}); sample needs one such as char-lstm." : null);
}

/// <summary><c>attention &lt;checkpoint&gt;</c>: the attention weights of a trained classifier over a few test quotes.</summary>
public sealed class AttentionSettings : CheckpointSettings
{
    [CommandOption("--network <NAME>")]
    [Description("the classifier the checkpoint holds")]
    [DefaultValue("bilstm-attention")]
    public string Network { get; set; } = "bilstm-attention";

    [CommandOption("--count <N>")]
    [Description("test quotes to show (one per topic)")]
    [DefaultValue(4)]
    public int Count { get; set; } = 4;

    [CommandOption("--data <DIR>")]
    [Description("a folder of fortunes files (default: Debian's fortunes packages, else the bundled slice)")]
    public string? Data { get; set; }

    public override string NetworkName => Network;

    public override ValidationResult Validate() => Check.First(
        base.Validate(),
        Check.Positive("--count", Count),
        NetworkCatalog.Find(Network) is { } info && info.Task is not ITextClassificationTask { HasAttention: true }
            ? $"--network {info.Name} has no attention pooling to show; attention needs one such as bilstm-attention." : null);
}
