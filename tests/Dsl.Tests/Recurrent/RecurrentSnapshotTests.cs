using Dsl.Tests.Generator;
using Xunit;

namespace Dsl.Tests.Recurrent;

/// <summary>The generated code of recurrent networks, kept as readable snapshots beside this file.</summary>
public sealed class RecurrentSnapshotTests
{
    /// <summary>Test networks: stacked bidirectional layers with dropout-free inner outputs, Last, attention pooling.</summary>
    [Theory]
    [InlineData("LstmLastNet")]
    [InlineData("LstmPoolNet")]
    public void Test_network_code_matches_the_snapshot(string network)
    {
        string source = File.ReadAllText(Path.Combine(GeneratorHarness.RepoRoot(), "tests", "Dsl.Tests", "Recurrent", network + ".cs"));
        var result = GeneratorHarness.Run("using Dsl;\n" + source);
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        Snapshot.Verify(result.Generated.First(g => g.Contains($"partial class {network} ", StringComparison.Ordinal)), network);
    }
}
