using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>nn.BatchNorm1d</c> on [C] or [C,L] and <c>nn.BatchNorm2d</c> on [C,H,W]: per-channel statistics over N and every
/// dimension after C (one kernel: C channels of <see cref="Spatial"/> values per sample); weight 1 and bias 0 to start.
/// The channels are inferred, or stated PyTorch's way (<c>BatchNorm1d(64)</c>) and checked. Owns the batch statistics its
/// forward saves for backward, and (once per layer, a reused layer sharing them) the running statistics saved with the
/// parameters.
/// </summary>
internal sealed class BatchNormOp : Op
{
    public const string Name1d = "BatchNorm1d";
    public const string Name2d = "BatchNorm2d";

    private readonly string _key;

    public BatchNormOp(string key) => _key = key;

    public override string Key => _key;

    /// <summary>Backward reads x (with the saved statistics it owns) to rebuild x-hat.</summary>
    /// <summary>
    /// With the running statistics in evaluation, sample by sample. Every part also writes the save buffers (per channel, for a
    /// backward in evaluation mode): the same values from the same running statistics.
    /// </summary>
    public override bool RunsOnRowParts(GraphNode node) => true;

    public override Keeps BackwardReads(GraphNode node) => Keeps.FirstInput;

    public override LayerOutcome Infer(LayerInput i)
    {
        bool oneD = _key == Name1d;
        if (oneD ? i.Shape.Length is not (1 or 2) : i.Shape.Length != 3)
        {
            return LayerRules.Mismatch(i, oneD ? "[N,C] or [N,C,L]" : "[N,C,H,W]");
        }
        if (i.Args.Has("numFeatures"))
        {
            long declared = i.Args.Int("numFeatures");
            if (declared <= 0)
            {
                return LayerRules.Invalid(i, $"num-features must be positive, got {declared}");
            }
            if (declared != i.Shape[0])
            {
                return LayerRules.Mismatch(i, oneD ? (i.Shape.Length == 1 ? $"[N,{declared}]" : $"[N,{declared},L]") : $"[N,{declared},H,W]");
            }
        }
        double eps = i.Args.Number("eps"), momentum = i.Args.Number("momentum");
        if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
        {
            return LayerRules.Invalid(i, $"eps must be positive and momentum in [0, 1], got {LayerArgs.Format(eps)} and {LayerArgs.Format(momentum)}");
        }
        long c = i.Shape[0];
        var o = new LayerOutcome { Op = _key, Shape = LayerRules.Long(i.Shape), NamePrefix = "bn", Flops = checked(4 * LayerRules.Elements(i.Shape)) };
        o.Params.Add(("weight", new[] { c }, "ones", 0));
        o.Params.Add(("bias", new[] { c }, "zeros", 0));
        return o.With("eps", eps).With("momentum", momentum);
    }

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        string channels = Names.Int(node.Shape[0]);
        yield return new BufferDecl(Names.Field(SaveMean(node)), "global::Dsl.Tensor", $"device.Allocate(global::Dsl.DType.Float32, {channels})");
        yield return new BufferDecl(Names.Field(SaveInvStd(node)), "global::Dsl.Tensor", $"device.Allocate(global::Dsl.DType.Float32, {channels})");
        if (!plan.NeedsGrad[node.Inputs[0]])
        {
            // Batch norm always computes dx; when nobody asked for it, it lands here.
            yield return new BufferDecl(Names.Field(Discard(node)), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, {Names.Shape(node.Shape)})", Elements: node.Elements);
        }
        if (plan.Fusion.FoldedConvOf(node) is { } conv)
        {
            yield return new BufferDecl(Names.Field(Fold(node)), "global::Dsl.FoldedConv", $"new global::Dsl.FoldedConv(device, {Names.Shape(conv.Params[0].Shape)})");
        }
        if (FirstOfLayer(plan, node))
        {
            yield return new BufferDecl(RunningMean(node), "global::Dsl.Tensor", $"AddBuffer({Names.Literal(Owner(node) + ".running_mean")}, global::Dsl.Init.Constant(device, 0f, {channels}))");
            yield return new BufferDecl(RunningVar(node), "global::Dsl.Tensor", $"AddBuffer({Names.Literal(Owner(node) + ".running_var")}, global::Dsl.Init.Constant(device, 1f, {channels}))");
        }
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        if (c.Plan.Fusion.ResidualSumOf(node) is { } sum)
        {
            // The sum runs this batch norm with its other operand added (kept), or the folded convolution (evaluation).
            c.Line($"// computed by {Names.Value(sum)}: the batch norm adds the shortcut as it normalises (kept), the folded convolution as it stores (evaluation)");
            return;
        }
        string y = c.Slot(node);
        var relu = c.Plan.Fusion.ReluOf(node);
        var conv = c.Plan.Fusion.FoldedConvOf(node);
        string call = Call(c, node, y, relu is not null, residual: null);
        if (conv is null)
        {
            if (relu is not null)
            {
                c.Line(Fusion.Comment(node, relu));
            }
            c.Line(call);
            return;
        }
        using (c.W.Block("if (keep)"))
        {
            if (relu is not null)
            {
                c.Line(Fusion.Comment(node, relu));
            }
            c.Line(call);
        }
        using (c.W.Block("else"))
        {
            FoldedForward(c, node, y, relu, sum: null);
        }
    }

    /// <summary>
    /// The call of batch norm <paramref name="bn"/> into <paramref name="y"/> with batch or running statistics as the forward
    /// runs, the ReLU fused when <paramref name="relu"/>, and <paramref name="residual"/> (a value, or null) added before it.
    /// </summary>
    internal static string Call(ForwardContext c, GraphNode bn, string y, bool relu, string? residual)
        => $"device.BatchNorm({c.X(bn)}, {Names.ParamValue(bn, "weight")}, {Names.ParamValue(bn, "bias")}, {RunningMean(bn)}, {RunningVar(bn)}, "
            + $"{Names.Field(SaveMean(bn))}, {Names.Field(SaveInvStd(bn))}, {y}, n, channels: {bn.Shape[0]}, spatial: {Spatial(bn)}, training: _trainingForward, "
            + $"momentum: replay ? 0f : {Names.FloatAttr(bn, "momentum")}, eps: {Names.FloatAttr(bn, "eps")}{(relu ? ", relu: true" : "")}"
            + $"{(residual is null ? "" : $", residual: {residual}")});";

    /// <summary>
    /// The evaluation forward of batch norm <paramref name="bn"/> folded into the convolution before it: the folded weights
    /// refreshed (cached until a parameter or statistic changes), then one convolution into <paramref name="y"/>, with the
    /// ReLU when one is fused and, at a sum that computes the batch norm (<see cref="Fusion.ResidualOf"/>), the sum's other
    /// operand added as the convolution stores its output.
    /// </summary>
    internal static void FoldedForward(ForwardContext c, GraphNode bn, string y, GraphNode? relu, GraphNode? sum)
    {
        var conv = c.Plan.Fusion.FoldedConvOf(bn)!;
        c.Line(Fusion.Comment(conv, bn, sum, relu) + ": batch norm folded into the convolution's weights"
            + (sum is null ? "" : ", the shortcut added as the convolution stores its output"));
        string fold = Names.Field(Fold(bn));
        c.Line($"{fold}.Refresh(this, {Names.Parameter(conv.Params[0].Name)}, {(conv.Params.Count > 1 ? Names.Parameter(conv.Params[1].Name) : "null")}, "
            + $"{Names.Parameter(bn.Params[0].Name)}, {Names.Parameter(bn.Params[1].Name)}, {RunningMean(bn)}, {RunningVar(bn)}, {Names.FloatAttr(bn, "eps")});");
        string? residual = sum is null ? null : Names.Value(c.Plan.Fusion.ShortcutOf(sum));
        c.Line(Conv2dOp.FoldedCall(c, conv, fold, y, relu: relu is not null, residual));
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        string dx = c.Dx(node);
        string target = c.Nullable(input.Id) ? $"{dx} ?? {Names.Field(Discard(node))}.Rows(n)" : dx;
        var relu = c.Plan.Fusion.ReluOf(node);
        if (relu is not null)
        {
            c.Line(Fusion.Comment(node, relu) + ": dy is the ReLU's gradient, masked where the output is not positive");
        }
        // With DeconvNet's or guided backpropagation's ReLU rule the ReLU's backward has applied it to dy already.
        c.Line($"device.BatchNormBackward({c.X(node)}, {Names.ParamValue(node, "weight")}, {Names.Field(SaveMean(node))}, {Names.Field(SaveInvStd(node))}, {c.Dy(node)}, {target}, "
            + $"{Names.ParamGrad(node, "weight")}, {Names.ParamGrad(node, "bias")}, n, channels: {node.Shape[0]}, spatial: {Spatial(node)}, training: _trainingForward, accumulateDx: {Names.Bool(accumulate)}"
            + $"{(relu is not null ? $", reluOutput: ReluBackward == global::Dsl.ReluBackwardRule.Standard ? {c.Y(node)} : null" : "")});");
    }

    /// <summary>The folded weights of the convolution before this batch norm (<c>Dsl.FoldedConv</c>), when it is folded.</summary>
    private static string Fold(GraphNode node) => "fold" + Names.Int(node.Id);

    /// <summary>Elements per channel of a [C], [C, L] or [C, H, W] sample.</summary>
    private static string Spatial(GraphNode node) => Names.Int(node.Elements / node.Shape[0]);

    private static bool FirstOfLayer(Plan plan, GraphNode node)
        => plan.LiveNodes.First(n => n.Op == node.Op && Owner(n) == Owner(node)).Id == node.Id;

    /// <summary>The layer name behind the node's parameters (<c>bn1</c> from <c>bn1.weight</c>).</summary>
    private static string Owner(GraphNode node)
    {
        string first = node.Params[0].Name;
        return first.Substring(0, first.LastIndexOf('.'));
    }

    private static string SaveMean(GraphNode node) => "saveMean" + Names.Int(node.Id);

    private static string SaveInvStd(GraphNode node) => "saveInvStd" + Names.Int(node.Id);

    private static string Discard(GraphNode node) => "discard" + Names.Int(node.Id);

    private static string RunningMean(GraphNode node) => Names.Parameter(Owner(node) + ".running_mean");

    private static string RunningVar(GraphNode node) => Names.Parameter(Owner(node) + ".running_var");

    /// <summary>Evaluation form: ONNX's <c>BatchNormalization</c> with the running statistics (training_mode 0).</summary>
    public override void Export(ExportContext c, GraphNode node)
        => c.Node("BatchNormalization", new[] { c.X(node), c.Param(node, "weight"), c.Param(node, "bias"), c.Name(Owner(node) + ".running_mean"), c.Name(Owner(node) + ".running_var") },
            c.Y(node), c.FloatAttr("epsilon", node, "eps"));
}
