using System.Collections.Immutable;
using Dsl.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Generator;

/// <summary>
/// Blocks of a static class shared by several networks (issue 9): found through the semantic model (qualified calls,
/// <c>using static</c>, overloads), expanded in each network, with DSL0040, DSL0041, DSL0007 and DSL0046 when they cannot be.
/// </summary>
public class SharedBlockDiagnosticTests
{
    private const string Blocks = "public static class Blocks { public static Layer Hidden(int width) => Linear(width) | Relu; }\n";

    [Fact]
    public void A_block_of_a_static_class_is_expanded_in_two_networks()
    {
        var result = GeneratorHarness.Run(Usings + Blocks,
            Usings + "[Network] public partial class UsesA { static Net Define() => Input(4) | Blocks.Hidden(8) | Linear(2); }",
            Usings + "using static Blocks;\n[Network] public partial class UsesB { static Net Define() => Input(6) | Hidden(3) | Hidden(5); }");
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        Assert.Equal(2, result.Generated.Length);
        Assert.Contains("Blocks.Hidden(8)", result.Generated.Single(g => g.Contains("class UsesA", StringComparison.Ordinal)));
        Assert.Contains("fc2", result.Generated.Single(g => g.Contains("class UsesB", StringComparison.Ordinal)));
    }

    [Fact]
    public void Overloads_of_a_shared_block_are_told_apart_by_the_compiler()
    {
        var result = GeneratorHarness.Run(Usings + "public static class Blocks { public static Layer Hidden(int width) => Linear(width); public static Layer Hidden(int width, int times) => Repeat(times, Linear(width) | Relu); }\n"
            + "[Network] public partial class Over { static Net Define() => Input(4) | Blocks.Hidden(8, 3) | Blocks.Hidden(2); }");
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        Assert.Contains("fc4", Assert.Single(result.Generated));
        Assert.DoesNotContain("fc5", result.Generated[0]);
    }

    [Fact]
    public void A_block_from_a_referenced_assembly_reports_DSL0040()
    {
        var library = CSharpCompilation.Create("BlockLibrary",
            [CSharpSyntaxTree.ParseText(Usings + "namespace Lib { public static class LibBlocks { public static Layer Hidden(int width) => Linear(width); } }", GeneratorHarness.ParseOptions)],
            GeneratorHarness.Compilation().References, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var user = GeneratorHarness.Compilation(Usings + "[Network] public partial class UsesLib { static Net Define() => Input(4) | Lib.LibBlocks.Hidden(8); }")
            .AddReferences(Image(library));
        var run = GeneratorHarness.Driver().RunGenerators(user).GetRunResult();
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("DSL0040", d.Id);
        Assert.Equal("'LibBlocks.Hidden' is declared in the referenced assembly 'BlockLibrary'; blocks are expanded from their source at compile time, so declare it in a static class of this project (or include its source file)", d.GetMessage());
        Assert.Equal("Lib.LibBlocks.Hidden(8)", SpanText(d));
    }

    private static MetadataReference Image(CSharpCompilation library)
    {
        using var stream = new MemoryStream();
        var emitted = library.Emit(stream);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        return MetadataReference.CreateFromImage(stream.ToArray());
    }

    [Fact]
    public void The_same_block_in_this_project_compiles()
        => Clean("namespace Lib { public static class LibBlocks { public static Layer Hidden(int width) => Linear(width); } }\n[Network] public partial class UsesLib { static Net Define() => Input(4) | Lib.LibBlocks.Hidden(8); }");

    [Fact]
    public void A_generic_block_reports_DSL0041()
    {
        var d = Single("public static class Blocks { public static Layer Hidden<T>(int width) => Linear(width); }\n[Network] public partial class Gen { static Net Define() => Input(4) | Blocks.Hidden<int>(8); }", "DSL0041");
        Assert.StartsWith("'Blocks.Hidden' cannot be a block: it is generic", d.GetMessage());
        Assert.Equal("Blocks.Hidden<int>(8)", SpanText(d));
    }

    [Fact]
    public void An_instance_method_returning_a_layer_reports_DSL0041()
    {
        var d = Single("public class Helper { public Layer Hidden(int width) => Linear(width); }\n[Network] public partial class Inst { static Net Define() => Input(4) | new Helper().Hidden(8); }", "DSL0041");
        Assert.StartsWith("'Helper.Hidden' cannot be a block: it is an instance method", d.GetMessage());
    }

    [Fact]
    public void A_static_method_of_a_class_that_is_not_static_reports_DSL0041()
    {
        var d = Single("public class Other { public static Layer Mystery() => Relu; }\n[Network] public partial class Net4 { static Net Define() => Input(4) | Other.Mystery() | Linear(2); }", "DSL0041");
        Assert.Equal("'Other.Mystery' cannot be a block: it is declared in 'Other', which is not a static class: move blocks shared by several networks into a static class; a block is a static, non-generic method returning Layer or Net, of the network class or of a static class", d.GetMessage());
    }

    [Fact]
    public void Shared_blocks_calling_each_other_in_a_cycle_report_DSL0007_naming_the_cycle()
    {
        var result = GeneratorHarness.Run(Usings + "public static class Blocks { public static Layer A(int w) => Linear(w) | B(w); public static Layer B(int w) => Relu | A(w); }\n"
            + "[Network] public partial class Cycle { static Net Define() => Input(4) | Blocks.A(3); }");
        var d = Assert.Single(result.GeneratorDiagnostics, d => d.Id == "DSL0007");
        Assert.Contains("Define -> Blocks.A -> Blocks.B -> Blocks.A", d.GetMessage());
        Assert.Equal("A(w)", SpanText(d));
        // The cycle closes inside the shared blocks: the network's call says so too.
        Assert.Equal("Blocks.A(3)", SpanText(Assert.Single(result.GeneratorDiagnostics, d => d.Id == "DSL0046")));
        Assert.Equal(2, result.GeneratorDiagnostics.Length);
    }

    [Fact]
    public void Shared_blocks_calling_each_other_without_a_cycle_compile()
        => Clean("public static class Blocks { public static Layer A(int w) => Linear(w) | B(w); public static Layer B(int w) => Relu | Linear(w); }\n"
            + "[Network] public partial class NoCycle { static Net Define() => Input(4) | Blocks.A(3); }");

    [Fact]
    public void An_error_inside_a_shared_block_is_also_reported_at_the_networks_call_as_DSL0046()
    {
        var result = GeneratorHarness.Run(Usings + "public static class Blocks { public static Layer Pool() => MaxPool2d(2); }",
            Usings + "[Network] public partial class FlatPool { static Net Define() => Input(4) | Linear(8) | Blocks.Pool(); }");
        var inside = Assert.Single(result.GeneratorDiagnostics, d => d.Id != "DSL0046");
        Assert.Equal("MaxPool2d(2)", SpanText(inside));
        Assert.Equal("Network0.cs", inside.Location.SourceTree!.FilePath);
        var atCall = Assert.Single(result.GeneratorDiagnostics, d => d.Id == "DSL0046");
        Assert.Equal("Network1.cs", atCall.Location.SourceTree!.FilePath);
        Assert.Equal("Blocks.Pool()", SpanText(atCall));
        Assert.StartsWith($"'Blocks.Pool' called here from 'FlatPool' fails: {inside.Id} ", atCall.GetMessage());
    }

    [Fact]
    public void The_same_shared_block_on_a_fitting_input_compiles()
    {
        var result = GeneratorHarness.Run(Usings + "public static class Blocks { public static Layer Pool() => MaxPool2d(2); }",
            Usings + "[Network] public partial class ImagePool { static Net Define() => Input(1, 4, 4) | Blocks.Pool(); }");
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
    }

    [Fact]
    public void Every_help_link_is_an_absolute_https_address_ending_in_its_id()
    {
        var descriptors = typeof(NetworkGenerator).Assembly.GetType("Dsl.Generator.Diagnostics.Descriptors")!
            .GetFields(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToList();
        Assert.True(descriptors.Count > 50, $"only {descriptors.Count} descriptors found");
        foreach (var descriptor in descriptors)
        {
            Assert.True(Uri.TryCreate(descriptor.HelpLinkUri, UriKind.Absolute, out var uri) && uri.Scheme == "https", $"{descriptor.Id}: '{descriptor.HelpLinkUri}' is not an absolute https address");
            Assert.EndsWith(descriptor.Id, descriptor.HelpLinkUri, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Generator/Diagnostics", descriptor.HelpLinkUri, StringComparison.Ordinal);
        }
    }

    /// <summary>Every DSL0040-DSL0049 descriptor is documented on the help page its link names.</summary>
    [Fact]
    public void The_new_diagnostics_are_documented_and_released()
    {
        string root = GeneratorHarness.RepoRoot();
        string page = File.ReadAllText(Path.Combine(root, "Generator", "Diagnostics", "Diagnostics.md"));
        string releases = File.ReadAllText(Path.Combine(root, "Generator", "AnalyzerReleases.Unshipped.md"));
        foreach (string id in new[] { "DSL0040", "DSL0041", "DSL0042", "DSL0043", "DSL0044", "DSL0045", "DSL0046" })
        {
            Assert.Contains("## " + id.ToLowerInvariant() + "\n", page.Replace("\r\n", "\n"), StringComparison.Ordinal);
            Assert.Contains(id + " | Dsl.Language | Error", releases, StringComparison.Ordinal);
        }
    }
}
