using System;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;

namespace Dsl.Generator.Ops;

/// <summary>
/// <c>Input(c, h, w)</c>: the caller's tensor. The expander creates it (it starts the graph, its shape is the call's
/// arguments); it owns no slot and emits nothing: Forward binds it from its parameter, its gradient is written by its consumers.
/// </summary>
internal sealed class InputOp : Op
{
    public const string Name = "Input";

    public override string Key => Name;

    public override ValueStorage Value => ValueStorage.Caller;

    public override Keeps BackwardReads(GraphNode node) => Keeps.Nothing;

    public override string FetchValue(Plan plan, GraphNode node) => Field(plan, node) + "!";

    /// <summary>The attribute holding the input's name (its <c>Forward</c> parameter).</summary>
    public const string NameAttr = "name";

    /// <summary>The calls declaring a token (int64) input and a mask (float32 0/1) input; they make Input nodes with a dtype attribute.</summary>
    public const string TokensCall = "Tokens";
    public const string MaskCall = "Mask";

    /// <summary>The attribute holding a typed input's element type (absent for a float32 input).</summary>
    public const string DTypeAttr = "dtype";
    public const string Int64 = "int64";
    public const string MaskType = "mask";

    /// <summary>True for a token or mask input: bound and checked at Forward, consumed by no layer yet, no gradient.</summary>
    public static bool IsTyped(GraphNode node) => node.Op == Name && node.HasAttr(DTypeAttr);

    /// <summary>The element type as messages say it: <c>float32</c>, <c>int64 token ids</c>, <c>a float32 0/1 mask</c>.</summary>
    public static string DTypeText(GraphNode node) => !node.HasAttr(DTypeAttr) ? "float32"
        : node.Attr(DTypeAttr) == Int64 ? "int64 token ids" : "a float32 0/1 mask";

    /// <summary>The runtime <c>DType</c> the input must have.</summary>
    public static string RuntimeDType(GraphNode node)
        => "global::Dsl.DType." + (node.HasAttr(DTypeAttr) && node.Attr(DTypeAttr) == Int64 ? "Int64" : "Float32");

    /// <summary>The name an input gets when it is not given one.</summary>
    public const string DefaultName = "input";

    /// <summary>The <c>Forward</c> parameter of the input, named as declared.</summary>
    public static string Parameter(GraphNode node) => node.Attr(NameAttr);

    /// <summary>The field keeping the input for Backward: <c>_input</c>, or <c>_input_image</c> when there are several.</summary>
    public static string Field(Plan plan, GraphNode node) => plan.Inputs.Count == 1 ? "_input" : "_input_" + Parameter(node);

    /// <summary>The static per-sample shape checked at Forward: <c>s_inputShape</c>, or <c>s_imageShape</c> when there are several.</summary>
    public static string ShapeField(Plan plan, GraphNode node) => plan.Inputs.Count == 1 ? "s_inputShape" : "s_" + Parameter(node) + "Shape";

    public override void Forward(ForwardContext c, GraphNode node)
        => throw new InvalidOperationException("Input has no forward statement: Forward binds it from its parameter");

    public override void Backward(BackwardContext c, GraphNode node)
        => throw new InvalidOperationException("Input has no backward statement: its consumers write its gradient");

    /// <summary>A graph input named as <c>Forward</c>'s parameter: float32 (a mask too) or int64 token ids, the batch and symbols dynamic.</summary>
    public override void Export(ExportContext c, GraphNode node)
    {
        string dtype = node.HasAttr(DTypeAttr) && node.Attr(DTypeAttr) == Int64 ? "Int64" : "Float32";
        c.Line($"graph.Input({c.Y(node)}, global::Dsl.DType.{dtype}, {ExportContext.Dims(node)});");
    }
}
