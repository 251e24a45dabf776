using Microsoft.CodeAnalysis;
using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Generator;

/// <summary>
/// DSL1050: a Linear with inferred in-features on a multi-dimensional sample in a network that ends in a classifier is a
/// warning (the network is still generated and compiles), with the shapes and both fixes in the message; its twins
/// (Flatten, stated in-features, symbolic sequences, a network that does not end in a classifier) are clean.
/// </summary>
public class LinearRankWarningTests
{
    [Fact]
    public void Linear_on_an_unflattened_feature_map_before_LogSoftmax_warns_and_still_generates()
    {
        var result = GeneratorHarness.Run(Usings + "[Network] public partial class W1 { static Net Define() => Input(16, 4, 4) | Linear(10) | LogSoftmax; }");
        Assert.Empty(result.Exceptions);
        var d = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal("DSL1050", d.Id);
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Equal("Linear(10) receives [N,16,4,4] and acts on its last dimension only, giving [N,16,4,10], but the network ends in a classifier: "
            + "insert Flatten before it if you meant [N,256] -> [N,10], or state the in-features (Linear(4, 10)) if per-position is meant", d.GetMessage());
        Assert.Equal("Linear(10)", SpanText(d));
        Assert.Empty(result.CompilationErrors);
        Assert.Single(result.Generated);
    }

    [Fact]
    public void Linear_after_Flatten_is_clean() => Clean("[Network] public partial class W1 { static Net Define() => Input(16, 4, 4) | Flatten | Linear(10) | LogSoftmax; }");

    [Fact]
    public void Stated_in_features_say_per_position_is_meant() => Clean("[Network] public partial class W2 { static Net Define() => Input(16, 4) | Linear(4, 10) | LogSoftmax; }");

    [Fact]
    public void Every_inferred_Linear_of_a_network_ending_in_a_Linear_on_a_feature_map_warns()
    {
        var result = GeneratorHarness.Run(Usings + "[Network] public partial class W3 { static Net Define() => Input(3, 8) | Linear(5) | Relu | Linear(2); }");
        Assert.Equal(new[] { "DSL1050", "DSL1050" }, result.GeneratorDiagnostics.Select(x => x.Id).ToArray());
        Assert.Equal(new[] { "Linear(5)", "Linear(2)" }, result.GeneratorDiagnostics.Select(SpanText).ToArray());
        Assert.StartsWith("Linear(2) receives [N,3,5] and acts on its last dimension only, giving [N,3,2]", result.GeneratorDiagnostics[1].GetMessage());
    }

    [Fact]
    public void Per_position_layers_over_a_symbolic_sequence_are_clean()
        => Clean("[Network] public partial class W4 { static Net Define() => Input(\"x\", \"T\", 8) | Linear(5) | LogSoftmax; }");

    [Fact]
    public void A_network_that_does_not_end_in_a_classifier_is_clean()
        => Clean("[Network] public partial class W5 { static Net Define() => Input(3, 8) | Linear(5) | Tanh; }");
}
