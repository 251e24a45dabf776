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

    /// <summary>The source text a location covers.</summary>
    public static string SpanText(Location location)
        => location.SourceTree!.ToString().Substring(location.SourceSpan.Start, location.SourceSpan.Length);

    public static string SpanText(Diagnostic diagnostic) => SpanText(diagnostic.Location);
}
