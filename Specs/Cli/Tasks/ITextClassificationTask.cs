using Dsl;
using Dsl.Data.Text;
using Specs.Text;

namespace Specs.Cli;

/// <summary>
/// A text classification task seen without its network type: what <c>attention</c> and <c>bench train</c> need of it.
/// </summary>
public interface ITextClassificationTask
{
    /// <summary>The typed Forward of <paramref name="net"/> (the task's network type) as the trainer takes it.</summary>
    Dsl.Training.BatchForward<PaddedBatch> Bind(Module net);

    /// <summary>True when the network exposes its attention weights.</summary>
    bool HasAttention { get; }

    /// <summary>Shortest and longest token counts the task's networks take (the encoding of the quotes).</summary>
    int MinTokens { get; }

    int MaxTokens { get; }

    /// <summary>Prints where <paramref name="net"/> looks in <paramref name="count"/> test quotes of <paramref name="data"/>.</summary>
    void ShowAttention(CliOutput cli, Module net, TopicData data, int count);
}
