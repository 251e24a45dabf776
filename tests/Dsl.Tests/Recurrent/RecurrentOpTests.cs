using Dsl.Generator.Ops;
using Xunit;

namespace Dsl.Tests.Recurrent;

/// <summary>What the recurrent op computes at generation time that the runtime also knows.</summary>
public sealed class RecurrentOpTests
{
    /// <summary>
    /// The summary's memory line counts the workspace from the generator's mirror of <c>RecurrentWorkspace.Layout</c>; the
    /// generated code sizes it with <c>RecurrentWorkspace.Size</c>. They must agree, per sample, at every length.
    /// </summary>
    [Theory]
    [InlineData(RecurrentKind.RnnTanh, "RnnTanh")]
    [InlineData(RecurrentKind.RnnRelu, "RnnRelu")]
    [InlineData(RecurrentKind.Lstm, "Lstm")]
    [InlineData(RecurrentKind.Gru, "Gru")]
    public void The_generator_counts_the_workspace_the_runtime_sizes(RecurrentKind kind, string name)
    {
        foreach (int time in new[] { 1, 7, 40 })
        {
            foreach (int hidden in new[] { 1, 5, 64 })
            {
                Assert.Equal(RecurrentWorkspace.Size(kind, 1, time, hidden), RecurrentOp.WorkspaceElements(name, hidden, time));
                // And the workspace of a batch is that of one sample times N, which the generated code relies on.
                Assert.Equal(3 * RecurrentWorkspace.Size(kind, 1, time, hidden), RecurrentWorkspace.Size(kind, 3, time, hidden));
            }
        }
    }
}
