using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>nn.LayerNorm(normalized_shape, eps, elementwise_affine)</c> over the last one to three dimensions, which must equal
/// the normalised shape: each of the R rows of a sample (the leading dimensions) is normalised over its F values with its
/// own mean and biased variance; weight (1) and bias (0) of the normalised shape when affine. Owns the mean and
/// 1/sqrt(var + eps) of every row, which backward reads with x.
/// https://pytorch.org/docs/stable/generated/torch.nn.LayerNorm.html
/// </summary>
internal sealed class LayerNormOp : Op
{
    public const string Name = "LayerNorm";

    public override string Key => Name;

    /// <summary>Backward reads x (with the saved statistics it owns) to rebuild x-hat.</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.FirstInput;

    public override LayerOutcome Infer(LayerInput i)
    {
        var dims = new[] { "normalizedShape", "normalizedShape0", "normalizedShape1", "normalizedShape2" }
            .Where(i.Args.Has).Select(i.Args.Int).ToArray();
        double eps = i.Args.Number("eps");
        if (dims.Any(d => d <= 0) || !(eps > 0))
        {
            return LayerRules.Invalid(i, $"the normalised shape must be positive and eps positive, got [{string.Join(", ", dims)}] and {LayerArgs.Format(eps)}");
        }
        int k = dims.Length;
        if (i.Shape.Length < k || !i.Shape.Skip(i.Shape.Length - k).Select(d => (long)d).SequenceEqual(dims))
        {
            return LayerRules.Mismatch(i, "[N,...," + string.Join(",", dims) + "]");
        }
        long features = LayerRules.Elements(dims);
        long elements = LayerRules.Elements(i.Shape);
        bool affine = i.Args.Bool("elementwiseAffine");
        var o = new LayerOutcome { Op = Name, Shape = LayerRules.Long(i.Shape), NamePrefix = "ln", Flops = checked(8 * elements) };
        if (affine)
        {
            o.Params.Add(("weight", dims, "ones", 0));
            o.Params.Add(("bias", dims, "zeros", 0));
        }
        return o.With("eps", eps).With("features", features).With("rows", elements / features);
    }

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        long rows = node.IntAttr("rows");
        yield return new BufferDecl(Names.Field(SaveMean(node)), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, {Names.Int(rows)})", Elements: rows, Evaluation: true);
        yield return new BufferDecl(Names.Field(SaveInvStd(node)), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, {Names.Int(rows)})", Elements: rows, Evaluation: true);
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"device.LayerNorm({c.X(node)}, {Names.ParamValue(node, "weight")}, {Names.ParamValue(node, "bias")}, {Names.Field(SaveMean(node))}.Rows(n), "
            + $"{Names.Field(SaveInvStd(node))}.Rows(n), {y}, rows: {Rows(node)}, features: {node.Attr("features")}, eps: {Names.FloatAttr(node, "eps")});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        // dx may be null (the input's gradient was not asked for): the kernel then computes only the parameters' gradients.
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        c.Line($"device.LayerNormBackward({c.X(node)}, {Names.ParamValue(node, "weight")}, {Names.Field(SaveMean(node))}.Rows(n), {Names.Field(SaveInvStd(node))}.Rows(n), "
            + $"{c.Dy(node)}, {c.Dx(node)}, {Names.ParamGrad(node, "weight")}, {Names.ParamGrad(node, "bias")}, rows: {Rows(node)}, features: {node.Attr("features")}, "
            + $"accumulateDx: {Names.Bool(accumulate)});");
    }

    /// <summary>Rows of the batch: <c>n</c> times the rows of one sample.</summary>
    private static string Rows(GraphNode node) => node.IntAttr("rows") == 1 ? "n" : $"n * {node.Attr("rows")}";

    private static string SaveMean(GraphNode node) => "lnMean" + Names.Int(node.Id);

    private static string SaveInvStd(GraphNode node) => "lnInvStd" + Names.Int(node.Id);

    /// <summary>
    /// ONNX's <c>LayerNormalization</c> (opset 17) over the last k axes whose sizes multiply to the features; without
    /// affine parameters the required scale is a constant of ones.
    /// </summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        // k: the weight's rank when affine; otherwise the fewest trailing axes holding the features (sizes of 1 before
        // them change nothing normalised, and the ones below take that shape).
        var weight = node.Params.FirstOrDefault(p => p.Name.EndsWith(".weight", System.StringComparison.Ordinal));
        long features = node.IntAttr("features");
        int k = weight?.Shape.Count ?? 0;
        for (long product = 1; weight is null && product != features; k++)
        {
            product *= node.Shape[node.Shape.Count - 1 - k];
        }
        string? scale = c.Param(node, "weight");
        if (scale is null)
        {
            scale = c.Temp(node, "ones");
            c.Fill(scale, 1.0, node.Shape.Skip(node.Shape.Count - k).Select(d => (long)d).ToArray());
        }
        c.Node("LayerNormalization", new[] { c.X(node), scale, c.Param(node, "bias") }, c.Y(node), c.Int("axis", -k), c.FloatAttr("epsilon", node, "eps"));
    }
}
