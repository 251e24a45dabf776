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
