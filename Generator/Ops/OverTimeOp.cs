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
}
