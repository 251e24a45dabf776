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

    public override Keeps BackwardReads(GraphNode node)
    {
        var reads = ReadsOf(node);
        return new Keeps((reads & Reads.Y) != 0, (reads & Reads.X) != 0 ? new[] { 0 } : new int[0]);
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"device.Activation({Kind(node)}, {Parameters(node)}, {c.X(node)}, {y});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
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
}
