using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Sdk;

namespace Dsl.Tests.Generator;

/// <summary>The generator never throws, whatever the user has half-typed.</summary>
public class RobustnessTests
{
    [Fact]
    public void Every_prefix_of_a_real_network_runs_without_a_generator_exception()
    {
        string source = GeneratorHarness.SpecSource("ResidualMlp.cs");
        var driver = GeneratorHarness.Driver(trackSteps: false);
        int step = Math.Max(1, source.Length / 150);
        for (int length = 0; length <= source.Length; length += step)
        {
            var compilation = GeneratorHarness.Compilation(source.Substring(0, length));
            driver = driver.RunGenerators(compilation);
            var exceptions = driver.GetRunResult().Results.Select(r => r.Exception).Where(e => e is not null).ToList();
            Assert.True(exceptions.Count == 0, $"The generator threw on the first {length} characters: {exceptions.FirstOrDefault()}");
            Assert.DoesNotContain(driver.GetRunResult().Diagnostics, d => d.Id is "CS8784" or "CS8785");
            GeneratorHarness.AssertNoInternalError(driver.GetRunResult().Diagnostics, $" on the first {length} characters");
        }
    }

    [Theory]
    [InlineData("static Net Define() => Input(4) | ;")]
    [InlineData("static Net Define() => Input() | Linear(2);")]
    [InlineData("static Net Define() => Input(4) | Linear(;")]
    [InlineData("static Net Define() => Input(4) | Lineer(2);")]
    [InlineData("static Net Define() { var x = Input(4); }")]
    [InlineData("static Net Define() => Input(4) | Linear(2) | Define();")]
    [InlineData("static Net Define() => null!;")]
    [InlineData("static Net Define() => Input(-3) | Linear(2);")]
    public void Malformed_definitions_give_diagnostics_not_exceptions(string body)
    {
        var result = GeneratorHarness.Run($"using Dsl;\nusing static Dsl.Layers;\n[Network] public partial class Broken {{ {body} }}");
        Assert.Empty(result.Exceptions);
        Assert.True(result.GeneratorDiagnostics.Length + result.CompilationErrors.Length > 0, "a malformed definition must produce an error");
        Assert.Empty(result.ErrorsInGeneratedCode);
    }

    [Fact]
    public void The_harness_fails_a_test_on_DSL0999()
    {
        // The guard turns every exception into DSL0999; a helper that only looked for escaped exceptions let a planted
        // throw pass every test, so prove the check itself bites.
        var descriptor = new DiagnosticDescriptor("DSL0999", "failed", "The network generator failed on '{0}'", "Dsl.Language", DiagnosticSeverity.Error, true);
        var failure = Diagnostic.Create(descriptor, Location.None, "Tiny");
        var e = Assert.Throws<XunitException>(() => GeneratorHarness.AssertNoInternalError(new[] { failure }, ""));
        Assert.Contains("DSL0999", e.Message);
        GeneratorHarness.AssertNoInternalError(Array.Empty<Diagnostic>(), "");
    }
}
