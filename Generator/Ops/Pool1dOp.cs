using System.Collections.Generic;
using System.Collections.Immutable;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>nn.MaxPool1d</c> (owns its argmax) and <c>nn.AvgPool1d</c> (ceil_mode off): [C,L] -> [C,L'],
/// L' = floor((L + 2*padding - kernel) / stride) + 1, L fixed or symbolic; stride defaults to the kernel.
/// </summary>
internal sealed class Pool1dOp : Op
{
    public const string MaxKey = "MaxPool1d";
    public const string AvgKey = "AvgPool1d";

    private readonly string _key;

    public Pool1dOp(string key) => _key = key;

    public override string Key => _key;

    public override bool TakesSymbols => true;

    /// <summary>Max pooling's backward reads only the argmax it owns; average pooling's reads nothing.</summary>
    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    private bool IsMax => _key == MaxKey;

    public override LayerOutcome Infer(LayerInput i)
    {
        if (i.Shape.Length != 2)
        {
            return LayerRules.Mismatch(i, "[N,C,L]");
        }
        if (LayerRules.RequireFixed(i, 0, "channel count (dimension 1)") is { } symbolic)
        {
            return symbolic;
        }
        long k = i.Args.Int("kernel");
        long stride = i.Args.Has("stride") ? i.Args.Int("stride") : k;
        long padding = i.Args.Int("padding");
        if (k <= 0 || stride <= 0 || padding < 0)
        {
            return LayerRules.Invalid(i, $"kernel and stride must be positive and padding not negative, got {k}, {stride}, {padding}");
        }
        if (padding > k / 2)
        {
            return LayerRules.Invalid(i, $"padding {padding} must be at most half the kernel {k}, as in PyTorch");
        }
        var (length, error) = Window1d.Length(i, k, padding, stride, "");
        if (error is not null)
        {
            return error;
        }
        long outLength = length.IsConstant ? length.Constant : 1;
        var o = new LayerOutcome
        {
            Op = _key,
            Shape = ImmutableArray.Create((long)i.Shape[0], outLength),
            Flops = checked(i.Shape[0] * outLength * k),
            Dims = i.IsSymbolic ? ImmutableArray.Create(i.Dims[0], length) : default,
        }.With("kernel", k).With("stride", stride).With("padding", padding);
        return IsMax ? o : o.With("countIncludePad", i.Args.Bool("countIncludePad"));
    }

    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        if (IsMax)
        {
            yield return node.IsSymbolic
                ? new BufferDecl(Names.Field(Argmax(node)), "global::Dsl.SymbolicSlot", "new global::Dsl.SymbolicSlot(device, global::Dsl.DType.Int32)",
                    ShapeText.Of(node) + ", grows to the largest size seen", Elements: node.Elements, Evaluation: true)
                : new BufferDecl(Names.Field(Argmax(node)), "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, global::Dsl.DType.Int32, {Names.Shape(node.Shape)})", Elements: node.Elements, Evaluation: true);
        }
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        Window1d.Check(c, input, node, Window1d.Minimum(node.IntAttr("kernel"), node.IntAttr("padding")));
        string y = c.Slot(node);
        string geometry = Geometry(input, node);
        c.Line(IsMax
            ? $"device.MaxPool1d({c.X(node)}, {y}, {Names.Field(Argmax(node))}.{Names.Rows(node)}, {geometry});"
            : $"device.AvgPool1d({c.X(node)}, {y}, {geometry}, countIncludePad: {node.Attr("countIncludePad")});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        var input = c.Input(node);
        bool accumulate = c.Accumulate(input.Id);
        string geometry = Geometry(input, node);
        string relu = IsMax ? c.Plan.Fusion.ReluOutputArgument(c, node) : "";
        c.Guarded(IsMax
            ? $"device.MaxPool1dBackward({c.Dy(node)}, {Names.Field(Argmax(node))}.{Names.Rows(node)}, {c.Dx(node)}, {geometry}, accumulate: {Names.Bool(accumulate)}{relu});"
            : $"device.AvgPool1dBackward({c.Dy(node)}, {c.Dx(node)}, {geometry}, countIncludePad: {node.Attr("countIncludePad")}, accumulate: {Names.Bool(accumulate)});",
            node.Id, input.Id);
    }

    private static string Argmax(GraphNode node) => "argmax" + node.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary><c>new Pool1dGeometry(n, Channels: 100, Length: dimT, Kernel: 2, Stride: 2)</c>.</summary>
    private static string Geometry(GraphNode input, GraphNode node)
    {
        var x = input.Dims;
        int p = node.IntAttr("padding");
        string pad = p != 0 ? $", Padding: {p}" : "";
        return $"new global::Dsl.Pool1dGeometry(n, Channels: {x[0].Code}, Length: {x[1].Code}, Kernel: {node.Attr("kernel")}, Stride: {node.Attr("stride")}{pad})";
    }

    /// <summary>ONNX's <c>MaxPool</c> or <c>AveragePool</c> with one spatial axis (floor mode, as the forward).</summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        int k = node.IntAttr("kernel"), s = node.IntAttr("stride"), p = node.IntAttr("padding");
        var attributes = new List<string> { c.Ints("kernel_shape", k), c.Ints("strides", s) };
        if (p != 0)
        {
            attributes.Add(c.Ints("pads", p, p));
        }
        if (!IsMax)
        {
            attributes.Add(c.Int("count_include_pad", node.Attr("countIncludePad") == "true" ? 1 : 0));
        }
        c.Node(IsMax ? "MaxPool" : "AveragePool", new[] { c.X(node) }, c.Y(node), attributes.ToArray());
    }
}
