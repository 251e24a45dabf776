using Microsoft.CodeAnalysis;
using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Generator;

/// <summary>The shape checks of convolutional networks: one test per diagnostic with its negative twin.</summary>
public class CnnDiagnosticTests
{
    [Fact]
    public void Fifth_pooling_on_28x28_reports_DSL1006()
    {
        const string source = "[Network] public partial class P5 { static Net Define() => Input(1, 28, 28) | MaxPool2d(2) | MaxPool2d(2) | MaxPool2d(2) | MaxPool2d(2) | MaxPool2d(2); }";
        var d = Single(source, "DSL1006");
        Assert.Equal("MaxPool2d(2): the 2x2 window does not fit the padded input 1x1 ([N,1,1,1] from MaxPool2d(2) of [N,1,3,3])", d.GetMessage());
        // The span is the fifth pooling, not the first.
        Assert.Equal(Usings.Length + source.LastIndexOf("MaxPool2d(2)", StringComparison.Ordinal), d.Location.SourceSpan.Start);
        Assert.Equal("MaxPool2d(2)", SpanText(d.Location));
    }

    [Fact]
    public void Four_poolings_on_28x28_compile() => Clean("[Network] public partial class P4 { static Net Define() => Input(1, 28, 28) | MaxPool2d(2) | MaxPool2d(2) | MaxPool2d(2) | MaxPool2d(2); }");

    [Fact]
    public void Dilated_kernel_larger_than_the_image_reports_DSL1006()
    {
        var d = Single("[Network] public partial class D1 { static Net Define() => Input(3, 8, 8) | Conv2d(4, kernel: 3, dilation: 4); }", "DSL1006");
        Assert.Equal("Conv2d(4, kernel: 3, dilation: 4): the 9x9 (kernel 3 dilated by 4) window does not fit the padded input 8x8 ([N,3,8,8] from Input(3, 8, 8))", d.GetMessage());
        Assert.Equal("Conv2d(4, kernel: 3, dilation: 4)", SpanText(d.Location));
    }

    [Fact]
    public void Residual_whose_body_changes_the_shape_reports_DSL1007_and_proposes_a_projection()
    {
        var d = Single("[Network] public partial class R1 { static Net Define() => Input(16, 8, 8) | Residual(Conv2d(32, kernel: 3, stride: 2, padding: 1)); }", "DSL1007");
        Assert.Equal("Residual: the body maps [N,16,8,8] to [N,32,4,4] but the shortcut carries [N,16,8,8]; add a projection, for example Residual(body, projection: Conv2d(32, kernel: 1, stride: 2))", d.GetMessage());
        Assert.Equal("Residual(Conv2d(32, kernel: 3, stride: 2, padding: 1))", SpanText(d.Location));
    }

    [Fact]
    public void Residual_with_the_proposed_projection_compiles()
        => Clean("[Network] public partial class R1 { static Net Define() => Input(16, 8, 8) | Residual(Conv2d(32, kernel: 3, stride: 2, padding: 1), projection: Conv2d(32, kernel: 1, stride: 2)); }");

    [Fact]
    public void Residual_error_inside_a_block_also_points_at_the_block_call()
    {
        var d = Single("[Network] public partial class R2 { static Layer Block(int c) => Residual(Conv2d(c, kernel: 3, padding: 1)); static Net Define() => Input(8, 6, 6) | Block(16); }", "DSL1007");
        Assert.Equal("Residual(Conv2d(c, kernel: 3, padding: 1))", SpanText(d.Location));
        Assert.Equal("Block(16)", SpanText(Assert.Single(d.AdditionalLocations)));
    }

    [Fact]
    public void Concat_of_branches_with_different_spatial_sizes_reports_DSL1008()
    {
        var d = Single("[Network] public partial class C1 { static Net Define() => Input(4, 8, 8) | Concat(Conv2d(2, kernel: 1), Conv2d(2, kernel: 3)); }", "DSL1008");
        Assert.Equal("Concat: branches must agree on every dimension but channels, but receive [N,2,8,8] from Conv2d(2, kernel: 1) of [N,4,8,8], [N,2,6,6] from Conv2d(2, kernel: 3) of [N,4,8,8]", d.GetMessage());
        Assert.Equal("Concat(Conv2d(2, kernel: 1), Conv2d(2, kernel: 3))", SpanText(d.Location));
    }

    [Fact]
    public void Concat_of_same_size_branches_compiles()
        => Clean("[Network] public partial class C1 { static Net Define() => Input(4, 8, 8) | Concat(Conv2d(2, kernel: 1), Conv2d(2, kernel: 3, padding: 1), Identity); }");

    [Fact]
    public void Groups_that_do_not_divide_the_channels_report_DSL1009()
    {
        var d = Single("[Network] public partial class G1 { static Net Define() => Input(6, 8, 8) | Conv2d(8, kernel: 3, groups: 4); }", "DSL1009");
        Assert.Equal("Conv2d(8, kernel: 3, groups: 4): groups=4 must divide both the 6 input channels and the 8 output channels", d.GetMessage());
        Assert.Equal("Conv2d(8, kernel: 3, groups: 4)", SpanText(d.Location));
    }

    [Fact]
    public void Groups_that_divide_the_channels_compile() => Clean("[Network] public partial class G1 { static Net Define() => Input(6, 8, 8) | Conv2d(8, kernel: 3, groups: 2); }");

    [Fact]
    public void Linear_with_stated_in_features_that_disagree_after_convolutions_reports_DSL1001()
    {
        var d = Single("[Network] public partial class L1 { static Net Define() => Input(1, 28, 28) | Conv2d(20, kernel: 5) | MaxPool2d(2) | Flatten | Linear(500, 50); }", "DSL1001");
        Assert.Equal("Linear(500, 50) expects [N,500] but receives [N,2880] from Flatten of [N,20,12,12]", d.GetMessage());
    }

    [Fact]
    public void Convolution_on_a_flat_input_reports_DSL1001()
    {
        var d = Single("[Network] public partial class L2 { static Net Define() => Input(784) | Conv2d(8, kernel: 3); }", "DSL1001");
        Assert.Equal("Conv2d(8, kernel: 3) expects [N,C,H,W] but receives [N,784] from Input(784)", d.GetMessage());
    }

    [Fact]
    public void Same_padding_with_stride_two_reports_DSL1002()
    {
        var d = Single("[Network] public partial class S1 { static Net Define() => Input(1, 8, 8) | Conv2d(4, kernel: 3, padding: \"same\", stride: 2); }", "DSL1002");
        Assert.Equal("Conv2d(4, kernel: 3, padding: \"same\", stride: 2): padding \"same\" needs stride 1, as in PyTorch", d.GetMessage());
    }

    [Fact]
    public void Same_padding_with_an_even_kernel_keeps_the_size()
    {
        var result = GeneratorHarness.Run(Usings + "[Network] public partial class S2 { static Net Define() => Input(1, 8, 8) | Conv2d(4, kernel: 4, padding: \"same\"); }");
        Assert.Empty(result.GeneratorDiagnostics);
        var code = Assert.Single(result.Generated);
        Assert.Contains("[N,1,8,8] -> [N,4,8,8]", code);
        Assert.Contains("PadTop: 1, PadLeft: 1, PadBottom: 2, PadRight: 2", code);
    }

    [Fact]
    public void Arithmetic_on_block_parameters_is_folded_and_division_by_zero_is_refused()
    {
        Clean("[Network] public partial class A1 { static Layer B(int g) => Conv2d(4 * g, kernel: 2 * g - 1, padding: g - 1); static Net Define() => Input(1, 8, 8) | B(2); }");
        var d = Single("[Network] public partial class A2 { static Layer B(int g) => Linear(8 / g); static Net Define() => Input(4) | B(0); }", "DSL0003");
        Assert.Equal("8 / g", SpanText(d.Location));
    }
}
