using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Recurrent;

/// <summary>
/// The diagnostics of the recurrent layers, <c>Last</c> and <c>AttentionPool</c> (DSL1030-DSL1035), each with its id,
/// exact message and span, and a negative twin that compiles.
/// </summary>
public sealed class RecurrentDiagnosticTests
{
    private static string Net(string name, string body) => $"[Network] public partial class {name} {{ static Net Define() {{ {body} }} }}";

    [Fact]
    public void Linear_declaring_the_hidden_size_after_a_bidirectional_layer_reports_DSL1030()
    {
        var d = Single(Net("R1", "return Input(\"x\", \"T\", 8) | Lstm(64, bidirectional: true) | Last | Linear(64, 4);"), "DSL1030");
        Assert.Equal("Linear(64, 4) expects [N,64] but receives [N,128] from Last of [N,T,128]: Lstm(64, bidirectional: true) is bidirectional, so its last state has "
            + "2 x 64 = 128 features, both directions concatenated", d.GetMessage());
        Assert.Equal("Linear(64, 4)", SpanText(d));
    }

    [Fact]
    public void Linear_declaring_the_doubled_size_after_a_bidirectional_layer_compiles()
        => Clean(Net("R1", "return Input(\"x\", \"T\", 8) | Lstm(64, bidirectional: true) | Last | Linear(128, 4);"));

    [Fact]
    public void Linear_over_the_sequence_with_another_hidden_size_reports_DSL1030()
    {
        var d = Single(Net("R2", "return Input(\"x\", \"T\", 8) | Gru(32) | Linear(16, 4);"), "DSL1030");
        Assert.Equal("Linear(16, 4) expects [N,T,16] but receives [N,T,32] from Gru(32) of [N,T,8]: Gru(32) has hidden size 32, so it gives 32 features", d.GetMessage());
        Assert.Equal("Linear(16, 4)", SpanText(d));
    }

    [Fact]
    public void Linear_over_the_sequence_with_the_hidden_size_compiles()
        => Clean(Net("R2", "return Input(\"x\", \"T\", 8) | Gru(32) | Linear(32, 4);"));

    [Fact]
    public void A_mismatch_elsewhere_stays_DSL1001()
        => Single(Net("R2b", "return Input(\"x\", 8) | Linear(16) | Linear(8, 4);"), "DSL1001");

    [Fact]
    public void Lstm_on_a_flat_value_reports_DSL1031()
    {
        var d = Single(Net("R3", "return Input(\"x\", 8) | Lstm(4);"), "DSL1031");
        Assert.Equal("Lstm(4) runs over a sequence [N,T,D] but receives [N,8] from Input(\"x\", 8)", d.GetMessage());
        Assert.Equal("Lstm(4)", SpanText(d));
    }

    [Fact]
    public void AttentionPool_on_an_image_reports_DSL1031()
    {
        var d = Single(Net("R3b", "return Input(\"x\", 3, 4, 4) | AttentionPool();"), "DSL1031");
        Assert.Equal("AttentionPool() runs over a sequence [N,T,D] but receives [N,3,4,4] from Input(\"x\", 3, 4, 4)", d.GetMessage());
    }

    [Fact]
    public void Lstm_and_AttentionPool_on_a_fixed_length_sequence_compile()
        => Clean(Net("R3", "return Input(\"x\", 5, 8) | Lstm(4) | AttentionPool();"));

    [Theory]
    [InlineData("Rnn(0)", "the hidden size must be positive, got 0")]
    [InlineData("Lstm(4, layers: 0)", "layers must be at least 1, got 0")]
    [InlineData("Gru(4, layers: 2, dropout: 1.0)", "dropout must lie in [0, 1), got 1")]
    [InlineData("Gru(4, layers: 2, dropout: -0.1)", "dropout must lie in [0, 1), got -0.1")]
    public void Bad_recurrent_arguments_report_DSL1032(string call, string why)
    {
        var d = Single(Net("R4", $"return Input(\"x\", \"T\", 8) | {call};"), "DSL1032");
        Assert.Equal($"{call}: {why}", d.GetMessage());
        Assert.Equal(call, SpanText(d));
    }

    [Fact]
    public void Good_recurrent_arguments_compile()
        => Clean(Net("R4", "return Input(\"x\", \"T\", 8) | Gru(4, layers: 3, dropout: 0.5, bias: false);"));

    [Fact]
    public void Unknown_nonlinearity_reports_DSL1033()
    {
        var d = Single(Net("R5", "return Input(\"x\", \"T\", 8) | Rnn(4, nonlinearity: \"sigmoid\");"), "DSL1033");
        Assert.Equal("Rnn(4, nonlinearity: \"sigmoid\"): nonlinearity must be \"tanh\" or \"relu\" (as nn.RNN), got \"sigmoid\"", d.GetMessage());
        Assert.Equal("Rnn(4, nonlinearity: \"sigmoid\")", SpanText(d));
    }

    [Fact]
    public void Relu_nonlinearity_compiles()
        => Clean(Net("R5", "return Input(\"x\", \"T\", 8) | Rnn(4, nonlinearity: \"relu\");"));

    [Fact]
    public void Last_after_a_linear_reports_DSL1034()
    {
        var d = Single(Net("R6", "return Input(\"x\", \"T\", 8) | Linear(4) | Last;"), "DSL1034");
        Assert.Equal("Last takes the last state of the recurrent layer it follows (Rnn, Lstm, Gru) but receives [N,T,4] from Linear(4) of [N,T,8]", d.GetMessage());
        Assert.Equal("Last", SpanText(d));
    }

    [Fact]
    public void Last_after_an_rnn_compiles()
        => Clean(Net("R6", "return Input(\"x\", \"T\", 8) | Rnn(4) | Last;"));
}
