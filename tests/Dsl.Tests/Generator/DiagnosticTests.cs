using Microsoft.CodeAnalysis;
using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Generator;

/// <summary>
/// One test per diagnostic id, asserting the id, the message (expected vs received and where it came from) and the
/// span of the offending call, each with a negative twin that compiles cleanly.
/// </summary>
public class DiagnosticTests
{
    [Fact]
    public void Class_that_is_not_partial_reports_DSL0001()
    {
        var d = Single("[Network] public class Net1 { static Net Define() => Input(4) | Linear(2); }", "DSL0001");
        Assert.Equal("[Network] class 'Net1' must be declared partial so the generator can add Forward, Backward and Summary", d.GetMessage());
        Assert.Equal("Net1", SpanText(d));
    }

    [Fact]
    public void Partial_class_with_a_definition_compiles() => Clean("[Network] public partial class Net1 { static Net Define() => Input(4) | Linear(2); }");

    [Fact]
    public void Class_without_Define_reports_DSL0002()
    {
        var d = Single("[Network] public partial class Net2 { static Net Build() => Input(4) | Linear(2); }", "DSL0002");
        Assert.Equal("[Network] class 'Net2' has no definition: add 'static Net Define() => Input(...) | ...;'", d.GetMessage());
        Assert.Equal("Net2", SpanText(d));
    }

    [Fact]
    public void Shape_argument_from_a_static_field_reports_DSL0003()
    {
        var d = Single("[Network] public partial class Net3 { static int width = 8; static Net Define() => Input(4) | Linear(width); }", "DSL0003");
        Assert.Equal("Linear(width): argument 'outFeatures' decides a shape and must be a compile-time constant (a literal, a const or a block parameter), but 'width' is not", d.GetMessage());
        Assert.Equal("width", SpanText(d));
    }

    [Fact]
    public void Shape_argument_from_a_const_compiles() => Clean("[Network] public partial class Net3 { const int width = 8; static Net Define() => Input(4) | Linear(width); }");

    [Fact]
    public void Non_constant_argument_passed_to_a_block_reports_DSL0003_at_the_block_call()
    {
        var d = Single("[Network] public partial class Net3b { static int w = 3; static Layer Hidden(int width) => Linear(width) | Relu; static Net Define() => Input(4) | Hidden(w); }", "DSL0003");
        Assert.Equal("Hidden(w): argument 'width' decides a shape and must be a compile-time constant (a literal, a const or a block parameter), but 'w' is not", d.GetMessage());
        Assert.Equal("w", SpanText(d));
    }

    [Fact]
    public void Layer_property_of_another_class_reports_DSL0004()
    {
        // A static method of a static class is a shared block (SharedBlockDiagnosticTests); a property is no block.
        var d = Single("public static class Other { public static Layer Mystery => Relu; }\n[Network] public partial class Net4 { static Net Define() => Input(4) | Other.Mystery | Linear(2); }", "DSL0004");
        Assert.Equal("'Mystery' is not a layer of Dsl.Layers nor a block of 'Net4'; a block is a static method returning Layer or Net, of the network class or of a static class", d.GetMessage());
        Assert.Equal("Other.Mystery", SpanText(d));
    }

    [Fact]
    public void Same_layer_as_a_block_of_the_class_compiles() => Clean("[Network] public partial class Net4 { static Layer Mystery() => Relu; static Net Define() => Input(4) | Mystery() | Linear(2); }");

    [Fact]
    public void Statement_outside_the_block_language_reports_DSL0044()
    {
        // if, for and foreach over constants are part of the language (LoopDiagnosticTests); a switch is not.
        var d = Single("[Network] public partial class Net5 { static Net Define() { var x = Input(4); switch (1) { default: break; } return x | Linear(2); } }", "DSL0044");
        Assert.StartsWith("The switch 'switch (1) { default: break; }' in 'Define' is not part of the block language", d.GetMessage());
        Assert.Equal("switch (1) { default: break; }", SpanText(d));
    }

    [Fact]
    public void Bindings_followed_by_a_return_compile() => Clean("[Network] public partial class Net5 { static Net Define() { var x = Input(4); var h = x | Linear(3); return h | Linear(2); } }");

    [Fact]
    public void Expression_outside_the_language_reports_DSL0005()
    {
        var d = Single("[Network] public partial class Net5b { static Net Define() => Input(4) | (true switch { _ => Linear(8) }); }", "DSL0005");
        Assert.Equal("'true switch { _ => Linear(8) }' is not part of the network language: use layers, blocks, '|', '+', '-', '*', '/' and 'var' bindings", d.GetMessage());
    }

    [Fact]
    public void Block_called_with_too_few_arguments_reports_DSL0006()
    {
        var result = GeneratorHarness.Run(Usings + "[Network] public partial class Net6 { static Layer Hidden(int width, double p) => Linear(width) | Dropout(p); static Net Define() => Input(4) | Hidden(8) | Linear(2); }");
        Assert.Empty(result.Exceptions);
        var d = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal("DSL0006", d.Id);
        Assert.Equal("Block 'Hidden' expects (int width, double p) but is called with (8)", d.GetMessage());
        Assert.Equal("Hidden(8)", SpanText(d));
        // The C# compiler reports its own error too; the generator adds the DSL's view and does not cascade.
        Assert.Contains(result.CompilationErrors, e => e.Id == "CS7036");
    }

    [Fact]
    public void Block_called_with_all_arguments_compiles() => Clean("[Network] public partial class Net6 { static Layer Hidden(int width, double p) => Linear(width) | Dropout(p); static Net Define() => Input(4) | Hidden(8, 0.5) | Linear(2); }");

    [Fact]
    public void Recursive_block_reports_DSL0007()
    {
        var d = Single("[Network] public partial class Net7 { static Layer Deep(int n) => Linear(n) | Deep(n); static Net Define() => Input(4) | Deep(3); }", "DSL0007");
        Assert.Equal("Block 'Deep' calls itself (through Define -> Deep -> Deep); blocks are expanded at compile time and cannot recurse", d.GetMessage());
        Assert.Equal("Deep(n)", SpanText(d));
    }

    [Fact]
    public void Linear_after_flatten_with_wrong_in_features_reports_DSL1001()
    {
        var d = Single("[Network] public partial class Net8 { static Net Define() => Input(20, 4, 4) | Flatten | Linear(500, 50) | Relu; }", "DSL1001");
        Assert.Equal("Linear(500, 50) expects [N,500] but receives [N,320] from Flatten of [N,20,4,4]", d.GetMessage());
        Assert.Equal("Linear(500, 50)", SpanText(d));
    }

    [Fact]
    public void Linear_after_flatten_with_right_in_features_compiles() => Clean("[Network] public partial class Net8 { static Net Define() => Input(20, 4, 4) | Flatten | Linear(320, 50) | Relu; }");

    [Fact]
    public void Layer_norm_whose_shape_is_not_the_trailing_dimensions_reports_DSL1001()
    {
        var d = Single("[Network] public partial class Ln1 { static Net Define() => Input(3, 4, 5) | LayerNorm(3, 5) | Flatten | Linear(2); }", "DSL1001");
        Assert.Equal("LayerNorm(3, 5) expects [N,...,3,5] but receives [N,3,4,5] from Input(3, 4, 5)", d.GetMessage());
        Assert.Equal("LayerNorm(3, 5)", SpanText(d));
    }

    [Fact]
    public void Layer_norm_over_the_trailing_dimensions_compiles()
        => Clean("[Network] public partial class Ln1 { static Net Define() => Input(3, 4, 5) | LayerNorm(4, 5) | LayerNorm(5, eps: 1e-6, elementwiseAffine: false) | Flatten | Linear(2); }");

    [Fact]
    public void Softplus_with_beta_zero_reports_DSL1002()
    {
        var d = Single("[Network] public partial class Sp1 { static Net Define() => Input(4) | Softplus(beta: 0) | Linear(2); }", "DSL1002");
        Assert.Equal("Softplus(beta: 0): beta must not be zero", d.GetMessage());
    }

    [Fact]
    public void Softplus_with_another_beta_and_threshold_compiles()
        => Clean("[Network] public partial class Sp1 { static Net Define() => Input(4) | Softplus(beta: 2, threshold: 10) | Softplus() | Linear(2); }");

    [Fact]
    public void Shape_error_inside_a_block_points_at_the_layer_and_the_block_call()
    {
        var source = "[Network] public partial class Net9 { static Layer Head(int features) => Linear(features, 10); static Net Define() => Input(32) | Head(64); }";
        var d = Single(source, "DSL1001");
        Assert.Equal("Linear(features, 10) expects [N,64] but receives [N,32] from Input(32)", d.GetMessage());
        Assert.Equal("Linear(features, 10)", SpanText(d));
        var callSite = Assert.Single(d.AdditionalLocations);
        Assert.Equal("Head(64)", callSite.SourceTree!.ToString().Substring(callSite.SourceSpan.Start, callSite.SourceSpan.Length));
    }

    [Fact]
    public void Dropout_probability_of_one_and_a_half_reports_DSL1002()
    {
        var d = Single("[Network] public partial class Net10 { static Net Define() => Input(4) | Dropout(1.5) | Linear(2); }", "DSL1002");
        Assert.Equal("Dropout(1.5): the drop probability must lie in [0, 1), got 1.5", d.GetMessage());
        Assert.Equal("Dropout(1.5)", SpanText(d));
    }

    [Fact]
    public void Linear_with_zero_outputs_reports_DSL1002()
    {
        var d = Single("[Network] public partial class Net10b { static Net Define() => Input(4) | Linear(0); }", "DSL1002");
        Assert.Equal("Linear(0): out-features must be positive, got 0", d.GetMessage());
    }

    [Fact]
    public void Sum_of_different_shapes_reports_DSL1003()
    {
        var d = Single("[Network] public partial class Net11 { static Net Define() { var x = Input(4); var a = x | Linear(3); var b = x | Linear(5); return a + b; } }", "DSL1003");
        Assert.Equal("'+' needs operands of the same shape but receives [N,3] from Linear(3) of [N,4] and [N,5] from Linear(5) of [N,4]", d.GetMessage());
        Assert.Equal("a + b", SpanText(d));
    }

    [Fact]
    public void Sum_of_equal_shapes_compiles() => Clean("[Network] public partial class Net11 { static Net Define() { var x = Input(4); var a = x | Linear(3); var b = x | Linear(3); return a + b; } }");

    [Fact]
    public void Two_layers_with_the_same_name_report_DSL1004()
    {
        var d = Single("[Network] public partial class Net12 { static Net Define() => Input(4) | Linear(3, name: \"enc\") | Linear(2, name: \"enc\"); }", "DSL1004");
        Assert.Equal("Layer name 'enc' is already used by Linear(3, name: \"enc\"); parameter names must be unique", d.GetMessage());
        Assert.Equal("Linear(2, name: \"enc\")", SpanText(d));
    }

    [Fact]
    public void Second_input_reports_DSL1005()
    {
        var d = Single("[Network] public partial class Net13 { static Net Define() => (Input(4) | Linear(2)) + Input(2); }", "DSL1005");
        Assert.Equal("Input(4) is already named 'input': with several inputs, name each one, for example Input(\"image\", 1, 28, 28) and Input(\"extra\", 4)", d.GetMessage());
        Assert.Equal("Input(2)", SpanText(d));
    }

    [Fact]
    public void Nested_network_class_reports_DSL2001()
    {
        var d = Single("public partial class Outer { [Network] public partial class Net14 { static Net Define() => Input(4) | Linear(2); } }", "DSL2001");
        Assert.Equal("[Network] class 'Net14' is nested in another type; declare it at namespace level", d.GetMessage());
    }

    [Fact]
    public void Network_with_a_base_class_reports_DSL2001()
    {
        var d = Single("public class Base { }\n[Network] public partial class Net15 : Base { static Net Define() => Input(4) | Linear(2); }", "DSL2001");
        Assert.Equal("[Network] class 'Net15' derives from 'Base'; the generator makes it derive from Dsl.Module, so declare no base class", d.GetMessage());
    }

    [Fact]
    public void Errors_leave_a_stub_so_the_rest_of_the_project_compiles()
    {
        var result = GeneratorHarness.Run(Usings + "[Network] public partial class Net16 { static Net Define() => Input(20, 4, 4) | Flatten | Linear(500, 50); }\n"
            + "public static class User { public static string S() => Net16.Summary; public static Module Make() => new Net16(Device.Cpu); }");
        Assert.Equal("DSL1001", Assert.Single(result.GeneratorDiagnostics).Id);
        Assert.Empty(result.CompilationErrors);
    }
}
