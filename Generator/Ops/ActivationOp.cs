using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// The elementwise activations, any shape: one op with the kind (the runtime's <c>ActivationKind</c>) as attribute.
/// To add one: its member in <c>Dsl/Layers.cs</c>, its kind and formulas in the runtime's <c>ActivationKind</c> and
/// <c>ActivationMath</c>, and one line in <see cref="Kinds"/>.
/// </summary>
internal sealed class ActivationOp : Op
{
    public const string Name = "Activation";

    /// <summary>
    /// Each activation: its <c>Dsl.Layers</c> call, the <c>ActivationKind</c> member, the argument read as alpha (or none),
    /// and what its derivative reads (<see cref="Reads"/>), which decides what a training step keeps.
    /// </summary>
    private static readonly (string Call, string Kind, string? Alpha, string? Threshold, Reads Reads)[] Kinds =
    {
        ("Relu", "Relu", null, null, Reads.Y),       // x > 0 exactly where y > 0: y stands in for x
        ("Tanh", "Tanh", null, null, Reads.Y),       // 1 - y^2
        ("Sigmoid", "Sigmoid", null, null, Reads.Y), // y (1 - y)
        ("LeakyRelu", "LeakyRelu", "negativeSlope", null, Reads.X),
        ("Elu", "Elu", "alpha", null, Reads.X | Reads.Y),
        ("Gelu", "Gelu", null, null, Reads.X),
        ("Softplus", "Softplus", "beta", "threshold", Reads.X),
    };

    /// <summary>What an activation's derivative reads; the one it does not read is passed the other's tensor.</summary>
    [System.Flags]
    private enum Reads
    {
        X = 1,
        Y = 2,
    }

    public override string Key => Name;

    public override IEnumerable<string> Calls => Kinds.Select(k => k.Call);

    public override bool TakesSymbols => true;

    public override LayerOutcome Infer(LayerInput i)
    {
        var kind = Kinds.First(k => k.Call == i.Layer);
        double alpha = kind.Alpha is null ? 0 : i.Args.Number(kind.Alpha);
        if (kind.Threshold is not null && alpha == 0)
        {
            // Softplus divides by beta.
            return LayerRules.Invalid(i, $"{kind.Alpha} must not be zero");
        }
        var o = new LayerOutcome { Op = Name, Shape = LayerRules.Long(i.Shape), Flops = LayerRules.Elements(i.Shape), Dims = i.Dims }
            .With("kind", kind.Kind).With("alpha", LayerArgs.Format(alpha));
        return kind.Threshold is null ? o : o.With("threshold", LayerArgs.Format(i.Args.Number(kind.Threshold)));
    }

    /// <summary>Element by element.</summary>
    public override bool RunsOnRowParts(GraphNode node) => true;

    public override Keeps BackwardReads(GraphNode node)
    {
        var reads = ReadsOf(node);
        return new Keeps((reads & Reads.Y) != 0, (reads & Reads.X) != 0 ? new[] { 0 } : new int[0]);
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        if (c.Plan.Fusion.HeadOf(node) is { } head)
        {
            // Fused: the step before wrote max(0, .) into its own value, which is this one's (Emit/Fusion.cs).
            c.Line($"var {c.Y(node)} = {c.Y(head)}; // fused into {Names.Value(head)}'s kernel");
            return;
        }
        string y = c.Slot(node);
        c.Line($"device.Activation({Kind(node)}, {Parameters(node)}, {c.X(node)}, {y});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        if (c.Plan.Fusion.ReluBackwardBy(node) is { } doer)
        {
            // The batch norm's backward before it, or the max pool's after it, masks dy (Emit/Fusion.cs): hand dy on
            // unchanged. DeconvNet's and guided backpropagation's rules are applied here instead, and that backward then
            // runs without the mask.
            bool alias = c.Plan.Memory.GradientAlias(node, 0);
            string rule = $"device.ReluBackward(ReluBackward, {c.Y(node)}, {c.Dy(node)}, {(alias ? c.Dy(node) : c.Dx(node))}, accumulate: {Names.Bool(accumulate && !alias)})";
            if (alias)
            {
                c.Line($"// {c.Grad(input.Id)} is the memory of {c.Dy(node)}: the ReLU's mask is applied in {Names.Value(doer)}'s backward.");
                c.Guarded($"if (ReluBackward != global::Dsl.ReluBackwardRule.Standard) {rule};", node.Id, input.Id);
            }
            else
            {
                c.Guarded($"if (ReluBackward != global::Dsl.ReluBackwardRule.Standard) {rule}; else device.PassGradient({c.Dy(node)}, {c.Dx(node)}, accumulate: {Names.Bool(accumulate)}); // the mask is applied in {Names.Value(doer)}'s backward", node.Id, input.Id);
            }
            return;
        }
        if (node.Attr("kind") == "Relu")
        {
            // The network's ReluBackward: the derivative, or DeconvNet's or guided backpropagation's rule for saliency.
            c.Guarded($"device.ReluBackward(ReluBackward, {c.Y(node)}, {c.Dy(node)}, {c.Dx(node)}, accumulate: {Names.Bool(accumulate)});", node.Id, input.Id);
            return;
        }
        var reads = ReadsOf(node);
        string x = (reads & Reads.X) != 0 ? c.X(node) : c.Y(node);
        string y = (reads & Reads.Y) != 0 ? c.Y(node) : c.X(node);
        c.Guarded($"device.ActivationBackward({Kind(node)}, {Parameters(node)}, {x}, {y}, {c.Dy(node)}, {c.Dx(node)}, accumulate: {Names.Bool(accumulate)});",
            node.Id, input.Id);
    }

    /// <summary>alpha, and the threshold for the kinds that have one (the runtime's overload with a threshold).</summary>
    private static string Parameters(GraphNode node)
        => Names.FloatAttr(node, "alpha") + (node.HasAttr("threshold") ? ", threshold: " + Names.FloatAttr(node, "threshold") : "");

    private static Reads ReadsOf(GraphNode node)
    {
        string kind = node.Attr("kind");
        foreach (var k in Kinds)
        {
            if (k.Kind == kind)
            {
                return k.Reads;
            }
        }
        throw new System.InvalidOperationException($"the activation table has no kind '{kind}'");
    }

    private static string Kind(GraphNode node) => "global::Dsl.ActivationKind." + node.Attr("kind");

    /// <summary>
    /// ONNX's op of the same name where opset 17 has one (Relu, Tanh, Sigmoid, LeakyRelu, Elu). Gelu (ONNX's arrives in
    /// opset 20) is written as its definition, 0.5 x (1 + erf(x / sqrt 2)); Softplus with PyTorch's beta and threshold as
    /// x where beta x &gt; threshold, else softplus(beta x) / beta. A kind not listed here is refused, never guessed.
    /// </summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        string x = c.X(node), y = c.Y(node);
        switch (node.Attr("kind"))
        {
            case "Relu":
            case "Tanh":
            case "Sigmoid":
                c.Node(node.Attr("kind"), new[] { x }, y);
                break;
            case "LeakyRelu":
            case "Elu":
                c.Node(node.Attr("kind"), new[] { x }, y, c.FloatAttr("alpha", node, "alpha"));
                break;
            case "Gelu":
            {
                string sqrt2 = c.Temp(node, "sqrt2"), one = c.Temp(node, "one"), half = c.Temp(node, "half");
                string scaled = c.Temp(node, "scaled"), erf = c.Temp(node, "erf"), sum = c.Temp(node, "onePlusErf"), product = c.Temp(node, "xTimes");
                c.Fill(sqrt2, System.Math.Sqrt(2.0));
                c.Fill(one, 1.0);
                c.Fill(half, 0.5);
                c.Node("Div", new[] { x, sqrt2 }, scaled);
                c.Node("Erf", new[] { scaled }, erf);
                c.Node("Add", new[] { erf, one }, sum);
                c.Node("Mul", new[] { x, sum }, product);
                c.Node("Mul", new[] { product, half }, y);
                break;
            }
            case "Softplus":
            {
                string beta = c.Temp(node, "beta"), threshold = c.Temp(node, "threshold");
                string scaled = c.Temp(node, "scaled"), soft = c.Temp(node, "softplus"), divided = c.Temp(node, "divided"), linear = c.Temp(node, "linear");
                c.Fill(beta, double.Parse(node.Attr("alpha"), System.Globalization.CultureInfo.InvariantCulture));
                c.Fill(threshold, double.Parse(node.Attr("threshold"), System.Globalization.CultureInfo.InvariantCulture));
                c.Node("Mul", new[] { x, beta }, scaled);
                c.Node("Softplus", new[] { scaled }, soft);
                c.Node("Div", new[] { soft, beta }, divided);
                c.Node("Greater", new[] { scaled, threshold }, linear);
                c.Node("Where", new[] { linear, x, divided }, y);
                break;
            }
            default:
                c.Refuse(node);
                break;
        }
    }
}
