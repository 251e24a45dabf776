using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Generator;

/// <summary>
/// The diagnostics of the sequence language (DSL1015-DSL1018 and the symbolic checks of Concat and <c>*</c>), each with its
/// id, exact message and span, and a negative twin that compiles.
/// </summary>
public class SeqDiagnosticTests
{
    private static string Net(string body) => "[Network] public partial class Q { static Net Define() { " + body + " } }";

    [Fact]
    public void Embedding_fed_a_float_input_reports_DSL1015()
    {
        var d = Single(Net("var x = Input(\"x\", \"T\"); return x | Embedding(10, 4) | Linear(2);"), "DSL1015");
        Assert.Equal("Embedding(10, 4) takes int64 token ids from Tokens(...) but receives [N,T], float32, from Input(\"x\", \"T\")", d.GetMessage());
        Assert.Equal("Embedding(10, 4)", SpanText(d));
    }

    [Fact]
    public void Embedding_fed_a_mask_reports_DSL1015()
    {
        var d = Single(Net("var m = Mask(\"m\", \"T\"); return m | Embedding(10, 4) | Linear(2);"), "DSL1015");
        Assert.Equal("Embedding(10, 4) takes int64 token ids from Tokens(...) but receives [N,T], a float32 0/1 mask, from Mask(\"m\", \"T\")", d.GetMessage());
    }

    [Fact]
    public void Embedding_fed_token_ids_compiles()
        => Clean(Net("var t = Tokens(\"tokens\", \"T\"); return t | Embedding(10, 4, paddingIdx: 0) | Linear(2);"));

    [Fact]
    public void A_padding_index_outside_the_table_reports_DSL1002()
    {
        var d = Single(Net("var t = Tokens(\"tokens\", \"T\"); return t | Embedding(10, 4, paddingIdx: 10) | Linear(2);"), "DSL1002");
        Assert.Equal("Embedding(10, 4, paddingIdx: 10): paddingIdx must lie in [-10, 10) (negative counts from the end, as in PyTorch), got 10", d.GetMessage());
    }

    [Fact]
    public void A_product_of_differing_symbols_reports_DSL1016()
    {
        var d = Single(Net("var a = Input(\"a\", \"T\", 4); var b = Input(\"b\", \"S\", 4); return (a * b) | Linear(2);"), "DSL1016");
        Assert.Equal("'*' needs operands of the same shape but receives [N,T,4] from Input(\"a\", \"T\", 4) and [N,S,4] from Input(\"b\", \"S\", 4)", d.GetMessage());
        Assert.Equal("a * b", SpanText(d));
    }

    [Fact]
    public void A_product_of_equal_shapes_compiles()
        => Clean(Net("var a = Input(\"a\", \"T\", 4); var b = Input(\"b\", \"T\", 4); return (a * (b | Sigmoid)) | Linear(2);"));

    [Fact]
    public void A_sum_of_differing_symbols_reports_DSL1003()
    {
        var d = Single(Net("var a = Input(\"a\", \"T\", 4); var b = Input(\"b\", \"S\", 4); return (a + b) | Linear(2);"), "DSL1003");
        Assert.Equal("'+' needs operands of the same shape but receives [N,T,4] from Input(\"a\", \"T\", 4) and [N,S,4] from Input(\"b\", \"S\", 4)", d.GetMessage());
    }

    [Fact]
    public void Concat_of_values_whose_other_dimensions_differ_reports_DSL1017()
    {
        var d = Single(Net("var a = Input(\"a\", \"T\", 4); var b = Input(\"b\", \"S\", 2); return Concat(a, b, dim: -1) | Linear(2);"), "DSL1017");
        Assert.Equal("Concat(a, b, dim: -1): the values must agree on every dimension but dimension -1 (symbols exactly), but receive [N,T,4] from Input(\"a\", \"T\", 4) and [N,S,2] from Input(\"b\", \"S\", 2)", d.GetMessage());
        Assert.Equal("Concat(a, b, dim: -1)", SpanText(d));
    }

    [Fact]
    public void Concat_of_a_symbol_and_a_constant_reports_DSL1017()
    {
        var d = Single(Net("var a = Input(\"a\", \"T\", 4); var b = Input(\"b\", 5, 2); return Concat(a, b) | Linear(2);"), "DSL1017");
        Assert.Contains("[N,T,4] from Input(\"a\", \"T\", 4) and [N,5,2] from Input(\"b\", 5, 2)", d.GetMessage());
    }

    [Fact]
    public void Concat_along_the_differing_dimension_compiles()
        => Clean(Net("var a = Input(\"a\", \"T\", 4); var b = Input(\"b\", \"S\", 4); return Concat(a, b, dim: 1) | Linear(2);"));

    [Fact]
    public void Concat_on_the_batch_dimension_reports_DSL1002()
    {
        var d = Single(Net("var a = Input(\"a\", \"T\", 4); return Concat(a, a, dim: 0) | Linear(2);"), "DSL1002");
        Assert.Equal("Concat(a, a, dim: 0): dim must name a dimension of [N,T,4] other than the batch: 1..2 or -2..-1, got 0", d.GetMessage());
    }

    [Fact]
    public void Concat_of_token_ids_reports_DSL1014()
    {
        var d = Single(Net("var a = Input(\"a\", \"T\"); var t = Tokens(\"t\", \"T\"); return Concat(a, t) | Linear(2);"), "DSL1014");
        Assert.StartsWith("Concat(a, t) receives Tokens(\"t\", \"T\"), int64 token ids:", d.GetMessage());
    }
}
