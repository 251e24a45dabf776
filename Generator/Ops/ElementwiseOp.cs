using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>a - b</c>, <c>a / b</c>, and <c>+ - * /</c> whenever the operands' per-sample shapes differ (PyTorch's broadcasting,
/// <see cref="TensorShapes.Broadcast"/>) or one side is a number (<c>scores / 8.0</c>, <c>1.0 - m</c>). Equal shapes under
/// <c>+</c> and <c>*</c> stay <see cref="AddOp"/> and <see cref="MulOp"/>. The expander builds the node: attribute
/// <c>op</c> (Add, Sub, Mul, Div), and for a number <c>scalar</c> and <c>scalarFirst</c> (a single input). Forward is one
/// <c>Device.BroadcastSamples</c>; backward forms each operand's share at the output's shape and sums it over the
/// dimensions the operand was broadcast along (<c>Device.SumToSamples</c>). A mask operand (<c>1.0 - m</c>) gets no gradient.
/// </summary>
internal sealed class ElementwiseOp : Op
{
    public const string Name = "Elementwise";
    public const string OpAttr = "op";
    public const string ScalarAttr = "scalar";
    public const string ScalarFirstAttr = "scalarFirst";

    public override string Key => Name;

    public override bool TakesSymbols => true;

    public static string OpOf(string symbol) => symbol switch
    {
        "+" => "Add",
        "-" => "Sub",
        "*" => "Mul",
        "/" => "Div",
        _ => throw new System.InvalidOperationException($"no element-wise operation '{symbol}'"),
    };

    private static bool HasScalar(GraphNode node) => node.HasAttr(ScalarAttr);

    private static float Scalar(GraphNode node) => (float)double.Parse(node.Attr(ScalarAttr), CultureInfo.InvariantCulture);

    /// <summary>
    /// Add and Sub read nothing; a product reads the other operand; a quotient reads the divisor and its output
    /// (d b = -dy * y / b), a number over a value its input and output.
    /// </summary>
    public override Keeps BackwardReads(GraphNode node) => (node.Attr(OpAttr), HasScalar(node)) switch
    {
        ("Add" or "Sub", _) => Keeps.Nothing,
        ("Mul", false) => new Keeps(false, 0, 1),
        ("Mul", true) => Keeps.Nothing,
        ("Div", false) => new Keeps(true, 1),
        ("Div", true) => node.Attr(ScalarFirstAttr) == "true" ? new Keeps(true, 0) : Keeps.Nothing,
        var other => throw new System.InvalidOperationException($"unknown element-wise operation {other.Item1}"),
    };

    /// <summary>A buffer shaped like the output for a product's or quotient's share before it is summed.</summary>
    public override IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node)
    {
        if (HasScalar(node))
        {
            yield return new BufferDecl(Names.Field(Names.Value(node) + "_scalar"), "global::Dsl.Tensor", "device.Allocate(global::Dsl.DType.Float32, 1)",
                "the number " + node.Attr(ScalarAttr) + ", shared by the batch");
        }
        if (NeedsShare(node))
        {
            yield return new BufferDecl(Names.Field(Share(node)), "global::Dsl.SymbolicSlot", "new global::Dsl.SymbolicSlot(device)",
                ShapeText.Of(node) + ", an operand's share of the gradient before its broadcast dimensions are summed", node.Elements);
        }
    }

    public override IEnumerable<string> Registrations(Plan plan, GraphNode node)
    {
        if (HasScalar(node))
        {
            yield return $"device.Fill({Names.Field(Names.Value(node) + "_scalar")}, {Literal(Scalar(node))});";
        }
    }

    private static bool NeedsShare(GraphNode node)
        => node.Attr(OpAttr) is "Mul" or "Div" && !(HasScalar(node) && !(node.Attr(OpAttr) == "Div" && node.Attr(ScalarFirstAttr) == "true"));

    private static string Share(GraphNode node) => Names.Value(node) + "_share";

    private static string ShareRows(GraphNode node) => Names.Field(Share(node)) + ".Rows(n, " + string.Join(", ", RowDims(node)) + ")";

    private static IEnumerable<string> RowDims(GraphNode node)
    {
        foreach (var d in node.Dims)
        {
            yield return d.Code;
        }
    }

    public override void Forward(ForwardContext c, GraphNode node)
    {
        string y = c.Slot(node);
        string op = "global::Dsl.BinaryOp." + node.Attr(OpAttr);
        if (HasScalar(node))
        {
            string scalar = Names.Field(Names.Value(node) + "_scalar");
            c.Line(node.Attr(ScalarFirstAttr) == "true"
                ? $"device.BroadcastSamples({op}, {scalar}, {c.X(node)}, {y});"
                : $"device.BroadcastSamples({op}, {c.X(node)}, {scalar}, {y});");
            return;
        }
        c.Line($"device.BroadcastSamples({op}, {c.X(node, 0)}, {c.X(node, 1)}, {y});");
    }

    public override void Backward(BackwardContext c, GraphNode node)
    {
        string op = node.Attr(OpAttr);
        if (HasScalar(node))
        {
            var input = c.Input(node);
            if (!c.Plan.HasGradient(input))
            {
                return;
            }
            float s = Scalar(node);
            bool first = node.Attr(ScalarFirstAttr) == "true";
            if (op == "Div" && first)
            {
                // d(s / x) = -s / x^2 dy = -(dy * y) / x.
                string share = c.Fetch(Share(node), ShareRows(node));
                bool acc = c.Accumulate(input.Id);
                c.Guarded($"{{ device.BroadcastSamples(global::Dsl.BinaryOp.Mul, {c.Dy(node)}, {c.Y(node)}, {share}); "
                    + $"device.BroadcastSamples(global::Dsl.BinaryOp.Div, {share}, {c.X(node)}, {share}); "
                    + $"device.SumToSamples({share}, {c.Dx(node)}, -1f, accumulate: {Names.Bool(acc)}); }}", node.Id, input.Id);
                return;
            }
            float alpha = op switch
            {
                "Add" => 1f,
                "Sub" => first ? -1f : 1f,
                "Mul" => s,
                "Div" => 1f / s,
                _ => throw new System.InvalidOperationException($"unknown element-wise operation {op}"),
            };
            bool accumulate = c.Accumulate(input.Id);
            c.Guarded($"device.SumToSamples({c.Dy(node)}, {c.Dx(node)}, {Literal(alpha)}, accumulate: {Names.Bool(accumulate)});", node.Id, input.Id);
            return;
        }
        // x (op) x: the second operand's share accumulates onto the first.
        for (int k = 0; k < 2; k++)
        {
            var input = c.Input(node, k);
            if (!c.Plan.HasGradient(input))
            {
                continue;
            }
            switch (op, k)
            {
                case ("Add", _):
                case ("Sub", 0):
                {
                    bool acc = c.Accumulate(input.Id);
                    c.Guarded($"device.SumToSamples({c.Dy(node)}, {c.Dx(node, k)}, 1f, accumulate: {Names.Bool(acc)});", node.Id, input.Id);
                    break;
                }
                case ("Sub", 1):
                {
                    bool acc = c.Accumulate(input.Id);
                    c.Guarded($"device.SumToSamples({c.Dy(node)}, {c.Dx(node, k)}, -1f, accumulate: {Names.Bool(acc)});", node.Id, input.Id);
                    break;
                }
                case ("Mul", _):
                {
                    string share = c.Fetch(Share(node), ShareRows(node));
                    string other = c.X(node, 1 - k);
                    bool acc = c.Accumulate(input.Id);
                    c.Guarded($"{{ device.BroadcastSamples(global::Dsl.BinaryOp.Mul, {c.Dy(node)}, {other}, {share}); "
                        + $"device.SumToSamples({share}, {c.Dx(node, k)}, 1f, accumulate: {Names.Bool(acc)}); }}", node.Id, input.Id);
                    break;
                }
                case ("Div", 0):
                {
                    string share = c.Fetch(Share(node), ShareRows(node));
                    bool acc = c.Accumulate(input.Id);
                    c.Guarded($"{{ device.BroadcastSamples(global::Dsl.BinaryOp.Div, {c.Dy(node)}, {c.X(node, 1)}, {share}); "
                        + $"device.SumToSamples({share}, {c.Dx(node, k)}, 1f, accumulate: {Names.Bool(acc)}); }}", node.Id, input.Id);
                    break;
                }
                case ("Div", 1):
                {
                    // d b = -dy * a / b^2 = -(dy * y) / b.
                    string share = c.Fetch(Share(node), ShareRows(node));
                    bool acc = c.Accumulate(input.Id);
                    c.Guarded($"{{ device.BroadcastSamples(global::Dsl.BinaryOp.Mul, {c.Dy(node)}, {c.Y(node)}, {share}); "
                        + $"device.BroadcastSamples(global::Dsl.BinaryOp.Div, {share}, {c.X(node, 1)}, {share}); "
                        + $"device.SumToSamples({share}, {c.Dx(node, k)}, -1f, accumulate: {Names.Bool(acc)}); }}", node.Id, input.Id);
                    break;
                }
                default:
                    throw new System.InvalidOperationException($"unknown element-wise operation {op}");
            }
        }
    }

    /// <summary>
    /// ONNX's Add, Sub, Mul or Div: numpy's broadcasting aligns whole tensors from the right, so an operand with fewer
    /// per-sample dimensions is first unsqueezed after the batch (<see cref="Aligned"/>); a number is a scalar constant.
    /// </summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        string op = node.Attr(OpAttr);
        if (HasScalar(node))
        {
            string scalar = c.Temp(node, "scalar");
            c.Fill(scalar, Scalar(node));
            c.Node(op, node.Attr(ScalarFirstAttr) == "true" ? new[] { scalar, c.X(node) } : new[] { c.X(node), scalar }, c.Y(node));
            return;
        }
        int rank = node.Dims.Count;
        c.Node(op, new[] { Aligned(c, node, 0, rank, "a"), Aligned(c, node, 1, rank, "b") }, c.Y(node));
    }

    /// <summary>
    /// Input <paramref name="k"/> of <paramref name="node"/> with size-1 dimensions inserted after the batch up to
    /// <paramref name="rank"/> per-sample dimensions (ONNX's Unsqueeze), so numpy's broadcasting aligns it per sample.
    /// </summary>
    public static string Aligned(ExportContext c, GraphNode node, int k, int rank, string suffix)
    {
        int missing = rank - c.Input(node, k).Dims.Count;
        if (missing <= 0)
        {
            return c.X(node, k);
        }
        string axes = c.Temp(node, suffix + "_axes"), aligned = c.Temp(node, suffix + "_aligned");
        c.Int64s(axes, Enumerable.Range(1, missing).Select(a => (long)a).ToArray());
        c.Node("Unsqueeze", new[] { c.X(node, k), axes }, aligned);
        return aligned;
    }

    /// <summary>A float literal, infinities included (<c>float.NegativeInfinity</c>).</summary>
    public static string Literal(float value)
        => float.IsNegativeInfinity(value) ? "float.NegativeInfinity" : float.IsPositiveInfinity(value) ? "float.PositiveInfinity" : Names.Float(value);
}
