using Dsl;
using Dsl.Data.Text;
using Specs.Text;

namespace Specs.Cli;

/// <summary>A task whose trained network generates text: what <c>sample</c> needs of it.</summary>
public interface ISamplingTask
{
    /// <summary>A sampler of <paramref name="net"/> (the task's network type) over <paramref name="vocabulary"/>.</summary>
    CharSampler Sampler(Module net, Vocabulary vocabulary);
}

/// <summary>A classification task whose network may pool with attention: what <c>attention</c> needs of it.</summary>
public interface IAttentionTask
{
    /// <summary>True when the network exposes its attention weights.</summary>
    bool HasAttention { get; }

    /// <summary>Shortest and longest token counts the task's networks take (the encoding of the quotes).</summary>
    int MinTokens { get; }

    int MaxTokens { get; }

    /// <summary>Prints where <paramref name="net"/> looks in <paramref name="count"/> test quotes of <paramref name="data"/>.</summary>
    void ShowAttention(CliOutput cli, Module net, TopicData data, int count);
}
