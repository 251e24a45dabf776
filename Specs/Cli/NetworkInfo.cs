using Dsl;

namespace Specs.Cli;

/// <summary>A network the CLI can train: how to build it, its static summary, its input and its default recipe.</summary>
/// <param name="Name">The command-line name, e.g. <c>mlp</c>.</param>
/// <param name="Description">One line for <c>list</c>.</param>
/// <param name="Create">Builds the network on a device with a seed.</param>
/// <param name="Summary">The generated layer table.</param>
/// <param name="InputShape">One sample's shape, e.g. <c>[1, 28, 28]</c>.</param>
/// <param name="DefaultRecipe">How <c>train</c> trains it unless told otherwise.</param>
public sealed record NetworkInfo(string Name, string Description, Func<Device, int, Module> Create, Func<string> Summary, int[] InputShape, Recipe DefaultRecipe);
