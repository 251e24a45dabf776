using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Generator;

/// <summary>
/// The diagnostics of symbolic dimensions and typed inputs (DSL0012, DSL0013, DSL1012-DSL1014, and the shape checks that
/// compare symbols), each with its id, exact message and span, and a negative twin that compiles.
/// </summary>
public class SymbolDiagnosticTests
{
    [Fact]
    public void Symbol_that_is_an_expression_reports_DSL0012()
    {
        var d = Single("[Network] public partial class S1 { static Net Define() => Input(\"x\", \"T-1\", 4) | Linear(2); }", "DSL0012");
        Assert.Equal("Input(\"x\", \"T-1\", 4): \"T-1\" is not a dimension: give a positive size or a symbol, a letter then letters or digits (at most 16) other than N, the batch", d.GetMessage());
        Assert.Equal("Input(\"x\", \"T-1\", 4)", SpanText(d));
    }

    [Fact]
    public void The_batch_symbol_N_reports_DSL0012()
    {
        var d = Single("[Network] public partial class S1b { static Net Define() => Input(\"x\", \"N\", 4) | Linear(2); }", "DSL0012");
        Assert.Equal("Input(\"x\", \"N\", 4): \"N\" is not a dimension: give a positive size or a symbol, a letter then letters or digits (at most 16) other than N, the batch", d.GetMessage());
    }

    [Fact]
    public void Symbol_named_T_compiles() => Clean("[Network] public partial class S1 { static Net Define() => Input(\"x\", \"T\", 4) | Linear(2); }");

    [Fact]
    public void Input_named_like_a_symbols_local_reports_DSL0013()
    {
        var d = Single("[Network] public partial class S2 { static Net Define() { var x = Input(\"x\", \"T\", 4); var m = Mask(\"dimT\", \"T\"); return x | Linear(2); } }", "DSL0013");
        Assert.Equal("Mask(\"dimT\", \"T\"): the input name 'dimT' is the local that holds symbol T in the generated Forward; rename the input", d.GetMessage());
        Assert.Equal("Mask(\"dimT\", \"T\")", SpanText(d));
    }

    [Fact]
    public void Input_named_dimS_beside_symbol_T_compiles()
        => Clean("[Network] public partial class S2 { static Net Define() { var x = Input(\"x\", \"T\", 4); var m = Mask(\"dimS\", \"T\"); return x | Linear(2); } }");

    [Fact]
    public void Convolution_of_a_symbolic_shape_reports_DSL1012()
    {
        var d = Single("[Network] public partial class S3 { static Net Define() => Input(\"x\", 3, \"H\", \"W\") | Conv2d(4, kernel: 3); }", "DSL1012");
        Assert.Equal("Conv2d(4, kernel: 3) needs fixed sizes but receives [N,3,H,W] from Input(\"x\", 3, \"H\", \"W\"): H, W is only bound when Forward runs", d.GetMessage());
        Assert.Equal("Conv2d(4, kernel: 3)", SpanText(d));
    }

    [Fact]
    public void Flatten_of_a_sequence_reports_DSL1012()
    {
        var d = Single("[Network] public partial class S3b { static Net Define() => Input(\"x\", \"T\", 8) | Flatten | Linear(2); }", "DSL1012");
        Assert.Equal("Flatten needs fixed sizes but receives [N,T,8] from Input(\"x\", \"T\", 8): T is only bound when Forward runs", d.GetMessage());
    }

    [Fact]
    public void Convolution_of_a_fixed_shape_compiles() => Clean("[Network] public partial class S3 { static Net Define() => Input(\"x\", 3, 8, 8) | Conv2d(4, kernel: 3); }");

    [Fact]
    public void Linear_whose_in_features_would_be_a_symbol_reports_DSL1013()
    {
        var d = Single("[Network] public partial class S4 { static Net Define() => Input(\"x\", 8, \"T\") | Relu | Linear(2); }", "DSL1013");
        Assert.Equal("Linear(2) needs a fixed in-features (the last dimension) but receives [N,8,T] from Relu of [N,8,T], where it is T, only bound when Forward runs", d.GetMessage());
        Assert.Equal("Linear(2)", SpanText(d));
    }

    [Fact]
    public void Linear_on_the_fixed_last_dimension_of_a_sequence_compiles()
        => Clean("[Network] public partial class S4 { static Net Define() => Input(\"x\", \"T\", 8) | Relu | Linear(2); }");

    [Fact]
    public void Linear_with_wrong_in_features_prints_the_symbol_in_DSL1001()
    {
        var d = Single("[Network] public partial class S4b { static Net Define() => Input(\"x\", \"T\", 8) | Linear(6, 2); }", "DSL1001");
        Assert.Equal("Linear(6, 2) expects [N,T,6] but receives [N,T,8] from Input(\"x\", \"T\", 8)", d.GetMessage());
    }

    [Fact]
    public void Layer_applied_to_token_ids_reports_DSL1014()
    {
        var d = Single("[Network] public partial class S5 { static Net Define() { var x = Input(\"x\", \"T\", 4); var t = Tokens(\"tokens\", \"T\"); return t | Relu; } }", "DSL1014");
        Assert.Equal("Relu receives Tokens(\"tokens\", \"T\"), int64 token ids: only Embedding takes token ids, and a mask goes to a layer's mask: argument (MaxOverTime(mask: m)); feed other layers float32 values", d.GetMessage());
        Assert.Equal("Relu", SpanText(d));
    }

    [Fact]
    public void Mask_added_to_a_value_reports_DSL1014()
    {
        var d = Single("[Network] public partial class S5b { static Net Define() { var x = Input(\"x\", \"T\"); var m = Mask(\"mask\", \"T\"); return (x | Relu) + m; } }", "DSL1014");
        Assert.Equal("+ receives Mask(\"mask\", \"T\"), a float32 0/1 mask: only Embedding takes token ids, and a mask goes to a layer's mask: argument (MaxOverTime(mask: m)); feed other layers float32 values", d.GetMessage());
    }

    [Fact]
    public void Token_and_mask_inputs_only_declared_compile()
        => Clean("[Network] public partial class S5 { static Net Define() { var x = Input(\"x\", \"T\", 4); var t = Tokens(\"tokens\", \"T\"); var m = Mask(\"mask\", \"T\"); return x | Relu; } }");

    [Fact]
    public void A_symbol_added_to_a_constant_reports_DSL1003_naming_both()
    {
        var d = Single("[Network] public partial class S6 { static Net Define() { var x = Input(\"x\", \"T\", 4); var y = Input(\"y\", 5, 4); return x + y; } }", "DSL1003");
        Assert.Equal("'+' needs operands of the same shape but receives [N,T,4] from Input(\"x\", \"T\", 4) and [N,5,4] from Input(\"y\", 5, 4)", d.GetMessage());
        Assert.Equal("x + y", SpanText(d));
    }

    [Fact]
    public void Two_different_symbols_never_agree()
    {
        var d = Single("[Network] public partial class S7 { static Net Define() { var x = Input(\"x\", \"T\", 4); var y = Input(\"y\", \"S\", 4); return x + y; } }", "DSL1003");
        Assert.Equal("'+' needs operands of the same shape but receives [N,T,4] from Input(\"x\", \"T\", 4) and [N,S,4] from Input(\"y\", \"S\", 4)", d.GetMessage());
    }

    [Fact]
    public void Equal_symbols_agree() => Clean("[Network] public partial class S7 { static Net Define() { var x = Input(\"x\", \"T\", 4); var y = Input(\"y\", \"T\", 4); return x + y; } }");

    [Fact]
    public void A_residual_over_a_sequence_compiles()
        => Clean("[Network] public partial class S8 { static Net Define() => Input(\"x\", \"T\", 4) | Residual(Linear(4) | Tanh) | Linear(2); }");

    [Fact]
    public void Outputs_inside_a_pipe_reports_DSL0014()
    {
        var d = Single("[Network] public partial class O1 { static Net Define() { var x = Input(4); var a = x | Linear(2); return Outputs(a, x) | Relu; } }", "DSL0014");
        Assert.Equal("Outputs(a, x): Outputs(...) is only what Define() returns: 'return Outputs(a, b);'", d.GetMessage());
        Assert.Equal("Outputs(a, x)", SpanText(d));
    }

    [Fact]
    public void Outputs_of_one_value_reports_DSL0014()
    {
        var d = Single("[Network] public partial class O2 { static Net Define() { var x = Input(4); var a = x | Linear(2); return Outputs(a); } }", "DSL0014");
        Assert.Equal("Outputs(a): Outputs takes at least two values, for example Outputs(logits, state); return a single value as it is", d.GetMessage());
    }

    [Fact]
    public void Outputs_returned_from_Define_compiles()
        => Clean("[Network] public partial class O1 { static Net Define() { var x = Input(4); var a = x | Linear(2); return Outputs(a, x | Linear(3)); } }");

    [Fact]
    public void Token_ids_returned_as_an_output_report_DSL1014()
    {
        var d = Single("[Network] public partial class O3 { static Net Define() { var x = Input(\"x\", \"T\", 4); var t = Tokens(\"tokens\", \"T\"); return Outputs(x | Relu, t); } }", "DSL1014");
        Assert.Equal("t", SpanText(d));
    }
}
