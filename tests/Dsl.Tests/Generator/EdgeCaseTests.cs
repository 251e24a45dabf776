using Microsoft.CodeAnalysis;
using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Generator;

/// <summary>
/// Inputs that once made the generator emit code that does not compile: colliding file names, half-typed
/// parameters, and user members that clash with generated ones. Each becomes correct code or a diagnostic at the
/// user's span; the member clashes each have a negative twin that compiles.
/// </summary>
public class EdgeCaseTests
{
    private const string Tiny = "[Network] public partial class Tiny { static Net Define() => Input(4) | Linear(2); }";
    private const string Other = "[Network] public partial class Other { static Net Define() => Input(3) | Linear(5) | Relu; }";

    [Fact]
    public void Networks_whose_names_differ_only_in_case_each_get_their_code()
    {
        var result = GeneratorHarness.Run(Usings + Tiny, Usings + Tiny.Replace("Tiny", "TINY"), Usings + Other);
        Assert.DoesNotContain(result.GeneratorDiagnostics, d => d.Id is "CS8784" or "CS8785");
        Assert.Equal(3, result.Generated.Length);
        Assert.Contains(result.Generated, g => g.Contains("partial class Tiny ", StringComparison.Ordinal));
        Assert.Contains(result.Generated, g => g.Contains("partial class TINY ", StringComparison.Ordinal));
        Assert.Empty(result.CompilationErrors);
    }

    [Fact]
    public void Hint_names_are_stable_and_differ_in_more_than_case()
    {
        string lower = Dsl.Generator.NetworkGenerator.HintName("Specs.Networks.Tiny");
        string upper = Dsl.Generator.NetworkGenerator.HintName("Specs.Networks.TINY");
        Assert.NotEqual(lower.ToUpperInvariant(), upper.ToUpperInvariant());
        Assert.Equal(lower, Dsl.Generator.NetworkGenerator.HintName("Specs.Networks.Tiny"));
        Assert.StartsWith("Specs.Networks.Tiny.", lower, StringComparison.Ordinal);
        Assert.EndsWith(".g.cs", lower, StringComparison.Ordinal);
    }

    [Fact]
    public void Network_attribute_on_both_parts_emits_the_class_once_and_keeps_other_networks()
    {
        var result = GeneratorHarness.Run(Usings + Tiny, Usings + "[Network] public partial class Tiny { }", Usings + Other);
        Assert.DoesNotContain(result.GeneratorDiagnostics, d => d.Id is "CS8784" or "CS8785");
        Assert.Equal(2, result.Generated.Length);
        Assert.Single(result.Generated, g => g.Contains("partial class Tiny ", StringComparison.Ordinal));
        Assert.Empty(result.ErrorsInGeneratedCode);
        // The duplicate attribute is the user's mistake, and the compiler names it.
        Assert.Equal("CS0579", Assert.Single(result.CompilationErrors).Id);
    }

    [Theory]
    [InlineData("static Layer Block(int) => Linear(2); static Net Define() => Input(4) | Block(1);")]
    [InlineData("static Layer Block(int, int) => Linear(2); static Net Define() => Input(4) | Block(1, 2);")]
    [InlineData("static Layer Block(int w, int w) => Linear(w); static Net Define() => Input(4) | Block(1, 2);")]
    [InlineData("static Layer Block(int, ) => Linear(2) static Net Define() => Input(4) | Block(")]
    public void Block_with_unnamed_or_repeated_parameters_leaves_the_error_to_the_compiler(string body)
    {
        var result = GeneratorHarness.Run($"{Usings}[Network] public partial class Half {{ {body} }}");
        Assert.NotEmpty(result.CompilationErrors);
        Assert.Empty(result.ErrorsInGeneratedCode);
    }

    [Fact]
    public void Block_named_Summary_reports_DSL0020_at_the_block()
    {
        var d = Single("[Network] public partial class Tiny { static Layer Summary() => Relu; static Net Define() => Input(4) | Linear(2) | Summary(); }", "DSL0020");
        Assert.Equal("method 'Summary()' clashes with the generated property 'Summary' of 'Tiny'; rename or remove it, the generator declares it in every [Network] class", d.GetMessage());
        Assert.Equal("Summary", SpanText(d));
        Assert.StartsWith("Summary() => Relu", From(d), StringComparison.Ordinal);
    }

    [Fact]
    public void Block_named_Head_compiles() => Clean("[Network] public partial class Tiny { static Layer Head() => Relu; static Net Define() => Input(4) | Linear(2) | Head(); }");

    [Fact]
    public void Constructor_taking_a_device_and_a_seed_reports_DSL0020_at_the_constructor()
    {
        var d = Single("[Network] public partial class Tiny { public Tiny(Device device, int seed) : base(device, seed) { } static Net Define() => Input(4) | Linear(2); }", "DSL0020");
        Assert.Equal("constructor 'Tiny(Device, int)' clashes with the generated constructor 'Tiny(Device, int)' of 'Tiny'; rename or remove it, the generator declares it in every [Network] class", d.GetMessage());
        Assert.Equal("Tiny", SpanText(d));
        Assert.StartsWith("Tiny(Device device, int seed)", From(d), StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_overload_that_chains_to_the_generated_one_compiles()
        => Clean("[Network] public partial class Tiny { public Tiny(Device device) : this(device, 7) { } static Net Define() => Input(4) | Linear(2); }");

    [Fact]
    public void Static_InputShape_reports_DSL0020_at_the_field()
    {
        var d = Single("[Network] public partial class Tiny { public static readonly int[] InputShape = { 4 }; static Net Define() => Input(4) | Linear(2); }", "DSL0020");
        Assert.Equal("field 'InputShape' clashes with the generated property 'InputShape' of 'Tiny'; rename or remove it, the generator declares it in every [Network] class", d.GetMessage());
        Assert.Equal("InputShape", SpanText(d));
    }

    [Fact]
    public void Static_InputSize_compiles()
        => Clean("[Network] public partial class Tiny { public static readonly int[] InputSize = { 4 }; static Net Define() => Input(4) | Linear(2); }");

    [Fact]
    public void Field_named_like_a_parameter_field_reports_DSL0020_at_the_field()
    {
        var d = Single("[Network] public partial class Tiny { internal float[] _fc1_weight = new float[8]; static Net Define() => Input(4) | Linear(2); }", "DSL0020");
        Assert.Equal("field '_fc1_weight' clashes with the generated field '_fc1_weight' of 'Tiny'; rename or remove it, the generator declares it in every [Network] class", d.GetMessage());
        Assert.Equal("_fc1_weight", SpanText(d));
    }

    [Fact]
    public void Field_named_after_a_layer_the_network_does_not_have_compiles()
        => Clean("[Network] public partial class Tiny { internal float[] _fc2_weight = new float[8]; static Net Define() => Input(4) | Linear(2); }");

    [Fact]
    public void Block_named_like_a_Module_method_the_generated_code_calls_reports_DSL0022()
    {
        var d = Single("[Network] public partial class Tiny { static Layer ParameterSeed(int width) => Linear(width); static Net Define() => Input(4) | ParameterSeed(2); }", "DSL0022");
        Assert.Equal("method 'ParameterSeed(int)' hides the method 'ParameterSeed(int)' that 'Tiny' inherits from Dsl.Module, which the generated code uses; rename it", d.GetMessage());
        Assert.StartsWith("ParameterSeed(int width)", From(d), StringComparison.Ordinal);
    }

    [Fact]
    public void Field_named_like_a_Module_property_reports_DSL0022()
    {
        var d = Single("[Network] public partial class Tiny { static readonly int Parameters = 3; static Net Define() => Input(4) | Linear(2); }", "DSL0022");
        Assert.Equal("field 'Parameters' hides the property 'Parameters' that 'Tiny' inherits from Dsl.Module, which the generated code uses; rename it", d.GetMessage());
    }

    [Fact]
    public void Overload_of_a_Module_method_with_other_parameter_types_compiles()
        => Clean("[Network] public partial class Tiny { public void Train(int epochs) { } static Net Define() => Input(4) | Linear(2); }");

    [Fact]
    public void Explicit_object_base_class_reports_DSL2001()
    {
        var d = Single("[Network] public partial class Tiny : object { static Net Define() => Input(4) | Linear(2); }", "DSL2001");
        Assert.Equal("[Network] class 'Tiny' derives from 'object'; the generator makes it derive from Dsl.Module, so declare no base class", d.GetMessage());
    }

    [Fact]
    public void Interface_in_the_base_list_compiles()
        => Clean("[Network] public partial class Tiny : System.IComparable { public int CompareTo(object? other) => 0; static Net Define() => Input(4) | Linear(2); }");

    [Fact]
    public void Member_clash_is_reported_even_when_the_definition_has_errors()
    {
        // The stub emitted for a broken definition declares Summary too.
        var result = GeneratorHarness.Run($"{Usings}[Network] public partial class Tiny {{ static Layer Summary() => Relu; static Net Define() => Input(4) | Linear(3, 2) | Summary(); }}");
        Assert.Equal(new[] { "DSL1001", "DSL0020" }, result.GeneratorDiagnostics.Select(d => d.Id).OrderByDescending(id => id));
        Assert.Empty(result.CompilationErrors);
    }

    [Fact]
    public void Primary_constructor_reports_DSL0021_at_the_parameter_list()
    {
        var d = Single("[Network] public partial class Tiny(int width) { static Net Define() => Input(4) | Linear(2); }", "DSL0021");
        Assert.Equal("[Network] class 'Tiny' has a primary constructor; the generated constructor (Device device, int seed = 0) must call base(device, seed), so remove the parameter list", d.GetMessage());
        Assert.Equal("(int width)", SpanText(d));
    }

    [Fact]
    public void Class_without_a_primary_constructor_compiles() => Clean(Tiny);

    [Fact]
    public void Network_attribute_on_a_record_reports_DSL2001()
    {
        var d = Single("[Network] public partial record TinyRecord { static Net Define() => Input(4) | Linear(2); }", "DSL2001");
        Assert.Equal("[Network] class 'TinyRecord' is a record; the generator adds mutable buffers and a constructor of its own, so declare a 'partial class'", d.GetMessage());
        Assert.Equal("TinyRecord", SpanText(d));
    }

    [Fact]
    public void Same_definition_in_a_partial_class_compiles() => Clean(Tiny.Replace("Tiny", "TinyRecord"));

    /// <summary>The source from the diagnostic's span on, to tell a declaration from a call of the same name.</summary>
    private static string From(Diagnostic d) => d.Location.SourceTree!.ToString().Substring(d.Location.SourceSpan.Start);
}

/// <summary>
/// Edge cases of the emitter and the shape rules: a network without layers, user strings and numbers that must be
/// escaped in the generated code, and sizes whose arithmetic overflows <c>int</c>. Each must give code that compiles
/// or a diagnostic at the user's span; a size that cannot be represented must be a diagnostic.
/// </summary>
public class EmitterEdgeCaseTests
{
    [Theory]
    [InlineData("Input(6)")]
    [InlineData("Input(6) | Identity")]
    [InlineData("Input(4) | Linear(2, name: \"a\\\"b\")")]
    [InlineData("Input(4) | Linear(2, name: \"line\\nbreak\")")]
    [InlineData("Input(4) | Linear(2, name: \"back\\\\slash\")")]
    [InlineData("Input(4) | Linear(2, name: \"*/ #if\")")]
    [InlineData("Input(4) | Linear(2, name: \"\")")]
    [InlineData("Input(4) | LeakyRelu(double.NaN) | Linear(2)")]
    [InlineData("Input(4) | Elu(double.PositiveInfinity) | Linear(2)")]
    [InlineData("Input(4) | Elu(double.NegativeInfinity) | Linear(2)")]
    [InlineData("Input(4) | Dropout(double.NaN) | Linear(2)")]
    [InlineData("Input(4) | LeakyRelu(-1e300) | Linear(2)")]
    [InlineData("Input(4) | Elu(1e39) | Linear(2)")]
    [InlineData("Input(2, 3, 2147483647) | BatchNorm2d()")]
    public void Definition_gives_code_that_compiles_or_a_diagnostic_at_the_users_span(string definition)
        => CompilesOrReportsAtUserSpan($"[Network] public partial class Edge {{ static Net Define() => {definition}; }}");

    [Theory]
    [InlineData("static Net Define() => Input(3, 8, 8) | Concat(Conv2d(2147483647, kernel: 1), Conv2d(2, kernel: 1));")]
    [InlineData("static Net Define() => Input(1, 65536, 65536) | Flatten | Linear(10);")]
    [InlineData("static Layer Wide(int k) => Linear(int.MaxValue + k); static Net Define() => Input(4) | Wide(2);")]
    [InlineData("static Net Define() => Input(65536, 65536) | Linear(65536);")]
    public void Sizes_that_overflow_int_are_reported_at_the_users_span(string body)
    {
        var d = ReportsAtUserSpan($"[Network] public partial class Huge {{ {body} }}");
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
    }

    [Fact]
    public void Two_empty_names_are_reported_without_saying_nothing()
    {
        var d = ReportsAtUserSpan("[Network] public partial class Edge { static Net Define() => Input(4) | Linear(3, name: \"\") | Linear(2, name: \"\"); }");
        Assert.DoesNotContain("by nothing", d.GetMessage(), StringComparison.Ordinal);
    }
}
