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

    /// <summary>Each activation: its <c>Dsl.Layers</c> call, the <c>ActivationKind</c> member, and the argument read as alpha (or none).</summary>
    private static readonly (string Call, string Kind, string? Alpha)[] Kinds =
    {
        ("Relu", "Relu", null),
        ("Tanh", "Tanh", null),
        ("Sigmoid", "Sigmoid", null),
        ("LeakyRelu", "LeakyRelu", "negativeSlope"),
        ("Elu", "Elu", "alpha"),
        ("Gelu", "Gelu", null),
    };

    public override string Key => Name;

    public override IEnumerable<string> Calls => Kinds.Select(k => k.Call);

    public override bool TakesSymbols => true;

    public override LayerOutcome Infer(LayerInput i)
    {
        var kind = Kinds.First(k => k.Call == i.Layer);
        double alpha = kind.Alpha is null ? 0 : i.Args.Number(kind.Alpha);
        return new LayerOutcome { Op = Name, Shape = LayerRules.Long(i.Shape), Flops = LayerRules.Elements(i.Shape), Dims = i.Dims }
            .With("kind", kind.Kind).With("alpha", LayerArgs.Format(alpha));
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"device.Activation({Kind(node)}, {Names.FloatAttr(node, "alpha")}, {c.X(node)}, {y});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        c.Guarded($"device.ActivationBackward({Kind(node)}, {Names.FloatAttr(node, "alpha")}, {c.X(node)}, {c.Y(node)}, {c.Dy(node)}, {c.Dx(node)}, accumulate: {Names.Bool(accumulate)});",
            node.Id, input.Id);
    }

    private static string Kind(GraphNode node) => "global::Dsl.ActivationKind." + node.Attr("kind");
}
