using Dsl;

namespace Specs.Cli;

/// <summary>What <c>attention-map</c> needs of a task whose network keeps attention weights as readouts.</summary>
public interface IAttentionMapTask
{
    /// <summary>The readout drawn when the command names none; null when the task's network keeps no attention weights.</summary>
    string? DefaultReadout { get; }

    /// <summary>
    /// Runs the input <paramref name="settings"/> asks for (a test example, or its <c>--text</c>) through the trained
    /// <paramref name="net"/> in evaluation mode and returns the readout <paramref name="readout"/>'s weights of that one
    /// input with a label per query and per key; writes a line saying what ran to <paramref name="cli"/>.
    /// </summary>
    AttentionExample Attend(CliOutput cli, Module net, AttentionMapSettings settings, string readout);
}

/// <summary>
/// One input's attention: <paramref name="Weights"/> [1,S], [1,T,S] or [1,heads,T,S] (a view the next Forward overwrites),
/// the labels of its T queries (one for [1,S]) and its S keys, and a title.
/// </summary>
public sealed record AttentionExample(Tensor Weights, IReadOnlyList<string> Queries, IReadOnlyList<string> Keys, string Title);
