using Microsoft.CodeAnalysis;
using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Generator;

/// <summary>
/// A definition that exists but has the wrong form gets its own diagnostic at the method (DSL0030, DSL0031) instead of
/// the class-level "no definition" (DSL0002), each with a negative twin.
/// </summary>
public class DefineDiagnosticTests
{
    [Fact]
    public void Instance_Define_reports_DSL0030_at_the_method()
    {
        var d = Single("[Network] public partial class D1 { Net Define() => Input(4) | Linear(2); }", "DSL0030");
        Assert.Equal("'D1.Define' is an instance method; the definition is read at compile time, never called on an object: make it static", d.GetMessage());
        Assert.Equal("Define", SpanText(d));
    }

    [Fact]
    public void Static_Define_compiles() => Clean("[Network] public partial class D1 { static Net Define() => Input(4) | Linear(2); }");

    [Fact]
    public void Define_with_parameters_reports_DSL0030()
    {
        var d = Single("[Network] public partial class D2 { static Net Define(int width) => Input(4) | Linear(width); }", "DSL0030");
        Assert.StartsWith("'D2.Define' takes 1 parameter(s); a network's definition takes none", d.GetMessage());
        Assert.Equal("Define", SpanText(d));
    }

    [Fact]
    public void Parameterised_block_with_another_name_compiles()
        => Clean("[Network] public partial class D2 { static Net Body(int width) => Input(4) | Linear(width); static Net Define() => Body(2); }");

    [Fact]
    public void Define_returning_a_layer_reports_DSL0030()
    {
        var d = Single("[Network] public partial class D3 { static Layer Define() => Linear(2); }", "DSL0030");
        Assert.Equal("'D3.Define' returns 'Dsl.Layer'; it must return Net (a block returning Layer needs another name)", d.GetMessage());
    }

    [Fact]
    public void Second_Define_overload_reports_DSL0031_at_the_overload()
    {
        var d = Single("[Network] public partial class D4 { static Net Define() => Input(4) | Linear(2); static Net Define(int width) => Input(4) | Linear(width); }", "DSL0031");
        Assert.Equal("'D4' declares more than one Define: 'Define(int width)' is another overload; a network has exactly one 'static Net Define()' (give blocks other names)", d.GetMessage());
        Assert.Equal("Define", SpanText(d));
        Assert.Contains("Define(int width)", d.Location.SourceTree!.ToString().Substring(d.Location.SourceSpan.Start, 40));
    }

    [Fact]
    public void Class_without_any_Define_still_reports_DSL0002()
        => Single("[Network] public partial class D5 { static Net Build() => Input(4) | Linear(2); }", "DSL0002");
}
