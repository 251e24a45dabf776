using Dsl.Tests.Generator;
using Xunit;

namespace Dsl.Tests.Seq2Seq;

/// <summary>The generated code of the seq2seq Spec, kept as a readable snapshot beside this file.</summary>
public sealed class Seq2SeqSnapshotTests
{
    [Fact]
    public void Seq2SeqGru_code_matches_the_snapshot()
    {
        var result = GeneratorHarness.Run(GeneratorHarness.SpecSource("Seq2SeqGru.cs"));
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        Snapshot.Verify(Assert.Single(result.Generated), "Seq2SeqGru");
    }
}
