using System.Collections;
using System.Reflection;
using Dsl.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Dsl.Tests.Generator;

/// <summary>
/// The pipeline's models are equatable values: running the generator again on an unchanged compilation, or after a
/// comment changed elsewhere, must leave every tracked step cached, and no step may hold a symbol or syntax node.
/// </summary>
public class IncrementalityTests
{
    private static readonly string[] TrackedSteps = { NetworkGenerator.Steps.Parse, NetworkGenerator.Steps.Build, NetworkGenerator.Steps.Emit };

    private const string Other = "namespace Elsewhere { // a helper\n public static class Helper { public static int Twice(int x) => 2 * x; } }";

    [Fact]
    public void Running_twice_on_an_unchanged_compilation_caches_every_step()
    {
        var compilation = GeneratorHarness.Compilation(GeneratorHarness.SpecSource("ResidualMlp.cs"), Other);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        driver = driver.RunGenerators(compilation.Clone());
        AssertAllCached(driver);
    }

    [Fact]
    public void Editing_a_comment_in_another_file_caches_every_step_and_keeps_the_output()
    {
        var compilation = GeneratorHarness.Compilation(GeneratorHarness.SpecSource("ResidualMlp.cs"), Other);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        string before = driver.GetRunResult().GeneratedTrees.Single().ToString();

        var otherTree = compilation.SyntaxTrees.Last();
        var edited = compilation.ReplaceSyntaxTree(otherTree,
            CSharpSyntaxTree.ParseText(Other.Replace("// a helper", "// a helper, now documented at length"), GeneratorHarness.ParseOptions, path: otherTree.FilePath));
        driver = driver.RunGenerators(edited);

        AssertAllCached(driver);
        Assert.Equal(before, driver.GetRunResult().GeneratedTrees.Single().ToString());
    }

    [Fact]
    public void Editing_code_elsewhere_in_the_network_file_after_the_class_caches_later_steps()
    {
        string network = GeneratorHarness.SpecSource("Mlp.cs");
        var compilation = GeneratorHarness.Compilation(network);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree,
            CSharpSyntaxTree.ParseText(network + "\n// trailing note\n", GeneratorHarness.ParseOptions, path: tree.FilePath));
        driver = driver.RunGenerators(edited);

        // The parse step re-runs on its own file, but its model is equal, so Build and Emit stay cached.
        var steps = driver.GetRunResult().Results.Single().TrackedSteps;
        Assert.All(steps[NetworkGenerator.Steps.Parse].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Unchanged, o.Reason));
        Assert.All(steps[NetworkGenerator.Steps.Build].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void Changing_the_definition_reruns_the_pipeline()
    {
        string network = GeneratorHarness.SpecSource("Mlp.cs");
        var compilation = GeneratorHarness.Compilation(network);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree,
            CSharpSyntaxTree.ParseText(network.Replace("Linear(128)", "Linear(64)"), GeneratorHarness.ParseOptions, path: tree.FilePath));
        driver = driver.RunGenerators(edited);

        var steps = driver.GetRunResult().Results.Single().TrackedSteps;
        Assert.Contains(steps[NetworkGenerator.Steps.Emit].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("Linear(64)", driver.GetRunResult().GeneratedTrees.Single().ToString());
    }

    [Fact]
    public void No_step_output_holds_a_symbol_syntax_node_or_compilation()
    {
        var compilation = GeneratorHarness.Compilation(GeneratorHarness.SpecSource("ResidualMlp.cs"), GeneratorHarness.SpecSource("SmallNet.cs"));
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var steps = driver.GetRunResult().Results.Single().TrackedSteps;
        foreach (string name in TrackedSteps)
        {
            foreach (var output in steps[name].SelectMany(s => s.Outputs))
            {
                AssertPlainValue(output.Value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
            }
        }
    }

    private static void AssertAllCached(GeneratorDriver driver)
    {
        var steps = driver.GetRunResult().Results.Single().TrackedSteps;
        foreach (string name in TrackedSteps)
        {
            Assert.True(steps.ContainsKey(name), $"step {name} was not tracked");
            Assert.All(steps[name].SelectMany(s => s.Outputs), o =>
                Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"step {name} was {o.Reason}"));
        }
    }

    private static void AssertPlainValue(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
        {
            return;
        }
        Assert.False(value is ISymbol || value is SyntaxNode || value is Compilation || value is SemanticModel || value is Location || value is SyntaxTree,
            $"{path} holds a {value.GetType().Name}");
        if (value is IEnumerable sequence)
        {
            int i = 0;
            foreach (var item in sequence)
            {
                AssertPlainValue(item, $"{path}[{i++}]", seen);
            }
            return;
        }
        if (value.GetType().Namespace?.StartsWith("Microsoft.CodeAnalysis.Text", StringComparison.Ordinal) == true)
        {
            return; // TextSpan, LinePositionSpan: plain structs
        }
        foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertPlainValue(field.GetValue(value), $"{path}.{field.Name}", seen);
        }
    }
}
