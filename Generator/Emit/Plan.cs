using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Model;

namespace Dsl.Generator.Emit;

/// <summary>
/// What the emitter needs to know about the graph beyond shapes: which nodes reach the output, who
/// consumes each value, which values need a gradient, and the distinct parameters in definition order.
/// </summary>
internal sealed class Plan
{
    public Plan(NetworkModel model)
    {
        Model = model;
        Nodes = model.Nodes.Items.ToList();
        Live = new bool[Nodes.Count];
        Live[model.Output] = true;
        foreach (int output in model.Outputs)
        {
            Live[output] = true;
        }
        // From the last node: with several outputs, a later output (Outputs(y, y | Last)) may follow the first.
        for (int i = Nodes.Count - 1; i >= 0; i--)
        {
            if (Live[i])
            {
                foreach (int input in Nodes[i].Inputs)
                {
                    Live[input] = true;
                }
            }
        }
        Consumers = Nodes.Select(_ => new List<int>()).ToList();
        foreach (var node in Nodes.Where(n => Live[n.Id]))
        {
            foreach (int input in node.Inputs.Distinct())
            {
                Consumers[input].Add(node.Id);
            }
        }
        // A value needs a gradient when some parameter lies upstream of it (the input's gradient is a runtime option).
        NeedsGrad = new bool[Nodes.Count];
        foreach (var node in Nodes)
        {
            NeedsGrad[node.Id] = node.Op != Ops.InputOp.Name && (node.Params.Count > 0 || node.Inputs.Any(i => NeedsGrad[i]));
        }
        Parameters = Nodes.Where(n => Live[n.Id]).SelectMany(n => n.Params).GroupBy(p => p.Name).Select(g => g.First()).ToList();
    }

    /// <summary>The parameters of layers written inside <c>Frozen(...)</c>, in definition order: they start untrained.</summary>
    public List<ParamSpec> FrozenParameters => LiveNodes.Where(IsFrozen).SelectMany(n => n.Params).GroupBy(p => p.Name).Select(g => g.First()).ToList();

    /// <summary>True for a layer written inside <c>Frozen(...)</c>.</summary>
    public static bool IsFrozen(GraphNode node) => node.Attrs.Any(a => a.Key == Expand.Expander.FrozenAttr);

    public NetworkModel Model { get; }
    public List<GraphNode> Nodes { get; }
    public bool[] Live { get; }
    public List<List<int>> Consumers { get; }
    public bool[] NeedsGrad { get; }
    public List<ParamSpec> Parameters { get; }
    public GraphNode Output => Nodes[Model.Output];
    public GraphNode Input => Inputs[0];

    /// <summary>The inputs in declaration order (the order of <c>Forward</c>'s parameters), used or not.</summary>
    public List<GraphNode> Inputs => Nodes.Where(n => n.Op == Ops.InputOp.Name).ToList();

    public IEnumerable<GraphNode> LiveNodes => Nodes.Where(n => Live[n.Id]);

    /// <summary>True when an input has a symbolic dimension or a dtype other than float32: Forward then binds and checks symbols.</summary>
    public bool Symbolic => Inputs.Any(i => i.IsSymbolic || Ops.InputOp.IsTyped(i));

    /// <summary>The symbols the inputs declare, in order of first declaration (each has a local and a field <c>_dimT</c>).</summary>
    public List<string> Symbols => Inputs.SelectMany(i => i.Dims.SelectMany(d => d.Symbols)).Distinct().ToList();

    /// <summary>
    /// Values with a gradient buffer: every live value but the output of a single-output network (the caller's), ops whose
    /// outputs own theirs and token or mask inputs (no gradient flows to ids or masks), when something consumes it or the network returns it.
    /// </summary>
    public bool HasGradient(GraphNode node)
        => !IsOutput(node.Id) && Ops.OpTable.Of(node).HasGradient && !Ops.InputOp.IsTyped(node) && (Consumers[node.Id].Count > 0 || Model.Outputs.Contains(node.Id));

    /// <summary>
    /// True for the output of a single-output network, whose value Backward reads from <c>output</c> and whose gradient is
    /// the caller's <c>gradOutput</c>. The outputs of a network with several have slots like any value: Backward copies the
    /// caller's gradients into them (or zeros for a null one) before the layers add theirs.
    /// </summary>
    public bool IsOutput(int id) => !Model.SeveralOutputs && id == Model.Output;

    /// <summary>The returned values in order (one for a single-output network).</summary>
    public List<GraphNode> Outputs => Model.SeveralOutputs ? Model.Outputs.Select(i => Nodes[i]).ToList() : new List<GraphNode> { Output };

    /// <summary>The name of output <paramref name="index"/>: its tuple element in ForwardAll.</summary>
    public string OutputName(int index) => Model.OutputNames[index];

    /// <summary>The Backward parameter holding the gradient of output <paramref name="index"/>: <c>dLogits</c>.</summary>
    public string OutputGradient(int index) => "d" + char.ToUpperInvariant(OutputName(index)[0]) + OutputName(index).Substring(1);

    /// <summary>
    /// True when an evaluation forward may run as row parts, each through every layer on a thread of its own (the runtime's
    /// split evaluation, <c>Module.RunEvaluationParts</c>): one input, one output, no symbols, and every live op computes each
    /// sample from that sample alone with per-part buffers (<see cref="Ops.Op.RunsOnRowParts"/>).
    /// </summary>
    public bool SplitsEvaluation => _splits ??= !Symbolic && Inputs.Count == 1 && !Model.SeveralOutputs
        && LiveNodes.All(n => n.Op == Ops.InputOp.Name || Ops.OpTable.Of(n).RunsOnRowParts(n));

    private bool? _splits;

    /// <summary>The field holding the whole batch's output of a split evaluation forward (the parts copy theirs into it).</summary>
    public const string PartsOutputField = "_partsOutput";

    /// <summary>Which values and gradients share memory (<see cref="MemoryPlan"/>), planned on first use.</summary>
    public MemoryPlan Memory => _memory ??= new MemoryPlan(this);

    private MemoryPlan? _memory;

    /// <summary>Which steps run fused (<see cref="Emit.Fusion"/>), decided once before memory is planned and code is written.</summary>
    public Fusion Fusion => _fusion ??= new Fusion(this);

    private Fusion? _fusion;

    /// <summary>
    /// Every buffer the network owns, in the order the constructor creates them: the memory slots, then node by node in
    /// definition order the value's and the gradient's views and the op's own buffers, then the gradients that alias another.
    /// </summary>
    public IEnumerable<Ops.BufferDecl> Buffers()
    {
        foreach (var slot in Memory.Slots())
        {
            yield return slot;
        }
        foreach (var node in LiveNodes)
        {
            var op = Ops.OpTable.Of(node);
            if (op.ValueSlot(this, node) is { } value)
            {
                yield return value;
            }
            if (op.GradSlot(this, node) is { } grad)
            {
                yield return grad;
            }
            foreach (var buffer in op.Buffers(this, node))
            {
                yield return buffer;
            }
        }

        foreach (var alias in Memory.Aliases())
        {
            yield return alias;
        }
        if (SplitsEvaluation)
        {
            yield return new Ops.BufferDecl(PartsOutputField, "global::Dsl.BufferSlot", $"new global::Dsl.BufferSlot(device, {Names.Shape(Output.Shape)})",
                "the whole batch's output of an evaluation forward run as row parts", Elements: Output.Elements, Evaluation: true);
        }
    }
}
