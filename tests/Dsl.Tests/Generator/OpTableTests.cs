using System.Reflection;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Ops;
using Xunit;
using static Dsl.Tests.Generator.DiagnosticAssert;

namespace Dsl.Tests.Generator;

/// <summary>
/// The operation table and the emission cases it must get right: every catalogue call has an op, an unknown op throws
/// instead of passing through, and what a user types (empty networks, odd names, non-finite numbers, sizes that overflow)
/// becomes correct code or a diagnostic at the user's span.
/// </summary>
public class OpTableTests
{
    /// <summary>Catalogue members that are not operations: the input, the identity and the combinators.</summary>
    private static readonly string[] NotOps = { "Input", "Tokens", "Mask", "Outputs", "Identity", "Residual", "Concat", "Repeat", "Frozen", "Named" };

    [Fact]
    public void Every_catalogue_layer_is_bound_to_an_op()
    {
        var calls = typeof(Layers).GetMembers(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m is MethodInfo { IsSpecialName: false } or PropertyInfo)
            .Select(m => m.Name).Distinct().Except(NotOps).ToList();
        Assert.NotEmpty(calls);
        Assert.All(calls, call => Assert.True(OpTable.ForCall(call) is not null, $"Dsl.Layers.{call} has no op in the table"));
    }

    [Fact]
    public void An_unknown_op_throws_instead_of_defaulting()
    {
        var e = Assert.Throws<InvalidOperationException>(() => OpTable.Of("Tanh"));
        Assert.Contains("'Tanh'", e.Message);
    }

    [Fact]
    public void Graph_with_an_op_the_table_does_not_know_fails_to_emit()
    {
        var source = GeneratorHarness.Run(Usings + "[Network] public partial class K { static Net Define() => Input(4) | Relu; }");
        Assert.Empty(source.GeneratorDiagnostics);
        var input = new GraphNode(0, InputOp.Name, EquatableArray<int>.Empty, EquatableArray.From(new[] { 4 }), "Input(4)", "",
            EquatableArray<ParamSpec>.Empty, EquatableArray<Attr>.Empty, 0, new LocationInfo("", default, default));
        var mystery = input with { Id = 1, Op = "Mystery", Inputs = EquatableArray.From(new[] { 0 }), Label = "Mystery" };
        var model = new NetworkModel(null, "K", "public", EquatableArray.From(new[] { input, mystery }), 1,
            EquatableArray<DiagnosticInfo>.Empty, CanEmit: true, HasErrors: false);
        Assert.Throws<InvalidOperationException>(() => NetworkEmitter.Generate(model));
    }

    [Theory]
    [InlineData("Input(6)")]
    [InlineData("Input(6) | Identity")]
    public void Network_without_layers_compiles(string definition)
        => Clean($"[Network] public partial class Empty {{ static Net Define() => {definition}; }}");

    [Theory]
    [InlineData("a\\\"b")]
    [InlineData("line\\nbreak")]
    [InlineData("back\\\\slash")]
    [InlineData("x<y&z")]
    public void Odd_layer_names_are_escaped(string name)
        => Clean($"[Network] public partial class Named {{ static Net Define() => Input(4) | Linear(3, name: \"{name}\"); }}");

    [Fact]
    public void Empty_name_reports_DSL0010()
    {
        var d = Single("[Network] public partial class E0 { static Net Define() => Input(4) | Linear(3, name: \"\"); }", "DSL0010");
        Assert.Contains("is empty", d.GetMessage());
        Assert.Equal("Linear(3, name: \"\")", SpanText(d));
    }

    [Theory]
    [InlineData("LeakyRelu(double.NaN)", "negativeSlope", "NaN")]
    [InlineData("Elu(double.PositiveInfinity)", "alpha", "Infinity")]
    public void Non_finite_arguments_report_DSL1011(string layer, string parameter, string value)
    {
        var d = Single($"[Network] public partial class F {{ static Net Define() => Input(4) | {layer}; }}", "DSL1011");
        Assert.Equal($"{layer}: argument '{parameter}' must be a finite float32 number (magnitude below 3.4e38), but is {value}", d.GetMessage());
    }

    [Theory]
    [InlineData("static Net Define() => Input(1, 65536, 65536) | Flatten | Linear(10);", "Input(1, 65536, 65536)")]
    [InlineData("static Net Define() => Input(2, 3, 2147483647) | BatchNorm2d();", "Input(2, 3, 2147483647)")]
    [InlineData("static Net Define() => Input(2147483647, 1, 1) | Concat(Identity, Identity);", "Concat(Identity, Identity)")]
    [InlineData("static Net Define() => Input(65536) | Linear(65536);", "Linear(65536)")]
    [InlineData("static Layer B(int k) => Linear(int.MaxValue + k); static Net Define() => Input(4) | B(1);", "Linear(int.MaxValue + k)")]
    [InlineData("static Net Define() => Input(46341, 46341) | Relu;", "Input(46341, 46341)")]
    public void Sizes_past_int_report_DSL1010_at_the_call(string body, string span)
    {
        var d = Single($"[Network] public partial class O {{ {body} }}", "DSL1010");
        Assert.Equal(span, SpanText(d));
    }

    [Theory]
    [InlineData("Input(4) | Chunk(2) | Relu", "Relu")]
    [InlineData("Input(4) | Chunk(2)", "Input(4) | Chunk(2)")]
    public void A_value_with_several_parts_used_as_one_reports_DSL0011(string definition, string span)
    {
        var d = Single($"[Network] public partial class P {{ static Net Define() => {definition}; }}", "DSL0011");
        Assert.Equal("Chunk(2) of [N,4] produces 2 values: pick one with Select(index)", d.GetMessage());
        Assert.Equal(span, SpanText(d));
    }

    [Theory]
    [InlineData("Input(4) | Relu | Select(0)", "Select picks one value of an operation that produces several (such as Chunk), but Relu of [N,4] produces one")]
    [InlineData("Input(4) | Chunk(2) | Select(2)", "the index must lie in [0, 1] for the 2 values of Chunk(2) of [N,4], got 2")]
    public void Select_and_Chunk_misuse_report_DSL1002(string definition, string why)
    {
        var d = Single($"[Network] public partial class Q {{ static Net Define() => {definition}; }}", "DSL1002");
        Assert.EndsWith(why, d.GetMessage());
    }

    [Theory]
    [InlineData("n")]
    [InlineData("class")]
    [InlineData("a b")]
    [InlineData("h3_relu")]
    [InlineData("")]
    public void Input_names_that_cannot_be_Forward_parameters_report_DSL1002(string name)
    {
        var d = Single($"[Network] public partial class I {{ static Net Define() => (Input(\"{name}\", 4) | Linear(2)) + (Input(\"other\", 2)); }}", "DSL1002");
        Assert.Contains("must be a C# identifier", d.GetMessage());
        Assert.Equal($"\"{name}\"", SpanText(d));
    }

    [Fact]
    public void Two_named_inputs_give_Forward_one_parameter_each_in_declaration_order()
    {
        var result = GeneratorHarness.Run(Usings + "[Network] public partial class T2 { static Net Define() { var b = Input(\"tokens\", 3); var a = Input(\"image\", 2); return (a | Linear(3)) + b; } }");
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationErrors);
        string code = Assert.Single(result.Generated);
        Assert.Contains("public global::Dsl.Tensor Forward(global::Dsl.Tensor tokens, global::Dsl.Tensor image)", code);
        Assert.Contains("CheckInput(image, \"image\", s_imageShape, n, \"tokens\");", code);
        Assert.Contains("SetInputGradient(1, dh1_image);", code);
    }

    [Fact]
    public void Largest_sizes_that_fit_compile()
        => Clean("[Network] public partial class Big { static Net Define() => Input(46340, 46340) | Relu; }");

    [Fact]
    public void Generated_members_are_listed()
    {
        var model = Model("[Network] public partial class M { static Net Define() => Input(1, 8, 8) | Conv2d(2, kernel: 3) | MaxPool2d(2) | BatchNorm2d() | Flatten | Linear(3); }");
        var generated = NetworkEmitter.Generate(model);
        var members = generated.Members.ToList();
        foreach (string member in new[]
        {
            "M(global::Dsl.Device, int)", "Forward(global::Dsl.Tensor)", "Backward(global::Dsl.Tensor)", "Summary", "InputShape", "OutputShape",
            "NetworkName", "_conv1_weight", "_fc1_bias", "_bn1_running_mean", "_argmax2", "_h1_conv2d", "_dh1_conv2d", "_input", "s_inputShape", "LayerTable", "s_layerTable",
        })
        {
            Assert.Contains(member, members);
        }
        // Every field the code declares is listed.
        // (A method's signature has no ';' before a comment.)
        foreach (var line in generated.Source!.Split('\n').Where(l => l.TrimStart().StartsWith("private ", StringComparison.Ordinal) && l.Split("//")[0].Contains(';')))
        {
            string declared = line.Trim().Split(';', '=')[0].Trim().Split(' ').Last();
            Assert.Contains(declared, members);
        }
    }

    [Fact]
    public void Backward_fetches_each_buffer_where_first_used()
    {
        var result = GeneratorHarness.Run(Usings + "[Network] public partial class L { static Net Define() => Input(4) | Linear(3) | Relu | Linear(2); }");
        string code = Assert.Single(result.Generated);
        string backward = code.Substring(code.IndexOf("public override void Backward", StringComparison.Ordinal));
        // h1 is first needed by fc2's backward (as its input) and fetched right before it, after the comment of [3].
        int fetch = backward.IndexOf("var h2_relu = _h2_relu.Rows(n);", StringComparison.Ordinal);
        Assert.True(fetch > backward.IndexOf("// [3] fc2", StringComparison.Ordinal), backward);
        Assert.Equal(1, CountOf(backward, "var h2_relu ="));
    }

    [Fact]
    public void Geometries_use_named_arguments()
    {
        var result = GeneratorHarness.Run(Usings + "[Network] public partial class G { static Net Define() => Input(1, 8, 8) | Conv2d(2, kernel: 3, stride: 2) | MaxPool2d(2); }");
        string code = Assert.Single(result.Generated);
        Assert.Contains("new global::Dsl.Conv2dGeometry(n, InChannels: 1, Height: 8, Width: 8, OutChannels: 2, KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2)", code);
        Assert.Contains("new global::Dsl.Pool2dGeometry(n, Channels: 2, Height: 3, Width: 3, KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2)", code);
    }

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + 1, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    private static NetworkModel Model(string source)
    {
        var compilation = GeneratorHarness.Compilation(Usings + source);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var step = driver.GetRunResult().Results[0].TrackedSteps[global::Dsl.Generator.NetworkGenerator.Steps.Build];
        // The Build step carries the model with what the clash check needs: the model is the tuple's first item.
        var value = step[0].Outputs[0].Value;
        return value as NetworkModel ?? (NetworkModel)((System.Runtime.CompilerServices.ITuple)value)[0]!;
    }
}
