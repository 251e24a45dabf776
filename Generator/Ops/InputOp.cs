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

    public override BufferDecl? ValueSlot(Plan plan, GraphNode node) => null;

    public override string FetchValue(Plan plan, GraphNode node) => "_input!";

    public override void Forward(ForwardContext c, GraphNode node)
        => throw new InvalidOperationException("Input has no forward statement: Forward binds it from its parameter");

    public override void Backward(BackwardContext c, GraphNode node)
        => throw new InvalidOperationException("Input has no backward statement: its consumers write its gradient");
}
