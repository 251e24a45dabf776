using Dsl.Tests.Generator;
using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Transfer;

/// <summary>(height, width) pairs and ceil mode at compile time: each diagnostic with its negative twin.</summary>
public class PairDiagnosticTests
{
    [Fact]
    public void Pooling_padding_past_half_the_window_width_reports_DSL1080()
    {
        var d = Single("[Network] public partial class P1 { static Net Define() => Input(1, 8, 8) | MaxPool2d((3, 2), padding: (1, 2)); }", "DSL1080");
        Assert.Equal("MaxPool2d((3, 2), padding: (1, 2)): the padding 2 along the width is more than half the window 2; PyTorch's pooling takes at most half, so every window keeps a real value", d.GetMessage());
        Assert.Equal("MaxPool2d((3, 2), padding: (1, 2))", SpanText(d.Location));
    }

    [Fact]
    public void Pooling_padding_of_half_the_window_compiles()
        => Clean("[Network] public partial class P1 { static Net Define() => Input(1, 8, 8) | MaxPool2d((3, 2), padding: (1, 0), ceilMode: true) | AvgPool2d(2, padding: 1, ceilMode: true); }");

    [Fact]
    public void Square_pooling_padding_past_half_reports_DSL1080_along_the_height()
    {
        var d = Single("[Network] public partial class P2 { static Net Define() => Input(1, 8, 8) | AvgPool2d(2, stride: 1, padding: 2); }", "DSL1080");
        Assert.StartsWith("AvgPool2d(2, stride: 1, padding: 2): the padding 2 along the height is more than half the window 2", d.GetMessage());
    }

    [Fact]
    public void Rectangular_kernel_taller_than_the_image_reports_DSL1006_with_both_sizes()
    {
        var d = Single("[Network] public partial class K1 { static Net Define() => Input(1, 4, 9) | Conv2d(2, kernel: (5, 1)); }", "DSL1006");
        Assert.Equal("Conv2d(2, kernel: (5, 1)): the 5x1 window does not fit the padded input 4x9 ([N,1,4,9] from Input(1, 4, 9))", d.GetMessage());
    }

    [Fact]
    public void Rectangular_kernel_with_padding_compiles()
        => Clean("[Network] public partial class K1 { static Net Define() => Input(1, 4, 9) | Conv2d(2, kernel: (5, 1), padding: (1, 0)) | Conv2d(2, kernel: (1, 7), padding: \"same\"); }");

    [Fact]
    public void A_pair_holding_a_block_parameter_is_not_a_constant()
    {
        var d = Single("[Network] public partial class K2 { static Layer B(int k) => Conv2d(2, kernel: (1, k)); static Net Define() => Input(1, 4, 9) | B(3); }", "DSL0003");
        Assert.Contains("kernel", d.GetMessage());
    }

    [Fact]
    public void A_square_size_from_a_block_parameter_compiles()
        => Clean("[Network] public partial class K2 { static Layer B(int k) => Conv2d(2, kernel: k, padding: (0, 1)); static Net Define() => Input(1, 4, 9) | B(3); }");
}
