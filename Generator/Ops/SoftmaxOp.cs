using System.Collections.Generic;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary><c>Softmax</c> and <c>LogSoftmax</c> over the last dimension, any shape.</summary>
internal sealed class SoftmaxOp : Op
{
    public const string Name = "Softmax";

    public override string Key => Name;

    /// <summary>Backward reads y only.</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.TheOutput;

    public override IEnumerable<string> Calls => new[] { "Softmax", "LogSoftmax" };

    public override bool TakesSymbols => true;

    public override LayerOutcome Infer(LayerInput i)
    {
        if (i.Shape.Length < 1)
        {
            return LayerRules.Mismatch(i, "[N,...,C]");
        }
        return new LayerOutcome { Op = Name, Shape = LayerRules.Long(i.Shape), Flops = checked(3 * LayerRules.Elements(i.Shape)), Dims = i.Dims }
            .With("log", i.Layer == "LogSoftmax");
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"device.Softmax({c.X(node)}, {y}, log: {node.Attr("log")});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        c.Guarded($"device.SoftmaxBackward({c.Y(node)}, {c.Dy(node)}, {c.Dx(node)}, log: {node.Attr("log")}, accumulate: {Names.Bool(accumulate)});",
            node.Id, input.Id);
    }

    /// <summary>ONNX's <c>Softmax</c> or <c>LogSoftmax</c> over the last axis (opset 13 and later: one axis, not a flattened tail).</summary>
    public override void Export(ExportContext c, GraphNode node)
        => c.Node(node.Attr("log") == "true" ? "LogSoftmax" : "Softmax", new[] { c.X(node) }, c.Y(node), c.Int("axis", -1));
}
