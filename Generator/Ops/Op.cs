using System;
using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Emit;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Ops;

/// <summary>
/// A buffer an operation owns beyond its value and gradient (a dropout mask, max pooling's argmax, batch norm's
/// saved statistics): its field, type and construction, declared in one place so the emitter (and later a memory
/// planner) can treat every op's buffers alike.
/// </summary>
/// <remarks>
/// <paramref name="Elements"/> counts the elements per sample of a buffer sized by the batch (zero for one that is not),
/// and <paramref name="Evaluation"/> says whether an evaluation forward touches it: both feed the planned bytes per sample.
/// </remarks>
internal sealed record BufferDecl(string Field, string Type, string Create, string? Comment = null, long Elements = 0, bool Evaluation = false);

/// <summary>
/// What an op's backward reads of its own values (its <see cref="Output"/>, its inputs by position): what a training step
/// must keep alive until that backward, and nothing more (<see cref="MemoryPlan"/>).
/// </summary>
internal sealed record Keeps(bool Output, params int[] Inputs)
{
    public static readonly Keeps Nothing = new(false);
    public static readonly Keeps TheOutput = new(true);
    public static readonly Keeps FirstInput = new(false, 0);
}

/// <summary>
/// One operation of the network graph, defined in one place: the <c>Dsl.Layers</c> calls bound to it and its shape rule
/// (<see cref="Infer"/>), the buffers it owns (<see cref="Buffers"/>), and its forward and backward emission.
/// <c>Forward</c>, <c>Backward</c>, the buffer declarations and the summary loop over <see cref="OpTable"/>; an operation
/// the table does not know is an internal error, never a silent pass-through.
/// </summary>
internal abstract class Op
{
    /// <summary>The graph node's op key (<see cref="GraphNode.Op"/>).</summary>
    public abstract string Key { get; }

    /// <summary>The <c>Dsl.Layers</c> members bound to this op (several calls may share one op: Softmax and LogSoftmax).</summary>
    public virtual IEnumerable<string> Calls => new[] { Key };

    /// <summary>
    /// The shape rule of a catalogue call: output shape, parameters (PyTorch layouts and initialisers), attributes and
    /// forward FLOPs per sample, or an exact error. Pure; arithmetic is checked (<see cref="Checked"/>).
    /// </summary>
    public virtual LayerOutcome Infer(LayerInput input)
        => throw new InvalidOperationException($"{Key} is not bound to a catalogue call");

    /// <summary>
    /// The slot holding the node's value: a <c>BufferSlot</c> by default, a view for ops that only reshape, none for the input.
    /// </summary>
    public virtual BufferDecl? ValueSlot(Plan plan, GraphNode node)
        => !node.IsSymbolic ? plan.Memory.Value(node)
            : Value == ValueStorage.Planned ? Names.SymbolicSlot(Names.Value(node), node, evaluation: true)
            : Value == ValueStorage.Caller ? null
            : throw new InvalidOperationException($"{Key} takes symbols but its value is neither planned nor the caller's");

    /// <summary>Where the node's value lives: a planned slot unless the op says otherwise.</summary>
    public virtual ValueStorage Value => ValueStorage.Planned;

    /// <summary>The values the op's backward reads; declared by every op, so a training step keeps exactly those.</summary>
    public abstract Keeps BackwardReads(GraphNode node);

    /// <summary>Whether the node has a gradient buffer of its own (false for an op whose outputs own theirs).</summary>
    public virtual bool HasGradient => true;

    /// <summary>
    /// True for an op that hands its gradient to an input unchanged (<c>Flatten</c>, <c>+</c>): the planner may make that
    /// input's gradient an alias of the op's own (<see cref="MemoryPlan.GradientAlias"/>), and the backward then writes nothing.
    /// </summary>
    public virtual bool PassesGradient => false;

    /// <summary>How Backward fetches the node's value from its slot.</summary>
    public virtual string FetchValue(Plan plan, GraphNode node) => Names.Field(Names.Value(node)) + "." + Names.Rows(node);

    /// <summary>The slot holding the node's gradient (a <c>BufferSlot</c>; none for an op whose outputs own theirs).</summary>
    public virtual BufferDecl? GradSlot(Plan plan, GraphNode node)
        => !node.IsSymbolic ? plan.Memory.Gradient(node) : plan.HasGradient(node) ? Names.SymbolicSlot(Names.Grad(node), node) : null;

    /// <summary>
    /// True when the shape rule computes with symbolic dimensions (<see cref="LayerInput.Dims"/>, setting
    /// <see cref="LayerOutcome.Dims"/>) and its emission sizes buffers through <see cref="Names.Rows"/>. Otherwise the
    /// expander refuses an input with a symbol (DSL1012) before the rule runs.
    /// </summary>
    public virtual bool TakesSymbols => false;

    /// <summary>
    /// True for an op whose piped input is int64 token ids (<c>Embedding</c>): the expander refuses anything else (DSL1015).
    /// Every other op refuses a token or mask input (DSL1014); the values given to its Net parameters are its shape rule's
    /// to check (<see cref="LayerInput.Nets"/>).
    /// </summary>
    public virtual bool TakesTokens => false;

    /// <summary>
    /// True when the op's evaluation forward computes each sample from that sample alone and its emission reaches every
    /// per-batch buffer through <see cref="ForwardContext.Slot"/>, <see cref="ForwardContext.PartRows"/> or <see cref="ForwardContext.PartView"/>: the network may then
    /// run an evaluation forward as row parts, each through every layer on a thread of its own (<see cref="Plan.SplitsEvaluation"/>).
    /// False unless the op says so: a wrong true races two threads on one buffer.
    /// </summary>
    public virtual bool RunsOnRowParts(GraphNode node) => false;

    /// <summary>Buffers the op owns besides its value and gradient, declared once for fields and constructor.</summary>
    public virtual IEnumerable<BufferDecl> Buffers(Plan plan, GraphNode node) => Enumerable.Empty<BufferDecl>();

    /// <summary>Statements run in the constructor after the buffers exist (batch norm registers its running statistics).</summary>
    public virtual IEnumerable<string> Registrations(Plan plan, GraphNode node) => Enumerable.Empty<string>();

    /// <summary>Writes the forward statement(s): compute the node's value from its inputs.</summary>
    public abstract void Forward(ForwardContext c, GraphNode node);

    /// <summary>Writes the backward statement(s): the inputs' gradients from the node's gradient, and the parameters' gradients.</summary>
    public abstract void Backward(BackwardContext c, GraphNode node);

    /// <summary>
    /// Writes the op's ONNX mapping into the network's <c>DescribeOnnx</c> (<see cref="OnnxExport"/>): nodes computing the
    /// value from the inputs' as the evaluation forward does. An op without a mapping keeps this one, an explicit refusal:
    /// <c>Onnx.Export</c> then names the layer (op and label) and writes nothing, so a new op compiles before it has one.
    /// </summary>
    public virtual void Export(ExportContext c, GraphNode node) => c.Refuse(node);
}

/// <summary>Every operation, by op key and by the <c>Dsl.Layers</c> call that creates it. Unknown keys throw.</summary>
internal static class OpTable
{
    private static readonly Op[] All =
    {
        new InputOp(),
        new LinearOp(),
        new ActivationOp(),
        new DropoutOp(),
        new FlattenOp(),
        new SoftmaxOp(),
        new Conv2dOp(),
        new Pool2dOp(Pool2dOp.MaxKey),
        new Pool2dOp(Pool2dOp.AvgKey),
        new AdaptiveAvgPool2dOp(),
        new BatchNormOp(BatchNormOp.Name1d),
        new BatchNormOp(BatchNormOp.Name2d),
        new LayerNormOp(),
        new AddOp(),
        new ConcatOp(),
        new ChunkOp(),
        new SelectOp(),
        new MulOp(),
        new EmbeddingOp(),
        new TransposeOp(),
        new Conv1dOp(),
        new Pool1dOp(Pool1dOp.MaxKey),
        new Pool1dOp(Pool1dOp.AvgKey),
        new OverTimeOp(OverTimeOp.MaxKey),
        new OverTimeOp(OverTimeOp.MeanKey),
        new RecurrentOp(),
        new LastOp(),
        new AttentionPoolOp(),
        new AttentionOp(),
        new ElementwiseOp(),
        new MatMulOp(),
        new ReshapeOp(),
        new PermuteOp(),
        new SliceOp(),
        new MaskedFillOp(),
        new MultiHeadAttentionOp(), new TransformerEncoderLayerOp(), new TransformerDecoderLayerOp(), new PositionalEncodingOp(),
    };

    private static readonly Dictionary<string, Op> ByKey = All.ToDictionary(o => o.Key);

    private static readonly Dictionary<string, Op> ByCall = All
        .SelectMany(o => o.Calls.Select(call => (call, o)))
        .ToDictionary(p => p.call, p => p.o);

    /// <summary>The op of a graph node; an unknown key is a generator bug and throws (reported as DSL0999).</summary>
    public static Op Of(string key)
        => ByKey.TryGetValue(key, out var op) ? op : throw new InvalidOperationException($"the op table has no operation '{key}'");

    public static Op Of(GraphNode node) => Of(node.Op);

    /// <summary>The op a catalogue call creates, or null when the call is not a layer of the table.</summary>
    public static Op? ForCall(string call) => ByCall.TryGetValue(call, out var op) ? op : null;
}
