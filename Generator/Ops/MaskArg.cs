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
    public static LayerOutcome? Check(LayerInput i, Dim length)
    {
        var mask = i.Net(Parameter);
        if (mask is null || mask.DType == DType && mask.Dims.Length == 1 && mask.Dims[0].Equals(length))
        {
            return null;
        }
        return LayerOutcome.Fail(Descriptors.MaskMismatch, i.Source, length.ToString(), i.Received, i.From, mask.Text, mask.DTypeText, mask.From);
    }

    /// <summary>True when the call was given a mask.</summary>
    public static bool Given(GraphNode node) => node.NetInput(Parameter) >= 0;

    /// <summary>The lengths buffer (int64 [N]) of a node given a mask, or null.</summary>
    public static BufferDecl? Buffer(GraphNode node)
        => Given(node)
            ? new BufferDecl(Names.Field(Local(node)), "global::Dsl.BufferSlot", "new global::Dsl.BufferSlot(device, global::Dsl.DType.Int64)",
                "the mask's lengths (int64 [N])", Elements: 2, Evaluation: true)
            : null;

    /// <summary>
    /// Writes the statements turning the mask into lengths and returns the local holding them, or <c>null</c> (as code)
    /// when no mask was given.
    /// </summary>
    public static string Forward(ForwardContext c, GraphNode node)
    {
        if (!Given(node))
        {
            return "null";
        }
        string lengths = Local(node);
        var mask = c.NetNode(node, Parameter)!;
        string owner = c.Plan.Model.ClassName + ".Forward: input '" + InputOp.Parameter(mask) + "'";
        c.Line($"var {lengths} = {Names.Field(lengths)}.Rows(n);");
        c.Line($"device.MaskLengths({c.Net(node, Parameter)}, {lengths}, {Names.Literal(owner)});");
        return lengths;
    }

    /// <summary>The lengths the forward computed, fetched for backward, or <c>null</c> (as code) when no mask was given.</summary>
    public static string Backward(BackwardContext c, GraphNode node)
        => Given(node) ? c.Fetch(Local(node), Names.Field(Local(node)) + ".Rows(n)") : "null";

    private static string Local(GraphNode node) => Names.Value(node) + "_lengths";
}
