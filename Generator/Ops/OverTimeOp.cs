using System.Collections.Generic;
using System.Collections.Immutable;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>MaxOverTime</c> and <c>MeanOverTime</c>: [C,T] -> [C], T fixed or symbolic, over the valid steps of each row when a
/// mask is given (<see cref="MaskArg"/>: the mask's lengths; a row with none gives 0). The value may be shorter than the mask
/// by a constant (after a stride-1 <c>Conv1d</c>: [C,T-k+1]): a row of L tokens then has L-k+1 valid steps, the windows
/// lying within it, so a padded batch gives what each sequence gives alone. Max owns the winning step of each
/// (n, c) for backward; mean reads the lengths again.
/// </summary>
internal sealed class OverTimeOp : Op
{
    public const string MaxKey = "MaxOverTime";
    public const string MeanKey = "MeanOverTime";

    private readonly string _key;

    public OverTimeOp(string key) => _key = key;

    public override string Key => _key;

    public override bool TakesSymbols => true;

    /// <summary>Both backwards read only buffers they own (the argmax, the lengths).</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    private bool IsMax => _key == MaxKey;

    public override LayerOutcome Infer(LayerInput i)
    {
        if (i.Shape.Length != 2)
        {
            return LayerRules.Mismatch(i, "[N,C,T]");
        }
        if (LayerRules.RequireFixed(i, 0, "channel count (dimension 1)") is { } symbolic)
        {
            return symbolic;
        }
        var time = i.IsSymbolic ? i.Dims[1] : Dim.Of(i.Shape[1]);
        if (MaskArg.CheckShifted(i, time) is { } mask)
        {
            return mask;
        }
        long channels = i.Shape[0];
        bool symbolicOut = i.IsSymbolic || (i.Net(MaskArg.Parameter)?.IsSymbolic ?? false);
        return new LayerOutcome
        {
            Op = _key,
            Shape = ImmutableArray.Create(channels),
            Flops = checked(channels * i.Shape[1]),
            Dims = symbolicOut ? ImmutableArray.Create(Dim.Of(channels)) : default,
        };
    }

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        if (IsMax)
        {
            yield return new BufferDecl(Names.Field(Argmax(node)), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, global::Dsl.DType.Int32, {Names.Shape(node.Shape)})",
                "the winning step of each (n, c)", Elements: node.Elements, Evaluation: true);
        }
        if (MaskArg.Buffer(node) is { } lengths)
        {
            yield return lengths;
        }
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        string lengths = MaskArg.Forward(c, node, input.Dims[1]);
        string y = c.Slot(node);
        c.Line(IsMax
            ? $"device.MaxOverTime({c.X(node)}, {lengths}, {y}, {Names.Field(Argmax(node))}.Rows(n), n, {Sizes(input)});"
            : $"device.MeanOverTime({c.X(node)}, {lengths}, {y}, n, {Sizes(input)});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        c.Guarded(IsMax
            ? $"device.MaxOverTimeBackward({c.Dy(node)}, {Names.Field(Argmax(node))}.Rows(n), {c.Dx(node)}, n, {Sizes(input)}, accumulate: {Names.Bool(accumulate)});"
            : $"device.MeanOverTimeBackward({c.Dy(node)}, {MaskArg.Backward(c, node)}, {c.Dx(node)}, n, {Sizes(input)}, accumulate: {Names.Bool(accumulate)});",
            node.Id, input.Id);
    }

    /// <summary><c>100, dimT</c>: the channels and the time steps of the input.</summary>
    private static string Sizes(GraphNode input) => input.Dims[0].Code + ", " + input.Dims[1].Code;

    private static string Argmax(GraphNode node) => "argmax" + node.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// ONNX: <c>ReduceMax</c>/<c>ReduceMean</c> over T; with a mask, over each row's valid steps only (the lengths shifted as
    /// the forward shifts them): padded steps are -float.MaxValue for the max and 0 in the sum, the mean divides by the
    /// length, and a row without valid steps gives 0.
    /// </summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        string x = c.X(node);
        if (!MaskArg.Given(node))
        {
            c.Node(IsMax ? "ReduceMax" : "ReduceMean", new[] { x }, c.Y(node), c.Ints("axes", 2), c.Int("keepdims", 0));
            return;
        }
        long shift = (c.Input(node).Dims[1] - c.NetNode(node, MaskArg.Parameter)!.Dims[0]).Constant;
        string lengths = MaskArg.ExportLengths(c, node, shift);
        string valid = MaskArg.ExportValid(c, node, x, lengths);
        if (IsMax)
        {
            string lowest = c.Temp(node, "lowest"), masked = c.Temp(node, "masked"), max = c.Temp(node, "max");
            c.Fill(lowest, -float.MaxValue);
            c.Node("Where", new[] { valid, x, lowest }, masked);
            c.Node("ReduceMax", new[] { masked }, max, c.Ints("axes", 2), c.Int("keepdims", 0));
            string zero = c.Temp(node, "zero"), any = c.Temp(node, "any");
            c.Fill(zero, 0);
            c.Node("Greater", new[] { lengths, zero }, any);
            c.Node("Where", new[] { any, max, zero }, c.Y(node));
            return;
        }
        string weights = c.Temp(node, "valid_float"), kept = c.Temp(node, "kept"), axes = c.Temp(node, "axes"), sum = c.Temp(node, "sum");
        c.Node("Cast", new[] { valid }, weights, c.Int("to", 1));
        c.Node("Mul", new[] { x, weights }, kept);
        c.Int64s(axes, 2);
        c.Node("ReduceSum", new[] { kept, axes }, sum, c.Int("keepdims", 0));
        string one = c.Temp(node, "one"), count = c.Temp(node, "count");
        c.Fill(one, 1);
        c.Node("Max", new[] { lengths, one }, count);
        c.Node("Div", new[] { sum, count }, c.Y(node));
    }
}
