using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// <c>visualize &lt;network&gt; --checkpoint FILE</c>: the trained weights, the layer, test image, channel and k of the
/// pictures, the occlusion patch, and the folder to write into.
/// </summary>
public sealed class VisualizeSettings : NetworkSettings
{
    [CommandOption("--checkpoint <FILE>")]
    [Description("the trained weights (a safetensors file 'train' wrote, PyTorch's names)")]
    public string? Checkpoint { get; set; }

    [CommandOption("--layer <NAME>")]
    [Description("the layer whose feature maps and top images to draw, as 'summary' names it (conv1, or a number such as 3); default: the first convolution")]
    public string? Layer { get; set; }

    [CommandOption("--image <N>")]
    [Description("the test image of the feature maps, occlusion and saliency pictures")]
    [DefaultValue(0)]
    public int Image { get; set; }

    [CommandOption("--channel <C>")]
    [Description("the channel of --layer whose top-activating test images to find (its mean activation)")]
    [DefaultValue(0)]
    public int Channel { get; set; }

    [CommandOption("--unit <U>")]
    [Description("rank images by one unit of --layer (an index into its flattened per-sample value) instead of --channel")]
    public int? Unit { get; set; }

    [CommandOption("--top <K>")]
    [Description("how many top-activating test images to show")]
    [DefaultValue(16)]
    public int Top { get; set; }

    [CommandOption("--patch <P>")]
    [Description("the occlusion patch's side in pixels")]
    [DefaultValue(6)]
    public int Patch { get; set; }

    [CommandOption("--stride <S>")]
    [Description("the occlusion patch's step in pixels")]
    [DefaultValue(2)]
    public int Stride { get; set; }

    [CommandOption("--limit-test <N>")]
    [Description("search only the first N test images for the top activations (default: all)")]
    public int? LimitTest { get; set; }

    [CommandOption("--data <DIR>")]
    [Description("a folder with the Fashion-MNIST IDX files (default: the system's, else the bundled slice)")]
    public string? Data { get; set; }

    [CommandOption("--tsne")]
    [Description("also write the 2-D t-SNE embedding of the penultimate layer's features, coloured by class")]
    public bool Tsne { get; set; }

    [CommandOption("--tsne-samples <N>")]
    [Description("how many of the searched test images t-SNE embeds (its cost grows with the square)")]
    [DefaultValue(2000)]
    public int TsneSamples { get; set; }

    [CommandOption("--out <DIR>")]
    [Description("the folder to write the PNGs into")]
    [DefaultValue("runs/visualize")]
    public string Out { get; set; } = "runs/visualize";

    public override ValidationResult Validate() => Check.First(base.Validate(),
        string.IsNullOrEmpty(Checkpoint) ? "--checkpoint is required: the trained weights to look inside." : null,
        Checkpoint is not null && !File.Exists(Checkpoint) ? $"--checkpoint: {Path.GetFullPath(Checkpoint)} not found." : null,
        Check.NonNegative("--image", Image),
        Check.NonNegative("--channel", Channel),
        Check.NonNegative("--unit", Unit),
        Check.Positive("--top", Top),
        Check.Positive("--patch", Patch),
        Check.Positive("--stride", Stride),
        Check.Positive("--limit-test", LimitTest),
        TsneSamples < 2 ? $"--tsne-samples: {TsneSamples}; t-SNE needs at least 2 images." : null,
        string.IsNullOrEmpty(Out) ? "--out must name the folder to write into." : null,
        NetworkCatalog.Find(Network) is { } info && info.Task is not ImageClassificationTask
            ? $"{info.Name} does not classify images; visualize takes {string.Join(", ", NetworkCatalog.All.Where(e => e.Task is ImageClassificationTask).Select(e => e.Name))}." : null);
}
