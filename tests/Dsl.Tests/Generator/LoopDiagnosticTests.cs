using Microsoft.CodeAnalysis;
using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Generator;

/// <summary>
/// Loops and conditionals over compile-time constants in block bodies (issue 9): unrolled by the generator, with
/// DSL0042 (no end), DSL0043 (not constant), DSL0044 (outside the subset) and DSL0045 (which iteration failed).
/// </summary>
public class LoopDiagnosticTests
{
    [Fact]
    public void A_for_loop_unrolls_into_numbered_layers()
    {
        var result = GeneratorHarness.Run(Usings + "[Network] public partial class Deep { static Net Define() { var net = Input(4); for (int i = 0; i < 3; i++) { net = net | Linear(8 * (i + 1)) | Relu; } return net | Linear(2); } }");
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        string code = Assert.Single(result.Generated);
        Assert.Contains("fc3: Linear(24)", code);
        Assert.Contains("fc4: Linear(2)", code);
        Assert.DoesNotContain("fc5", code);
    }

    [Fact]
    public void Foreach_over_a_parameter_an_if_and_a_conditional_expression_compile()
        => Clean("public static class B { public static Net Stack(Net x, int[] widths, bool pool) { var net = x; foreach (var w in widths) { net = net | Conv2d(w, kernel: 3, padding: 1) | (w > 4 ? Relu : Tanh); if (pool && w != 2) net = net | MaxPool2d(2); } return net; } }\n"
            + "[Network] public partial class Stacked { static Net Define() => B.Stack(Input(1, 8, 8), new[] { 4, 8 }, pool: true) | Flatten | Linear(3); }");

    [Fact]
    public void A_loop_that_never_ends_reports_DSL0042()
    {
        var d = Single("[Network] public partial class Endless { static Net Define() { var net = Input(4); for (int i = 0; i < 10; i--) { net = net | Relu; } return net; } }", "DSL0042");
        Assert.Equal("'for (int i = 0; i < 10; i--)' in 'Define' does not end within 1,000 iterations; a block's loops are unrolled at compile time", d.GetMessage());
        Assert.Equal("for (int i = 0; i < 10; i--)", SpanText(d));
    }

    [Fact]
    public void The_same_loop_counting_up_compiles()
        => Clean("[Network] public partial class Ends { static Net Define() { var net = Input(4); for (int i = 0; i < 10; i++) { net = net | Relu; } return net; } }");

    [Fact]
    public void A_bound_that_is_not_constant_reports_DSL0043()
    {
        var d = Single("[Network] public partial class Bound { static int n = 3; static Net Define() { var net = Input(4); for (int i = 0; i < n; i++) { net = net | Relu; } return net; } }", "DSL0043");
        Assert.StartsWith("The condition 'for (int i = 0; i < n; i++)' in 'Define' is not a compile-time constant: 'n' is a field that is not const;", d.GetMessage());
        Assert.Equal("n", SpanText(d));
    }

    [Fact]
    public void A_const_bound_compiles()
        => Clean("[Network] public partial class Bound { const int n = 3; static Net Define() { var net = Input(4); for (int i = 0; i < n; i++) { net = net | Relu; } return net; } }");

    [Fact]
    public void A_while_loop_reports_DSL0044()
    {
        var d = Single("[Network] public partial class Loops { static Net Define() { var net = Input(4); while (true) { net = net | Relu; } } }", "DSL0044");
        Assert.StartsWith("The while loop 'while (true) { net = net | Relu; }' in 'Define' is not part of the block language", d.GetMessage());
        Assert.StartsWith("while (true)", SpanText(d));
    }

    [Fact]
    public void An_error_in_one_iteration_reports_DSL0045_naming_the_iteration()
    {
        var result = GeneratorHarness.Run(Usings + "[Network] public partial class Iter { static Net Define() { var net = Input(8); for (int i = 0; i < 4; i++) { net = net | Linear(8, i == 2 ? 16 : 8); } return net; } }");
        var error = Assert.Single(result.GeneratorDiagnostics, d => d.Id != "DSL0045");
        var note = Assert.Single(result.GeneratorDiagnostics, d => d.Id == "DSL0045");
        Assert.Equal(DiagnosticSeverity.Error, note.Severity);
        Assert.Equal(error.Location, note.Location);
        Assert.Equal("Linear(8, i == 2 ? 16 : 8)", SpanText(note));
        Assert.Equal($"The {error.Id} above happens in iteration i = 3 of 'for (int i = 0; i < 4; i++)' in 'Define'", note.GetMessage());
    }

    [Fact]
    public void The_same_loop_with_matching_widths_compiles()
        => Clean("[Network] public partial class Iter { static Net Define() { var net = Input(8); for (int i = 0; i < 4; i++) { net = net | Linear(8, i == 3 ? 16 : 8); } return net; } }");

    [Fact]
    public void An_error_in_a_foreach_over_a_field_names_the_element()
    {
        var result = GeneratorHarness.Run(Usings + "public static class Widths { static readonly int[] List = { 2, 0, 4 }; public static Layer Stack() { Layer layers = Relu; foreach (var w in List) { layers = layers | Linear(w); } return layers; } }\n"
            + "[Network] public partial class Each { static Net Define() => Input(4) | Widths.Stack(); }");
        var note = Assert.Single(result.GeneratorDiagnostics, d => d.Id == "DSL0045");
        Assert.Contains("iteration w = 0 of 'foreach (var w in List)' in 'Widths.Stack'", note.GetMessage());
        Assert.Equal("Linear(w)", SpanText(note));
    }

    [Fact]
    public void A_conditional_expression_over_a_constant_takes_one_branch()
        => Clean("[Network] public partial class Net5b { const bool Big = true; static Net Define() => Input(4) | (Big ? Linear(8) : Linear(2)); }");

    [Fact]
    public void A_conditional_expression_over_a_field_reports_DSL0043()
    {
        var d = Single("[Network] public partial class Net5c { static bool Big = true; static Net Define() => Input(4) | (Big ? Linear(8) : Linear(2)); }", "DSL0043");
        Assert.Contains("'Big' is a field that is not const", d.GetMessage());
    }
}
