using Dsl;

namespace Specs.Cli;

/// <summary>
/// A network the CLI can train: how to build it, its static summary, its input, its default recipe, and its
/// <see cref="Task"/>: what it learns from and how a batch reaches its <c>Forward</c>.
/// </summary>
/// <param name="Name">The command-line name, e.g. <c>mlp</c>.</param>
/// <param name="Description">One line for <c>list</c>.</param>
/// <param name="Create">Builds the network on a device with a seed.</param>
/// <param name="Summary">The generated layer table.</param>
/// <param name="InputShape">One sample's shape, e.g. <c>[1, 28, 28]</c>; -1 marks a symbolic length (<c>[T]</c> token ids).</param>
/// <param name="DefaultRecipe">How <c>train</c> trains it unless told otherwise.</param>
public sealed record NetworkInfo(string Name, string Description, Func<Device, int, Module> Create, Func<string> Summary, int[] InputShape, Recipe DefaultRecipe)
{
    /// <summary>
    /// The data and the batches: Fashion-MNIST images for the course's image networks (the value of every entry that
    /// names none), <see cref="TextClassificationTask{TNet}"/> or <see cref="LanguageModelTask{TNet}"/> for text.
    /// </summary>
    public NetworkTask Task { get; init; } = ImageClassificationTask.FashionMnist;

    /// <summary>The input for <c>list</c>: <c>[1,28,28]</c>, or <c>[T]</c> for token ids of any length.</summary>
    public string FormatInput() => "[" + string.Join(",", InputShape.Select(d => d < 0 ? "T" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
}
