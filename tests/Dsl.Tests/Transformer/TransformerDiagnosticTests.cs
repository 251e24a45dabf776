using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Transformer;

/// <summary>
/// The diagnostics of the Transformer's built-in layers (DSL1070-DSL1074), each with its id, exact message (expected and
/// received, and where the received value came from) and span, and a negative twin that compiles.
/// </summary>
public class TransformerDiagnosticTests
{
    private static string Net(string body) => "[Network] public partial class Q { static Net Define() { " + body + " } }";

    [Fact]
    public void Heads_that_do_not_divide_the_width_report_DSL1070()
    {
        var d = Single(Net("var x = Input(\"x\", \"T\", 10); return x | MultiHeadAttention(4);"), "DSL1070");
        Assert.Equal("MultiHeadAttention(4) expects a width divisible by its 4 heads but receives [N,T,10] from Input(\"x\", \"T\", 10) (width 10); each head takes d/heads features", d.GetMessage());
        Assert.Equal("MultiHeadAttention(4)", SpanText(d.Location));
    }

    [Fact]
    public void An_encoder_layer_whose_heads_do_not_divide_the_width_reports_DSL1070()
    {
        var d = Single(Net("var x = Input(\"x\", \"T\", 12); return x | TransformerEncoderLayer(5, dimFeedforward: 8);"), "DSL1070");
        Assert.StartsWith("TransformerEncoderLayer(5, dimFeedforward: 8) expects a width divisible by its 5 heads but receives [N,T,12]", d.GetMessage());
    }

    [Fact]
    public void Heads_that_divide_the_width_compile()
        => Clean(Net("var x = Input(\"x\", \"T\", 12); return x | MultiHeadAttention(4) | TransformerEncoderLayer(3, dimFeedforward: 8);"));

    [Fact]
    public void A_flat_input_reports_DSL1071()
    {
        var d = Single(Net("var x = Input(\"x\", 16); return x | TransformerEncoderLayer(2, dimFeedforward: 8);"), "DSL1071");
        Assert.Equal("TransformerEncoderLayer(2, dimFeedforward: 8): the input should be [N,T,d] with a fixed width d but receives [N,16] from Input(\"x\", 16)", d.GetMessage());
        Assert.Equal("TransformerEncoderLayer(2, dimFeedforward: 8)", SpanText(d.Location));
    }

    [Fact]
    public void A_fixed_length_sequence_compiles()
        => Clean(Net("var x = Input(\"x\", 5, 16); return x | PositionalEncoding(8) | TransformerEncoderLayer(2, dimFeedforward: 8) | Flatten | Linear(2);"));

    [Fact]
    public void A_memory_of_another_width_reports_DSL1072()
    {
        var d = Single(Net("var x = Input(\"x\", \"T\", 8); var m = Input(\"m\", \"S\", 6); return x | TransformerDecoderLayer(2, memory: m, dimFeedforward: 8);"), "DSL1072");
        Assert.Equal("TransformerDecoderLayer(2, memory: m, dimFeedforward: 8): the memory [N,S,6] from Input(\"m\", \"S\", 6) should have the input's width 8 "
            + "(the input is [N,T,8] from Input(\"x\", \"T\", 8)); its keys and values are projected by the same in_proj_weight", d.GetMessage());
        Assert.Equal("TransformerDecoderLayer(2, memory: m, dimFeedforward: 8)", SpanText(d.Location));
    }

    [Fact]
    public void Cross_attention_over_a_memory_of_another_width_reports_DSL1072()
    {
        var d = Single(Net("var x = Input(\"x\", \"T\", 8); var m = Input(\"m\", \"S\", 4); return x | MultiHeadAttention(2, memory: m);"), "DSL1072");
        Assert.StartsWith("MultiHeadAttention(2, memory: m): the memory [N,S,4]", d.GetMessage());
    }

    [Fact]
    public void A_memory_of_the_same_width_and_another_length_compiles()
        => Clean(Net("var x = Input(\"x\", \"T\", 8); var m = Input(\"m\", \"S\", 8); var k = Mask(\"k\", \"S\"); "
            + "return x | TransformerDecoderLayer(2, memory: m, dimFeedforward: 8, memoryKeyPadding: k) | MultiHeadAttention(2, memory: m, keyPadding: k);"));

    [Fact]
    public void A_key_padding_mask_of_another_length_reports_DSL1073()
    {
        var d = Single(Net("var x = Input(\"x\", \"T\", 8); var k = Mask(\"k\", \"S\"); return x | TransformerEncoderLayer(2, dimFeedforward: 8, keyPadding: k);"), "DSL1073");
        Assert.Equal("TransformerEncoderLayer(2, dimFeedforward: 8, keyPadding: k): the mask given to keyPadding, [N,S] from Mask(\"k\", \"S\"), should be "
            + "[N,T] from a Mask input, one entry per key of [N,T,8] from Input(\"x\", \"T\", 8)", d.GetMessage());
        Assert.Equal("TransformerEncoderLayer(2, dimFeedforward: 8, keyPadding: k)", SpanText(d.Location));
    }

    [Fact]
    public void A_memory_mask_with_the_queries_length_reports_DSL1073()
    {
        var d = Single(Net("var x = Input(\"x\", \"T\", 8); var m = Input(\"m\", \"S\", 8); var k = Mask(\"k\", \"T\"); return x | MultiHeadAttention(2, memory: m, keyPadding: k);"), "DSL1073");
        Assert.Contains("should be [N,S] from a Mask input, one entry per key of [N,S,8] from Input(\"m\", \"S\", 8)", d.GetMessage());
    }

    [Fact]
    public void A_float_value_as_the_key_padding_mask_reports_DSL1073()
    {
        var d = Single(Net("var x = Input(\"x\", \"T\", 8); var k = Input(\"k\", \"T\"); return x | MultiHeadAttention(2, keyPadding: k);"), "DSL1073");
        Assert.Contains("[N,T] (float32) from Input(\"k\", \"T\")", d.GetMessage());
    }

    [Fact]
    public void A_key_padding_mask_with_the_keys_length_compiles()
        => Clean(Net("var x = Input(\"x\", \"T\", 8); var k = Mask(\"k\", \"T\"); return x | TransformerEncoderLayer(2, dimFeedforward: 8, keyPadding: k);"));

    [Fact]
    public void Causal_cross_attention_over_another_length_reports_DSL1074()
    {
        var d = Single(Net("var x = Input(\"x\", \"T\", 8); var m = Input(\"m\", \"S\", 8); return x | MultiHeadAttention(2, memory: m, causal: true);"), "DSL1074");
        Assert.Equal("MultiHeadAttention(2, memory: m, causal: true): causal: true masks key s for query t when s > t, which needs the keys to run over the queries' "
            + "positions, but the keys [N,S,8] from Input(\"m\", \"S\", 8) have length S and the queries T", d.GetMessage());
        Assert.Equal("MultiHeadAttention(2, memory: m, causal: true)", SpanText(d.Location));
    }

    [Fact]
    public void Causal_attention_over_keys_of_the_same_length_compiles()
        => Clean(Net("var x = Input(\"x\", \"T\", 8); var m = x | Linear(8); return x | MultiHeadAttention(2, memory: m, causal: true);"));

    [Fact]
    public void A_decoder_layer_without_a_memory_reports_DSL1002()
    {
        var d = Single(Net("var x = Input(\"x\", \"T\", 8); return x | TransformerDecoderLayer(2, dimFeedforward: 8);"), "DSL1002");
        Assert.Contains("give it as memory:", d.GetMessage());
    }

    [Fact]
    public void An_unknown_activation_reports_DSL1002()
    {
        var d = Single(Net("var x = Input(\"x\", \"T\", 8); return x | TransformerEncoderLayer(2, activation: \"tanh\");"), "DSL1002");
        Assert.Contains("activation must be \"relu\" or \"gelu\", got \"tanh\"", d.GetMessage());
    }

    [Fact]
    public void A_fixed_length_beyond_max_len_reports_DSL1001()
    {
        var d = Single(Net("var x = Input(\"x\", 9, 8); return x | PositionalEncoding(8) | Flatten | Linear(2);"), "DSL1001");
        Assert.Equal("PositionalEncoding(8) expects [N,T,8] with T <= 8 but receives [N,9,8] from Input(\"x\", 9, 8)", d.GetMessage());
    }
}
