using System.Collections.Immutable;
using Dsl.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit.Sdk;

namespace Dsl.Tests.Generator;

/// <summary>Compiles C# sources with the network generator, as a user's project would.</summary>
internal static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var refs = trusted
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToList();
        refs.Add(MetadataReference.CreateFromFile(typeof(NetworkAttribute).Assembly.Location));
        refs.Add(MetadataReference.CreateFromFile(typeof(Module).Assembly.Location));
        return refs.ToImmutableArray();
    });

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static CSharpCompilation Compilation(params string[] sources)
        => CSharpCompilation.Create(
            "UserProject",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Network{i}.cs")),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver Driver(bool trackSteps = true)
        => CSharpGeneratorDriver.Create(
            new[] { new NetworkGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>
    /// Runs the generator; returns the generator's diagnostics, the generated sources and the compiler's diagnostics on the
    /// result. Fails the calling test on an exception escaping the generator or on DSL0999 (an exception it caught):
    /// both are generator bugs whatever the input, so no test has to remember to look for them.
    /// </summary>
    public static Result Run(params string[] sources)
    {
        var compilation = Compilation(sources);
        var driver = Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var run = driver.GetRunResult();
        var diagnostics = run.Results.SelectMany(r => r.Diagnostics).Concat(generatorDiagnostics).Distinct().ToImmutableArray();
        var exceptions = run.Results.Select(r => r.Exception).Where(e => e is not null).ToImmutableArray();
        if (exceptions.Length > 0)
        {
            throw new XunitException($"An exception escaped the generator: {exceptions[0]}");
        }
        AssertNoInternalError(diagnostics, "");
        var userTrees = compilation.SyntaxTrees.ToHashSet();
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();
        return new Result(
            diagnostics,
            run.GeneratedTrees.Select(t => t.ToString()).ToImmutableArray(),
            errors,
            exceptions!,
            errors.Where(d => d.Location.SourceTree is { } tree && !userTrees.Contains(tree)).ToImmutableArray());
    }

    /// <summary>Fails with the generator's own message when it reported DSL0999: a caught exception is still a bug.</summary>
    public static void AssertNoInternalError(IEnumerable<Diagnostic> diagnostics, string context)
    {
        var failure = diagnostics.FirstOrDefault(d => d.Id == "DSL0999");
        if (failure is not null)
        {
            throw new XunitException($"The generator failed internally (DSL0999){context}: {failure.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}");
        }
    }

    /// <param name="ErrorsInGeneratedCode">Compiler errors located in a generated file: always the generator's fault when the
    /// user's own file compiles.</param>
    public sealed record Result(
        ImmutableArray<Diagnostic> GeneratorDiagnostics,
        ImmutableArray<string> Generated,
        ImmutableArray<Diagnostic> CompilationErrors,
        ImmutableArray<Exception> Exceptions,
        ImmutableArray<Diagnostic> ErrorsInGeneratedCode);

    /// <summary>
    /// The repository root: the nearest folder above the test assembly that holds <c>Dsl.sln</c>, else (a test assembly
    /// copied elsewhere) the one above this source file.
    /// </summary>
    public static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string here = "")
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dsl.sln")))
            {
                return dir.FullName;
            }
        }
        return Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));
    }

    public static string SpecSource(string file) => File.ReadAllText(Path.Combine(RepoRoot(), "Specs", "Networks", file));
}
