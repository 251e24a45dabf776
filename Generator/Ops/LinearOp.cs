using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>nn.Linear</c> on the last dimension: [..., in] -> [..., out], in-features inferred or stated (checked).
/// Weight [out, in] and bias [out], U(-1/sqrt(in), 1/sqrt(in)).
/// </summary>
internal sealed class LinearOp : Op
{
    public const string Name = "Linear";

    /// <summary>The attribute saying whether the in-features were stated (<c>Linear(16, 4)</c>) rather than inferred.</summary>
    public const string StatedInAttr = "statedIn";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    /// <summary>Backward reads x for the weight gradient.</summary>
    /// <summary>Each row times the weights: any rows of the batch.</summary>
    public override bool RunsOnRowParts(GraphNode node) => true;

    public override Keeps BackwardReads(GraphNode node) => Keeps.FirstInput;

    public override LayerOutcome Infer(LayerInput i)
    {
        long outFeatures = i.Args.Int("outFeatures");
        if (outFeatures <= 0)
        {
            return LayerRules.Invalid(i, $"out-features must be positive, got {outFeatures}");
        }
        if (i.Shape.Length < 1)
        {
            return LayerRules.Mismatch(i, "[N,...,in]");
        }
        if (LayerRules.RequireFixed(i, i.Shape.Length - 1, "in-features (the last dimension)") is { } symbolic)
        {
            return symbolic;
        }
        long inFeatures = i.Shape[i.Shape.Length - 1];
        var shape = LayerRules.Long(i.Shape);
        if (i.Args.Has("inFeatures"))
        {
            long declared = i.Args.Int("inFeatures");
            if (declared <= 0)
            {
                return LayerRules.Invalid(i, $"in-features must be positive, got {declared}");
            }
            if (declared != inFeatures)
            {
                return LayerRules.Mismatch(i, i.IsSymbolic
                    ? ShapeText.Batch(i.Dims.SetItem(i.Dims.Length - 1, Dim.Of(declared)))
                    : ShapeText.Batch(shape.SetItem(shape.Length - 1, declared)));
            }
        }
        bool bias = i.Args.Bool("bias");
        var o = new LayerOutcome
        {
            Op = Name,
            Shape = shape.SetItem(shape.Length - 1, outFeatures),
            NamePrefix = "fc",
            Flops = checked(2L * inFeatures * outFeatures * (LayerRules.Elements(i.Shape) / inFeatures)),
            Dims = i.IsSymbolic ? i.Dims.SetItem(i.Dims.Length - 1, Dim.Of(outFeatures)) : default,
        };
        o.Params.Add(("weight", new[] { outFeatures, inFeatures }, "uniform", inFeatures));
        if (bias)
        {
            o.Params.Add(("bias", new[] { outFeatures }, "uniform", inFeatures));
        }
        return o.With("in", inFeatures).With("out", outFeatures).With("bias", bias).With(StatedInAttr, i.Args.Has("inFeatures"));
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        c.Line($"device.Linear({c.X(node)}, {Names.ParamValue(node, "weight")}, {Names.ParamValue(node, "bias")}, {y});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        // dx may be null (the input's gradient was not asked for, or nothing below is trained): the kernel then skips that product.
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        c.Line($"device.LinearBackward({c.X(node)}, {Names.ParamValue(node, "weight")}, {c.Dy(node)}, {c.DxIfNeeded(node)}, "
            + $"{Names.ParamGrad(node, "weight")}, {Names.ParamGrad(node, "bias")}, accumulateDx: {Names.Bool(accumulate)});");
    }

    /// <summary>[N, in]: ONNX's <c>Gemm</c> (y = x W^T + b). More leading dimensions: <c>MatMul</c> by W^T, then the bias.</summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        string weight = c.Param(node, "weight")!;
        string? bias = c.Param(node, "bias");
        if (node.Dims.Count == 1)
        {
            c.Node("Gemm", new[] { c.X(node), weight, bias }, c.Y(node), c.Int("transB", 1));
            return;
        }
        string transposed = c.Temp(node, "weightT");
        c.Node("Transpose", new[] { weight }, transposed, c.Ints("perm", 1, 0));
        if (bias is null)
        {
            c.Node("MatMul", new[] { c.X(node), transposed }, c.Y(node));
            return;
        }
        string product = c.Temp(node, "matmul");
        c.Node("MatMul", new[] { c.X(node), transposed }, product);
        c.Node("Add", new[] { product, bias }, c.Y(node));
    }
}
