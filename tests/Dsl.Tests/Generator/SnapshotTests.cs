using Xunit;

namespace Dsl.Tests.Generator;

/// <summary>The generated code of real networks, kept as readable snapshots beside this file.</summary>
public class SnapshotTests
{
    [Theory]
    [InlineData("Mlp")]
    [InlineData("ResidualMlp")]
    [InlineData("SmallNet")]
    [InlineData("MnistNet")]
    [InlineData("GoogLeNetSmall")]
    [InlineData("ResNet20")]
    public void Generated_code_matches_the_snapshot(string network)
    {
        var result = GeneratorHarness.Run(GeneratorHarness.SpecSource(network + ".cs"));
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        Snapshot.Verify(Assert.Single(result.Generated), network);
    }

    /// <summary>The test networks with several inputs, an operation with several values and symbolic dimensions, to read what they become.</summary>
    [Theory]
    [InlineData("TwoInputNet")]
    [InlineData("ChunkNet")]
    [InlineData("SequenceNet")]
    [InlineData("TwoOutputNet")]
    [InlineData("NormNet")]
    [InlineData("ValueFunctionNet")]
    public void Test_network_code_matches_the_snapshot(string network)
    {
        string source = File.ReadAllText(Path.Combine(GeneratorHarness.RepoRoot(), "tests", "Dsl.Tests", "Networks", network + ".cs"));
        var result = GeneratorHarness.Run("using Dsl;\n" + source);
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        Snapshot.Verify(result.Generated.First(g => g.Contains($"partial class {network} ", StringComparison.Ordinal)), network);
    }
}
