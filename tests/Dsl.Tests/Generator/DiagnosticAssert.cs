using Microsoft.CodeAnalysis;
using Xunit;

namespace Dsl.Tests.Generator;

/// <summary>Runs the generator on a definition and asserts what it reported, for the diagnostic tests.</summary>
internal static class DiagnosticAssert
{
    public const string Usings = "using Dsl;\nusing static Dsl.Layers;\n";

    /// <summary>The one generator diagnostic of <paramref name="source"/>, which must have <paramref name="id"/> and be an error.</summary>
    public static Diagnostic Single(string source, string id)
    {
        var result = GeneratorHarness.Run(Usings + source);
        Assert.Empty(result.Exceptions);
        var diagnostic = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        return diagnostic;
    }

    /// <summary>The negative twin: no diagnostic, no compiler error, one generated file.</summary>
    public static void Clean(string source)
    {
        var result = GeneratorHarness.Run(Usings + source);
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        Assert.Single(result.Generated);
    }

    /// <summary>
    /// The outcome every input must have: either the generated code compiles (no compiler error inside a generated file),
    /// or the generator reported errors, each at a span of the user's source. Returns the run for further checks.
    /// (<see cref="GeneratorHarness.Run"/> has already failed on an exception or DSL0999.)
    /// </summary>
    public static GeneratorHarness.Result CompilesOrReportsAtUserSpan(string source)
    {
        var result = GeneratorHarness.Run(Usings + source);
        Assert.True(result.ErrorsInGeneratedCode.IsEmpty,
            "The generated code does not compile:\n" + string.Join("\n", result.ErrorsInGeneratedCode.Take(5)));
        foreach (var d in result.GeneratorDiagnostics.Where(d => d.Id.StartsWith("DSL", StringComparison.Ordinal)))
        {
            Assert.True(d.Location.IsInSource && d.Location.SourceTree!.FilePath.StartsWith("Network", StringComparison.Ordinal) && d.Location.SourceSpan.Length > 0,
                $"{d.Id} is not at a span of the user's source: {d}");
        }
        return result;
    }

    /// <summary>Like <see cref="CompilesOrReportsAtUserSpan"/>, but a generator error is required: the input is wrong.</summary>
    public static Diagnostic ReportsAtUserSpan(string source)
    {
        var result = CompilesOrReportsAtUserSpan(source);
        var errors = result.GeneratorDiagnostics.Where(d => d.Id.StartsWith("DSL", StringComparison.Ordinal) && d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count > 0, "expected a DSL error, but the generator reported none");
        return errors[0];
    }

    /// <summary>The source text a location covers.</summary>
    public static string SpanText(Location location)
        => location.SourceTree!.ToString().Substring(location.SourceSpan.Start, location.SourceSpan.Length);

    public static string SpanText(Diagnostic diagnostic) => SpanText(diagnostic.Location);
}
