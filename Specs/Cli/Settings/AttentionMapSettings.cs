using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// <c>attention-map &lt;network&gt; --checkpoint FILE</c>: the trained weights, the input to run (a test example by index, or
/// a text of one's own), the attention readout to draw and the PNG to write.
/// </summary>
public sealed class AttentionMapSettings : NetworkSettings
{
    [CommandOption("--checkpoint <FILE>")]
    [Description("the trained weights a 'train' run wrote (a text network's vocab.json must be beside them)")]
    public string? Checkpoint { get; set; }

    [CommandOption("--index <N>")]
    [Description("which test example to run: a test quote of the fixed split, a generated test pair")]
    [DefaultValue(0)]
    public int Index { get; set; }

    [CommandOption("--text <TEXT>")]
    [Description("run this text instead of a test example (a seq2seq source, a quote, a language model's context)")]
    public string? Text { get; set; }

    [CommandOption("--readout <NAME>")]
    [Description("the attention weights to draw (default: the network's main attention; an unknown name lists them)")]
    public string? Readout { get; set; }

    [CommandOption("--out <PNG>")]
    [Description("the heat map to write: one panel per head")]
    [DefaultValue("attention.png")]
    public string Out { get; set; } = "attention.png";

    [CommandOption("--data <DIR|TASK>")]
    [Description("a folder of fortunes files for text networks; the generated task (reverse, sort, dates) for seq2seq")]
    public string? Data { get; set; }

    [CommandOption("--seed <N>")]
    [Description("the seed the run was trained with (it decides a seq2seq run's generated test pairs)")]
    [DefaultValue(0)]
    public int Seed { get; set; }

    /// <summary>The vocabulary file beside the checkpoint.</summary>
    public string VocabularyPath => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(Checkpoint ?? ".")) ?? ".", TextClassificationTask<Dsl.Module>.VocabularyFile);

    public override ValidationResult Validate() => Check.First(base.Validate(),
        string.IsNullOrEmpty(Checkpoint) ? "--checkpoint is required: the trained weights whose attention to draw." : null,
        Checkpoint is not null && !File.Exists(Checkpoint) ? $"--checkpoint: {Path.GetFullPath(Checkpoint)} not found." : null,
        Check.NonNegative("--index", Index),
        Text is { Length: 0 } ? "--text must hold at least one character." : null,
        string.IsNullOrEmpty(Out) ? "--out must name the PNG to write." : null,
        NetworkCatalog.Find(Network) is { } info && info.Task is not IAttentionMapTask { DefaultReadout: not null }
            ? $"{info.Name} keeps no attention weights to draw; attention-map takes {string.Join(", ", NetworkCatalog.All.Where(e => e.Task is IAttentionMapTask { DefaultReadout: not null }).Select(e => e.Name))}." : null);
}
