using Dsl.Tests.Generator;
using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.TensorDsl;

/// <summary>
/// The diagnostics of the tensor operations on values (DSL1060-DSL1068): each with its id, exact message (expected and
/// received shapes, the rule) and span, and a negative twin that compiles.
/// </summary>
public class TensorDiagnosticTests
{
    private static string Net(string name, string body)
        => $"[Network] public partial class {name} {{ static Net Define() {{ {body} }} }}";

    [Fact]
    public void MatMul_with_different_inner_dimensions_reports_DSL1060()
    {
        var d = Single(Net("M1", "var a = Input(\"a\", 3, 4); var b = Input(\"b\", 5, 2); return MatMul(a, b);"), "DSL1060");
        Assert.Equal("MatMul(a, b): [N,3,4] from Input(\"a\", 3, 4) and [N,5,2] from Input(\"b\", 5, 2) cannot be multiplied: the first has 4 columns but the second 5 rows; "
            + "torch.matmul multiplies [...,M,K] by [...,K,P]", d.GetMessage());
        Assert.Equal("MatMul(a, b)", DiagnosticAssertSpan(d));
    }

    [Fact]
    public void MatMul_of_symbolic_matrices_with_equal_inner_dimensions_compiles()
        => Clean(Net("M1", "var q = Input(\"q\", 2, \"T\", 4); var k = Input(\"k\", 2, 4, \"S\"); return MatMul(q, k);"));

    [Fact]
    public void MatMul_with_batches_that_do_not_broadcast_reports_DSL1061()
    {
        var d = Single(Net("M2", "var a = Input(\"a\", 2, 3, 4); var b = Input(\"b\", 5, 4, 2); return MatMul(a, b);"), "DSL1061");
        Assert.Equal("MatMul(a, b): the batch dimensions of [N,2,3,4] from Input(\"a\", 2, 3, 4) and [N,5,4,2] from Input(\"b\", 5, 4, 2) do not broadcast: "
            + "per-sample dimension -1 has sizes 2 and 5; compared from the right, each pair must be equal, one of them 1, or missing", d.GetMessage());
    }

    [Fact]
    public void MatMul_with_batches_that_broadcast_compiles()
        => Clean(Net("M2", "var a = Input(\"a\", 2, 1, 3, 4); var b = Input(\"b\", 5, 4, 2); return MatMul(a, b);"));

    [Fact]
    public void Subtraction_of_shapes_that_do_not_broadcast_reports_DSL1062()
    {
        var d = Single(Net("E1", "var a = Input(\"a\", \"T\", 4); var b = Input(\"b\", \"S\", 4); return a - b;"), "DSL1062");
        Assert.Equal("'-' cannot broadcast [N,T,4] from Input(\"a\", \"T\", 4) and [N,S,4] from Input(\"b\", \"S\", 4): per-sample dimension -2 has sizes T and S; "
            + "compared from the right, each pair of per-sample sizes must be equal (symbols exactly), one of them 1, or missing", d.GetMessage());
        Assert.Equal("a - b", DiagnosticAssertSpan(d));
    }

    [Fact]
    public void Subtraction_and_division_that_broadcast_compile()
        => Clean(Net("E1", "var a = Input(\"a\", \"T\", 4); var b = Input(\"b\", 4); var c = Input(\"c\", \"T\", 1); return (a - b) / c * 0.5 - 1.0;"));

    [Fact]
    public void Product_of_shapes_that_do_not_broadcast_keeps_DSL1016()
    {
        var d = Single(Net("E2", "var a = Input(\"a\", 3); var b = Input(\"b\", 4); return a * b;"), "DSL1016");
        Assert.Contains("'*' needs operands of the same shape but receives [N,3]", d.GetMessage());
    }

    [Fact]
    public void View_that_changes_the_element_count_reports_DSL1063()
    {
        var d = Single(Net("V1", "var x = Input(\"x\", \"T\", 12); return View(x, \"T\", 5, 2);"), "DSL1063");
        Assert.Equal("View(x, \"T\", 5, 2): [N,T,12] from Input(\"x\", \"T\", 12) cannot be viewed as [N,T,5,2]: it has 12*T elements per sample but the shape holds 10*T",
            d.GetMessage());
        Assert.Equal("View(x, \"T\", 5, 2)", DiagnosticAssertSpan(d));
    }

    [Fact]
    public void View_with_two_inferred_sizes_reports_DSL1063()
    {
        var d = Single(Net("V2", "var x = Input(\"x\", 12); return View(x, -1, -1);"), "DSL1063");
        Assert.Equal("View(x, -1, -1): [N,12] from Input(\"x\", 12) cannot be viewed as [N,-1,-1]: only one size may be -1", d.GetMessage());
    }

    [Fact]
    public void View_of_a_symbolic_length_into_heads_compiles()
        => Clean(Net("V1", "var x = Input(\"x\", \"T\", 12); return Reshape(View(x, -1, 3, 4), \"T\", 12) | Linear(2);"));

    [Fact]
    public void Softmax_over_a_dimension_out_of_range_reports_DSL1064()
    {
        var d = Single(Net("D1", "var x = Input(\"x\", 4, 5); return SoftmaxDim(x, dim: 3);"), "DSL1064");
        Assert.Equal("SoftmaxDim(x, dim: 3): dim 3 is out of range for [N,4,5] from Input(\"x\", 4, 5): expected 1..2 or -2..-1 (0 is the batch)", d.GetMessage());
        Assert.Equal("SoftmaxDim(x, dim: 3)", DiagnosticAssertSpan(d));
    }

    [Fact]
    public void Squeeze_unsqueeze_permute_transpose_and_slice_out_of_range_report_DSL1064()
    {
        Assert.Contains("dim 3 is out of range", Single(Net("D2", "var x = Input(\"x\", 1, 5); return Squeeze(x, 3);"), "DSL1064").GetMessage());
        Assert.Contains("expected 1..3 or -3..-1", Single(Net("D3", "var x = Input(\"x\", 1, 5); return Unsqueeze(x, 4);"), "DSL1064").GetMessage());
        Assert.Contains("dim 0, 2 is out of range", Single(Net("D4", "var x = Input(\"x\", 4, 5); return Transpose(x, 0, 2);"), "DSL1064").GetMessage());
        Assert.Contains("dim 0 is out of range", Single(Net("D5", "var x = Input(\"x\", 4, 5); return Slice(x, 0, 0, 1);"), "DSL1064").GetMessage());
    }

    [Fact]
    public void Softmax_over_the_batch_free_dimensions_compiles()
        => Clean(Net("D1", "var x = Input(\"x\", 4, 5); return SoftmaxDim(x, dim: 1) + SoftmaxDim(x, dim: -1) + Unsqueeze(Squeeze(Unsqueeze(x, -1), 3), 1) | Flatten | Linear(2);"));

    [Fact]
    public void Squeeze_of_a_dimension_that_is_not_one_reports_DSL1065()
    {
        var d = Single(Net("Q1", "var x = Input(\"x\", \"T\", 4); return Squeeze(x, 1);"), "DSL1065");
        Assert.Equal("Squeeze(x, 1): dimension 1 of [N,T,4] from Input(\"x\", \"T\", 4) has size T; only a dimension of size 1 can be removed", d.GetMessage());
    }

    [Fact]
    public void Squeeze_of_a_dimension_of_one_compiles()
        => Clean(Net("Q1", "var x = Input(\"x\", \"T\", 1); return Unsqueeze(Squeeze(x, -1), 2) | Linear(2);"));

    [Fact]
    public void Permute_that_is_not_a_permutation_reports_DSL1066()
    {
        var d = Single(Net("P1", "var x = Input(\"x\", 2, 3, 4); return Permute(x, 0, 2, 2, 1);"), "DSL1066");
        Assert.Equal("Permute(x, 0, 2, 2, 1): (0, 2, 2, 1) is not a permutation of the 4 dimensions of [N,2,3,4] from Input(\"x\", 2, 3, 4): "
            + "expected each of 0..3 once, the batch (0) first", d.GetMessage());
    }

    [Fact]
    public void Permute_that_moves_the_batch_reports_DSL1066()
        => Single(Net("P2", "var x = Input(\"x\", 2, 3); return Permute(x, 1, 0, 2);"), "DSL1066");

    [Fact]
    public void Permute_with_negative_dims_compiles()
        => Clean(Net("P1", "var x = Input(\"x\", 2, \"T\", 4); return Permute(x, 0, -2, 1, -1) | Linear(3);"));

    [Fact]
    public void Mask_of_another_length_symbol_reports_DSL1067()
    {
        var d = Single(Net("K1", "var s = Input(\"s\", 2, \"T\", \"S\"); var m = Mask(\"m\", \"T\"); return MaskedFill(s, m, -1e9);"), "DSL1067");
        Assert.Equal("MaskedFill(s, m, -1e9): the mask [N,T] from Mask(\"m\", \"T\") does not broadcast to [N,2,T,S] from Input(\"s\", 2, \"T\", \"S\"): "
            + "per-sample dimension -1 has sizes S and T; the mask's per-sample sizes, compared from the right, must be the value's (symbols exactly), 1, or missing",
            d.GetMessage());
        Assert.Equal("MaskedFill(s, m, -1e9)", DiagnosticAssertSpan(d));
    }

    [Fact]
    public void Key_mask_and_causal_mask_over_scores_compile()
        => Clean(Net("K1", "var s = Input(\"s\", 2, \"T\", \"S\"); var m = Mask(\"m\", \"S\"); var c = Input(\"c\", \"T\", \"S\"); "
            + "return SoftmaxDim(MaskedFill(MaskedFill(s, 1.0 - m, double.NegativeInfinity), c, -1e9), dim: -1);"));

    [Fact]
    public void Slice_outside_its_dimension_reports_DSL1068()
    {
        var d = Single(Net("L1", "var x = Input(\"x\", \"T\", 6); return Slice(x, 2, 4, 8);"), "DSL1068");
        Assert.Equal("Slice(x, 2, 4, 8): positions 4 to 8 do not lie in dimension 2 of [N,T,6] from Input(\"x\", \"T\", 6): expected 0 <= start < end <= 6", d.GetMessage());
    }

    [Fact]
    public void Slices_that_split_a_dimension_compile()
        => Clean(Net("L1", "var x = Input(\"x\", \"T\", 6); return Slice(x, 2, 0, 2) + Slice(x, -1, -2, 6) | Linear(2);"));

    private static string DiagnosticAssertSpan(Microsoft.CodeAnalysis.Diagnostic d) => SpanText(d);
}
