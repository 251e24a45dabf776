using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// The course's attention pooling: [T, D] -> [D], importance i_t = x_t . c with a learned context vector <c>context</c>
/// [D], weights a = softmax(i) over the valid steps (a mask's 1s; all steps without one), output sum_t a_t x_t.
/// The context starts as U(-1/sqrt(D), 1/sqrt(D)), the distribution of a <c>Linear(D, 1)</c> weight, which is what the
/// scoring is (a bias would cancel in the softmax): small scores, so the first weights are close to uniform. Owns the
/// weights [N,T], which backward reads and which stay readable after a Forward as <c>Readout("attention1.weights")</c>
/// (the layer's name and <c>.weights</c>, as <see cref="AttentionOp"/>'s).
/// </summary>
internal sealed class AttentionPoolOp : Op
{
    public const string Name = "AttentionPool";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    /// <summary>Backward reads x (with the weights it owns).</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.FirstInput;

    public override LayerOutcome Infer(LayerInput i)
    {
        if (i.Shape.Length != 2)
        {
            return LayerOutcome.Fail(Descriptors.NotASequence, i.Source, i.Received, i.From);
        }
        if (LayerRules.RequireFixed(i, 1, "width (the last dimension)") is { } symbolic)
        {
            return symbolic;
        }
        if (MaskArg.Check(i, i.IsSymbolic ? i.Dims[0] : Dim.Of(i.Shape[0])) is { } mask)
        {
            return mask;
        }
        long dim = i.Shape[1];
        var o = new LayerOutcome
        {
            Op = Name,
            Shape = ImmutableArray.Create(dim),
            NamePrefix = "attention",
            Flops = checked(4 * dim * i.Shape[0]),
            Dims = i.IsSymbolic ? ImmutableArray.Create(Dim.Of(dim)) : default,
        };
        o.Params.Add(("context", new[] { dim }, "uniform", dim));
        return o.With("dim", dim);
    }

    private static string Weights(GraphNode node) => "attention" + Names.Int(node.Id) + "Weights";

    private static string Scratch(GraphNode node) => "dattention" + Names.Int(node.Id) + "Input";

    private static string Readout(GraphNode node) => "attention" + Names.Int(node.Id) + "Readout";

    /// <summary>The weights' readout, named after the layer: <c>attention1.weights</c>.</summary>
    public static string ReadoutName(GraphNode node) => node.Name + ".weights";

    /// <summary>The length T of the pooled sequence as generated code reads it.</summary>
    private static string Time(Plan plan, GraphNode node)
    {
        var x = plan.Nodes[node.Inputs[0]];
        return x.IsSymbolic ? x.Symbolic[0].Code : Names.Int(x.Shape[0]);
    }

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        var x = plan.Nodes[node.Inputs[0]];
        if (MaskArg.Buffer(node) is { } lengths)
        {
            yield return lengths;
        }
        yield return new BufferDecl(Names.Field(Weights(node)), "global::Dsl.SymbolicSlot", "new global::Dsl.SymbolicSlot(device)",
            $"{node.Name} weights [N,{x.Dims[0]}], grow to the largest size seen", Elements: x.Shape[0], Evaluation: true);
        yield return new BufferDecl(Names.Field(Readout(node)), "global::Dsl.Readout", $"AddReadout({Names.Literal(ReadoutName(node))})");
        if (!plan.NeedsGrad[x.Id])
        {
            // The kernel writes dx with dcontext; when the input needs no gradient it lands here.
            yield return x.IsSymbolic
                ? Names.SymbolicSlot(Scratch(node), x)
                : new BufferDecl(Names.Field(Scratch(node)), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, {Names.Shape(x.Shape)})", Elements: x.Elements);
        }
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        string t = Time(c.Plan, node);
        string weights = Weights(node);
        c.Line($"var {weights} = {Names.Field(weights)}.Rows(n, {t});");
        string lengths = MaskArg.Forward(c, node);
        c.Line($"device.AttentionPool({c.X(node)}, {Names.ParamValue(node, "context")}, {lengths}, {weights}, {y}, n, {t}, {node.Attr("dim")});");
        c.Line($"{Names.Field(Readout(node))}.Value = {weights};");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var x = c.Input(node);
        string t = Time(c.Plan, node);
        bool accumulate = c.Accumulate(x.Id);
        string dx = c.Dx(node);
        bool needed = c.Plan.NeedsGrad[x.Id];
        // Without the input's gradient the kernel still writes dx with dcontext: into the scratch buffer, overwritten.
        string target = needed ? dx : $"{dx} ?? {Names.Field(Scratch(node))}.{Names.Rows(x)}";
        string accumulateDx = needed || !accumulate ? Names.Bool(accumulate) : $"{dx} is not null";
        c.Line($"device.AttentionPoolBackward({c.X(node)}, {Names.ParamValue(node, "context")}, {Names.Field(Weights(node))}.Rows(n, {t}), {c.Dy(node)}, {target}, "
            + $"{Names.ParamGrad(node, "context")}, n, {t}, {node.Attr("dim")}, accumulateDx: {accumulateDx});");
    }

    /// <summary>
    /// ONNX: scores x . context, <c>Softmax</c> over T (padded steps at -float.MaxValue, then the weights times the mask, so
    /// padding weighs exactly 0 and a row without valid steps pools to 0), and the weighted sum as a batched <c>MatMul</c>.
    /// </summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        string x = c.X(node);
        string scores = c.Temp(node, "scores"), weights = c.Temp(node, "weights");
        c.Node("MatMul", new[] { x, c.Param(node, "context") }, scores);
        string? mask = c.Net(node, MaskArg.Parameter);
        if (mask is null)
        {
            c.Node("Softmax", new[] { scores }, weights, c.Int("axis", 1));
        }
        else
        {
            string zero = c.Temp(node, "zero"), valid = c.Temp(node, "valid"), lowest = c.Temp(node, "lowest");
            string masked = c.Temp(node, "masked"), softmax = c.Temp(node, "softmax");
            c.Fill(zero, 0);
            c.Fill(lowest, -float.MaxValue);
            c.Node("Greater", new[] { mask, zero }, valid);
            c.Node("Where", new[] { valid, scores, lowest }, masked);
            c.Node("Softmax", new[] { masked }, softmax, c.Int("axis", 1));
            c.Node("Mul", new[] { softmax, mask }, weights);
        }
        string axes = c.Temp(node, "axes"), row = c.Temp(node, "row"), pooled = c.Temp(node, "pooled");
        c.Int64s(axes, 1);
        c.Node("Unsqueeze", new[] { weights, axes }, row);
        c.Node("MatMul", new[] { row, x }, pooled);
        c.Node("Squeeze", new[] { pooled, axes }, c.Y(node));
    }
}
