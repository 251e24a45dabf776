using Dsl.Generator.Diagnostics;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// The <c>mask:</c> argument every mask-aware layer shares (<c>MaxOverTime(mask: m)</c>, <c>Lstm(64, mask: m)</c>): its
/// compile-time check (DSL1018), the lengths buffer it becomes, and the forward statement that fills it with
/// <c>Device.MaskLengths</c> (which refuses a mask that is not 1s followed by 0s). Kernels take the lengths (int64 [N]).
/// </summary>
internal static class MaskArg
{
    /// <summary>The name of the Net parameter.</summary>
    public const string Parameter = "mask";

    /// <summary>The dtype attribute of a <c>Mask(...)</c> input, as <see cref="NetArg.DType"/> reports it.</summary>
    public const string DType = InputOp.MaskType;

    /// <summary>
    /// DSL1018 unless the mask given (if any) is a <c>Mask(...)</c> input [N, <paramref name="length"/>]: the value's padded
    /// length, the same symbol (or size). Null when it fits or none was given.
    /// </summary>
    public static LayerOutcome? Check(LayerInput i, Dim length) => Check(i, length, shifted: false);

    /// <summary>
    /// As <see cref="Check(LayerInput, Dim)"/>, but the value's <paramref name="length"/> may also be the mask's shifted by a
    /// constant (<c>T-2</c> after <c>Conv1d(..., kernel: 3)</c> on a mask [N,T]): each row then has its length plus that
    /// constant valid steps (<see cref="Forward(ForwardContext, GraphNode, Dim)"/>), what the layers leave of it alone.
    /// </summary>
    public static LayerOutcome? CheckShifted(LayerInput i, Dim length) => Check(i, length, shifted: true);

    private static LayerOutcome? Check(LayerInput i, Dim length, bool shifted)
    {
        var mask = i.Net(Parameter);
        if (mask is null || mask.DType == DType && mask.Dims.Length == 1 && (mask.Dims[0].Equals(length) || shifted && (length - mask.Dims[0]).IsConstant))
        {
            return null;
        }
        var expected = shifted ? Unshifted(length) : length;
        return LayerOutcome.Fail(Descriptors.MaskMismatch, i.Source, expected.ToString(), i.Received, i.From, mask.Text, mask.DTypeText, mask.From);
    }

    /// <summary><c>T</c> for a length <c>T-2</c> (one symbol plus a constant); the length itself otherwise.</summary>
    private static Dim Unshifted(Dim length)
    {
        foreach (string symbol in length.Symbols)
        {
            if ((length - Dim.Symbol(symbol)).IsConstant)
            {
                return Dim.Symbol(symbol);
            }
        }
        return length;
    }

    /// <summary>True when the call was given a mask.</summary>
    public static bool Given(GraphNode node) => node.NetInput(Parameter) >= 0;

    /// <summary>The lengths buffer (int64 [N]) of a node given a mask, or null.</summary>
    public static BufferDecl? Buffer(GraphNode node)
        => Given(node)
            ? new BufferDecl(Names.Field(Local(node)), "global::Dsl.BufferSlot", "new global::Dsl.BufferSlot(device, global::Dsl.DType.Int64)",
                // Elements count float32s per sample: one int64 is two.
                "the mask's lengths (int64 [N])", Elements: 2, Evaluation: true)
            : null;

    /// <summary>
    /// Writes the statements turning the mask into lengths and returns the local holding them, or <c>null</c> (as code)
    /// when no mask was given.
    /// </summary>
    public static string Forward(ForwardContext c, GraphNode node) => Forward(c, node, null);

    /// <summary>
    /// As <see cref="Forward(ForwardContext, GraphNode)"/> for a value of length <paramref name="length"/> that
    /// <see cref="CheckShifted"/> accepted: each row's length is shifted by the same constant.
    /// </summary>
    public static string Forward(ForwardContext c, GraphNode node, Dim? length)
    {
        if (!Given(node))
        {
            return "null";
        }
        string lengths = Local(node);
        var mask = c.NetNode(node, Parameter)!;
        long shift = length is null ? 0 : (length - mask.Dims[0]).Constant;
        string owner = c.Plan.Model.ClassName + ".Forward: input '" + InputOp.Parameter(mask) + "'";
        c.Line($"var {lengths} = {Names.Field(lengths)}.Rows(n);");
        c.Line($"device.MaskLengths({c.Net(node, Parameter)}, {lengths}, {Names.Literal(owner)}{(shift != 0 ? ", shift: " + Names.Int(shift) : "")});");
        return lengths;
    }

    /// <summary>The lengths the forward computed, fetched for backward, or <c>null</c> (as code) when no mask was given.</summary>
    public static string Backward(BackwardContext c, GraphNode node)
        => Given(node) ? c.Fetch(Local(node), Names.Field(Local(node)) + ".Rows(n)") : "null";

    private static string Local(GraphNode node) => Names.Value(node) + "_lengths";

    /// <summary>
    /// ONNX: each row's valid steps as float [N,1] (the mask's 1s, summed over T), shifted by <paramref name="shift"/> and
    /// floored at 0 as <c>Device.MaskLengths</c> does. Returns the value's name (as a literal).
    /// </summary>
    public static string ExportLengths(ExportContext c, GraphNode node, long shift = 0)
    {
        string axes = c.Temp(node, "mask_axes");
        c.Int64s(axes, 1);
        string sum = c.Temp(node, "mask_sum");
        c.Node("ReduceSum", new[] { c.Net(node, Parameter), axes }, sum, c.Int("keepdims", 1));
        if (shift == 0)
        {
            return sum;
        }
        string by = c.Temp(node, "mask_shift"), zero = c.Temp(node, "mask_zero"), shifted = c.Temp(node, "mask_shifted"), lengths = c.Temp(node, "mask_lengths");
        c.Fill(by, shift);
        c.Fill(zero, 0);
        c.Node("Add", new[] { sum, by }, shifted);
        c.Node("Max", new[] { shifted, zero }, lengths);
        return lengths;
    }

    /// <summary>
    /// ONNX: which steps of <paramref name="x"/> [N,C,T'] are valid, bool [N,1,T']: t &lt; the row's length
    /// (<paramref name="lengths"/>, float [N,1]), T' read from x at run time so the length stays dynamic.
    /// </summary>
    public static string ExportValid(ExportContext c, GraphNode node, string x, string lengths)
    {
        string shape = c.Temp(node, "time"), scalar = c.Temp(node, "time_scalar"), time = c.Temp(node, "time_float");
        c.Node("Shape", new[] { x }, shape, c.Int("start", 2), c.Int("end", 3));
        c.Node("Squeeze", new[] { shape }, scalar);
        c.Node("Cast", new[] { scalar }, time, c.Int("to", 1));
        string start = c.Temp(node, "time_start"), step = c.Temp(node, "time_step"), steps = c.Temp(node, "steps");
        c.Fill(start, 0);
        c.Fill(step, 1);
        c.Node("Range", new[] { start, time, step }, steps);
        string axes = c.Temp(node, "lengths_axes"), column = c.Temp(node, "lengths_column"), valid = c.Temp(node, "valid");
        c.Int64s(axes, 2);
        c.Node("Unsqueeze", new[] { lengths, axes }, column);
        c.Node("Less", new[] { steps, column }, valid);
        return valid;
    }
}
