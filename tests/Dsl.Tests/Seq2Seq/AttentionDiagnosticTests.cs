using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Seq2Seq;

/// <summary>
/// The diagnostics of <c>Attention</c> (DSL1040-DSL1043), each with its id, exact message and span, and a negative twin
/// that compiles.
/// </summary>
public sealed class AttentionDiagnosticTests
{
    private static string Net(string name, string body) => $"[Network] public partial class {name} {{ static Net Define() {{ {body} }} }}";

    private const string Operands = "var q = Input(\"q\", \"T\", 8); var m = Input(\"m\", \"S\", 16); var mask = Mask(\"mask\", \"S\"); ";

    [Fact]
    public void Queries_and_keys_of_different_widths_report_DSL1040()
    {
        var d = Single(Net("A1", Operands + "return Attention(q, m, m);"), "DSL1040");
        Assert.Equal("Attention(q, m, m): the query [N,T,8] from Input(\"q\", \"T\", 8) and the keys [N,S,16] from Input(\"m\", \"S\", 16) differ in width (8 and 16); "
            + "a score is the dot product of a query and a key", d.GetMessage());
        Assert.Equal("Attention(q, m, m)", SpanText(d));
    }

    [Fact]
    public void Keys_projected_to_the_query_width_compile()
        => Clean(Net("A1", Operands + "return Attention(q, m | Linear(8), m);"));

    [Fact]
    public void Keys_and_values_of_different_lengths_report_DSL1041()
    {
        var d = Single(Net("A2", Operands + "var v = Input(\"v\", \"U\", 3); return Attention(q, m | Linear(8), v);"), "DSL1041");
        Assert.Equal("Attention(q, m | Linear(8), v): the keys [N,S,8] from Linear(8) of [N,S,16] and the values [N,U,3] from Input(\"v\", \"U\", 3) differ in length (S and U); "
            + "each key needs one value", d.GetMessage());
    }

    [Fact]
    public void Values_of_the_keys_length_and_another_width_compile()
        => Clean(Net("A2", Operands + "var v = Input(\"v\", \"S\", 3); return Attention(q, m | Linear(8), v);"));

    [Fact]
    public void A_mask_over_another_length_reports_DSL1042()
    {
        var d = Single(Net("A3", Operands + "var other = Mask(\"other\", \"T\"); return Attention(q, m | Linear(8), m, mask: other);"), "DSL1042");
        Assert.Equal("Attention(q, m | Linear(8), m, mask: other): the mask [N,T] from Mask(\"other\", \"T\") should be [N,S], one entry per key of [N,S,8] from Linear(8) of [N,S,16]",
            d.GetMessage());
    }

    [Fact]
    public void A_mask_over_the_keys_length_compiles()
        => Clean(Net("A3", Operands + "return Attention(q, m | Linear(8), m, mask: mask);"));

    [Fact]
    public void A_query_without_a_length_reports_DSL1043()
    {
        var d = Single(Net("A4", Operands + "var flat = Input(\"flat\", 8); return Attention(flat, m | Linear(8), m);"), "DSL1043");
        Assert.Equal("Attention(flat, m | Linear(8), m): the query should be [N,T,D] but receives [N,8] from Input(\"flat\", 8)", d.GetMessage());
    }

    [Fact]
    public void A_single_query_step_compiles()
        => Clean(Net("A4", Operands + "var one = Input(\"one\", 1, 8); return Attention(one, m | Linear(8), m);"));

    [Fact]
    public void Token_ids_as_keys_report_DSL1014()
    {
        var d = Single(Net("A5", Operands + "var ids = Tokens(\"ids\", \"S\"); return Attention(q, ids, m);"), "DSL1014");
        Assert.StartsWith("Attention(q, ids, m) receives Tokens(\"ids\", \"S\"), int64 token ids", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_scale_that_is_not_positive_reports_DSL1002()
    {
        var d = Single(Net("A6", Operands + "return Attention(q, m | Linear(8), m, scale: -1.0);"), "DSL1002");
        Assert.Equal("Attention(q, m | Linear(8), m, scale: -1.0): the scale must be a positive float32 number, got -1", d.GetMessage());
    }

    [Fact]
    public void A_positive_scale_compiles()
        => Clean(Net("A6", Operands + "return Attention(q, m | Linear(8), m, scale: 0.25);"));
}
