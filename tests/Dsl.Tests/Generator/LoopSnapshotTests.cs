using Xunit;

namespace Dsl.Tests.Generator;

/// <summary>The generated code of a VGG built by a loop from a configuration list and a shared block (issue 9).</summary>
public class LoopSnapshotTests
{
    [Fact]
    public void The_loop_built_vgg_code_matches_the_snapshot()
    {
        string source = File.ReadAllText(Path.Combine(GeneratorHarness.RepoRoot(), "tests", "Dsl.Tests", "SharedBlocks", "SharedBlockNets.cs"));
        var result = GeneratorHarness.Run("using Dsl;\n" + source);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        Snapshot.Verify(result.Generated.First(g => g.Contains("partial class SmallVgg ", StringComparison.Ordinal)), "SmallVgg");
    }
}
