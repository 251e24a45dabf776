using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Generator;

/// <summary>
/// Seeded mutation fuzzing of the generator over the repository's own networks (<c>Specs/Networks/*.cs</c>). Every
/// mutant must leave the generator standing: no exception escaping it, no DSL0999 (an exception it caught), every DSL
/// diagnostic at a span of the user's file, and a project that compiles with the generated code whenever the user's
/// file compiles without it. A default run tries <see cref="DefaultMutations"/> mutants; set <c>DSL_FUZZ_MUTATIONS</c> for more and
/// <c>DSL_FUZZ_SEED</c> for another series. A failure prints each mutant's seed: <c>DSL_FUZZ_SEED=s DSL_FUZZ_MUTATIONS=1</c>
/// reproduces it alone.
/// </summary>
public class FuzzTests
{
    public const string MutationsVariable = "DSL_FUZZ_MUTATIONS";
    public const string SeedVariable = "DSL_FUZZ_SEED";
    private const int DefaultMutations = 200;
    private const int DefaultSeed = 6_000;
    private const int MaxReported = 5;

    private readonly ITestOutputHelper _output;

    public FuzzTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Seeded_mutations_of_the_specs_networks_never_break_the_generator()
    {
        int count = Setting(MutationsVariable, DefaultMutations);
        int seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) ? s : DefaultSeed;
        var files = SpecNetworks();
        var results = new (string? Failure, bool Excused)[count];
        var mutants = new Mutant[count];
        var clock = Stopwatch.StartNew();
        // Mutants are independent and each is made from its own seed, so checking them in parallel changes nothing but the time.
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            mutants[i] = Mutator.Make(files, unchecked(seed + i));
            results[i] = Check(mutants[i]);
        });
        var failures = Enumerable.Range(0, count)
            .Where(i => results[i].Failure is not null)
            .Select(i => $"seed {mutants[i].Seed} ({mutants[i].File}; {string.Join("; ", mutants[i].Mutations)}): {results[i].Failure}\n{mutants[i].Diff()}")
            .ToList();
        int excused = results.Count(r => r.Excused);
        _output.WriteLine($"{count} mutants from seed {seed} in {clock.Elapsed.TotalSeconds:F1} s; {failures.Count} failed; " +
            $"{excused} had errors in generated code excused by C# errors in the user's own file.");
        foreach (string failure in failures)
        {
            _output.WriteLine(failure);
        }
        Assert.True(failures.Count == 0,
            $"{failures.Count} of {count} mutants broke the generator (reproduce one with {SeedVariable}=<seed> {MutationsVariable}=1); the first:\n\n"
            + string.Join("\n\n", failures.Take(MaxReported)));
        // Most mutants must have been held to the full standard, or the test checks little.
        Assert.True(excused < count / 2, $"{excused} of {count} mutants were excused by errors in the user's file");
    }

    [Fact]
    public void Mutants_are_reproducible_from_their_seed()
    {
        var files = SpecNetworks();
        for (int seed = 0; seed < 20; seed++)
        {
            var first = Mutator.Make(files, seed);
            var again = Mutator.Make(files, seed);
            Assert.Equal(first.Text, again.Text);
            Assert.NotEqual(first.Original, first.Text);
        }
    }

    /// <summary>
    /// Why the mutant breaks the generator (null when it does not), and whether errors in the generated code were
    /// excused because the user's file has C# errors of its own.
    /// </summary>
    private static (string? Failure, bool Excused) Check(Mutant mutant)
    {
        var compilation = GeneratorHarness.Compilation(mutant.Text);
        var driver = GeneratorHarness.Driver(trackSteps: false).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var reported);
        var run = driver.GetRunResult();
        if (run.Results.Select(r => r.Exception).FirstOrDefault(e => e is not null) is { } exception)
        {
            return ("an exception escaped the generator: " + exception, false);
        }
        var diagnostics = run.Diagnostics.Concat(reported).ToImmutableArray();
        if (diagnostics.FirstOrDefault(d => d.Id is "DSL0999" or "CS8784" or "CS8785") is { } internalError)
        {
            return (internalError.ToString(), false);
        }
        var userTree = compilation.SyntaxTrees.Single();
        if (diagnostics.FirstOrDefault(d => d.Id.StartsWith("DSL", StringComparison.Ordinal) && d.Location.SourceTree != userTree) is { } misplaced)
        {
            return ("a DSL diagnostic outside the user's file: " + misplaced, false);
        }
        // An error anywhere once the generated code is added (a clash may be reported at the user's member) counts,
        // unless the user's file does not compile by itself either.
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count == 0)
        {
            return (null, false);
        }
        if (compilation.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error))
        {
            return (null, errors.Any(d => d.Location.SourceTree != userTree));
        }
        return ("the code does not compile with the generated file while the user's file compiles without it:\n  " + string.Join("\n  ", errors.Take(5)), false);
    }

    private static IReadOnlyList<(string File, string Text)> SpecNetworks()
    {
        string folder = Path.Combine(GeneratorHarness.RepoRoot(), "Specs", "Networks");
        var files = Directory.GetFiles(folder, "*.cs").OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), File.ReadAllText(f).Replace("\r\n", "\n")))
            .ToList();
        Assert.True(files.Count >= 5, $"expected the specs' networks in {folder}");
        return files;
    }

    private static int Setting(string variable, int fallback)
        => int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : fallback;
}
