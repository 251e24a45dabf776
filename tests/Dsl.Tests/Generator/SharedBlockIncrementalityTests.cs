using Dsl.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Dsl.Tests.Generator;

/// <summary>
/// Editing a shared block re-generates exactly the networks that call it (directly or through another shared block);
/// the others stay cached, and an edit elsewhere leaves every network cached.
/// </summary>
public class SharedBlockIncrementalityTests
{
    private const string Blocks = DiagnosticAssert.Usings + """
        public static class Blocks
        {
            public static Layer Trunk(int width = 16) => Linear(width) | Relu;
            public static Layer Wrapped() => Trunk() | Linear(8);
            public static Layer Other() => Linear(12) | Tanh;
        }
        """;

    private static readonly string[] Networks =
    [
        DiagnosticAssert.Usings + "[Network] public partial class CallsTrunk { static Net Define() => Input(4) | Blocks.Trunk() | Linear(2); }",
        DiagnosticAssert.Usings + "[Network] public partial class CallsWrapped { static Net Define() => Input(4) | Blocks.Wrapped(); }",
        DiagnosticAssert.Usings + "[Network] public partial class CallsOther { static Net Define() => Input(4) | Blocks.Other(); }",
        DiagnosticAssert.Usings + "[Network] public partial class CallsNone { static Net Define() => Input(4) | Linear(3); }",
    ];

    private static (GeneratorDriver Driver, CSharpCompilation Compilation) FirstRun()
    {
        var compilation = GeneratorHarness.Compilation(new[] { Blocks }.Concat(Networks).ToArray());
        return (GeneratorHarness.Driver().RunGenerators(compilation), compilation);
    }

    private static GeneratorDriver Edit(GeneratorDriver driver, CSharpCompilation compilation, string from, string to)
    {
        var tree = compilation.SyntaxTrees.First();
        Assert.Contains(from, Blocks);
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(Blocks.Replace(from, to), GeneratorHarness.ParseOptions, path: tree.FilePath));
        return driver.RunGenerators(edited);
    }

    /// <summary>Each network's Emit step reason after the last run, by class name.</summary>
    private static Dictionary<string, IncrementalStepRunReason> EmitReasons(GeneratorDriver driver)
    {
        var steps = driver.GetRunResult().Results.Single().TrackedSteps;
        var reasons = new Dictionary<string, IncrementalStepRunReason>();
        foreach (var (value, reason) in steps[NetworkGenerator.Steps.Emit].SelectMany(s => s.Outputs))
        {
            string name = (string)value.GetType().GetField("Item2")!.GetValue(value)!;
            reasons[name] = reason;
        }
        Assert.Equal(4, reasons.Count);
        return reasons;
    }

    [Fact]
    public void Editing_a_shared_block_regenerates_its_callers_and_nothing_else()
    {
        var (driver, compilation) = FirstRun();
        driver = Edit(driver, compilation, "int width = 16", "int width = 32");
        var reasons = EmitReasons(driver);
        Assert.Equal(IncrementalStepRunReason.Modified, reasons["CallsTrunk"]);
        Assert.Equal(IncrementalStepRunReason.Modified, reasons["CallsWrapped"]); // through Wrapped -> Trunk
        Assert.True(reasons["CallsOther"] is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"CallsOther was {reasons["CallsOther"]}");
        Assert.True(reasons["CallsNone"] is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"CallsNone was {reasons["CallsNone"]}");
        var generated = driver.GetRunResult().GeneratedTrees.Select(t => t.ToString()).ToList();
        // A default value edited in the block's file reaches the networks whose calls rely on it.
        Assert.Contains("fc1: Linear(32)", generated.Single(g => g.Contains("class CallsTrunk", StringComparison.Ordinal)));
        Assert.Contains("fc1: Linear(32)", generated.Single(g => g.Contains("class CallsWrapped", StringComparison.Ordinal)));
    }

    [Fact]
    public void Editing_a_comment_after_the_shared_blocks_regenerates_nothing()
    {
        var (driver, compilation) = FirstRun();
        driver = Edit(driver, compilation, "Tanh;\n}", "Tanh;\n}\n// a trailing note");
        var reasons = EmitReasons(driver);
        Assert.All(reasons, r => Assert.True(r.Value is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{r.Key} was {r.Value}"));
    }
}
