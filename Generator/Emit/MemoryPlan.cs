using System;
using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Model;
using Dsl.Generator.Ops;

namespace Dsl.Generator.Emit;

/// <summary>
/// Planned memory: which activations and gradients may share a slot because their lifetimes do not overlap.
/// </summary>
/// <remarks>
/// <para>
/// The timeline of a training step has one step per node forward (node <c>i</c> at <c>i</c>) and one per node backward
/// (node <c>i</c> at <c>2M - i</c>, M nodes), then the caller's turn. A value lives from its forward step to its last
/// reader: a forward consumer, its own backward when the op's backward reads its output, or a consumer's backward that reads
/// it as input (<see cref="Op.BackwardReads"/>); the output lives until the caller is done. A gradient lives from its first
/// contribution (the backward of its last consumer, which assigns) to its node's backward; an input's gradient spans the
/// whole step, since the caller may read it until the next Backward. An evaluation forward (nothing kept for backward)
/// has only the forward steps.
/// </para>
/// <para>
/// Views share their source's memory and extend its lifetime: <c>Flatten</c>'s value is its input's; the gradient
/// <c>Flatten</c> or <c>+</c> passes on unchanged is an alias of its own gradient when it is the first contribution and no
/// later write to one can be seen through the other (<see cref="Op.PassesGradient"/>). Each group of buffers that share
/// memory this way is placed as one lifetime by <see cref="SlotAllocator"/>; the evaluation plan places the forward values
/// again over the same slots, the output pinned where training puts it, so re-running a forward for backward rewrites it
/// in place.
/// </para>
/// </remarks>
internal sealed class MemoryPlan
{
    /// <summary>Bytes of one float32 element.</summary>
    public const int ElementBytes = 4;

    private readonly Plan _plan;
    private readonly int _m;
    private readonly Dictionary<int, Group> _valueGroup = new();
    private readonly Dictionary<int, Group> _gradGroup = new();
    private readonly List<Group> _groups = new();
    private readonly List<(int Node, int Input)> _gradAliases = new();
    private readonly HashSet<int> _evaluationViews = new();

    /// <summary>Plans the memory of <paramref name="plan"/>; with <paramref name="share"/> false every group keeps its own slot.</summary>
    public MemoryPlan(Plan plan, bool share = true)
    {
        _plan = plan;
        _m = plan.Nodes.Count;
        Share = share;
        ValueGroups();
        GradientGroups();
        var training = SlotAllocator.Assign(_groups.Select(g => g.Training).ToList(), share);
        // Values an evaluation forward never stores (a folded convolution, dropout's value) take no slot of that plan.
        var values = _groups.Where(g => !g.IsGradient && !g.NotInEvaluation).ToList();
        var pinned = new Dictionary<int, int>();
        foreach (int id in plan.Model.Outputs.Append(plan.Model.Output).Distinct())
        {
            int output = values.FindIndex(g => g.Members.Contains(id));
            if (output >= 0)
            {
                pinned[output] = training.SlotOf[_groups.IndexOf(values[output])];
            }
        }
        var evaluation = share
            ? SlotAllocator.Assign(values.Select(g => g.Evaluation).ToList(), share: true, existing: training.SlotElements, pinned: pinned)
            : new SlotAssignment(values.Select(g => training.SlotOf[_groups.IndexOf(g)]).ToArray(), training.SlotElements);
        for (int i = 0; i < _groups.Count; i++)
        {
            _groups[i].TrainingSlot = training.SlotOf[i];
        }
        for (int i = 0; i < values.Count; i++)
        {
            values[i].EvaluationSlot = evaluation.SlotOf[i];
        }
        foreach (var g in _groups.Where(g => g.NotInEvaluation))
        {
            g.EvaluationSlot = g.TrainingSlot; // the view needs a slot; an evaluation forward never asks it for rows
        }
        SlotElements = evaluation.SlotElements;
    }

    /// <summary>False for the layout without reuse (each value and gradient in its own slot), kept for comparison.</summary>
    public bool Share { get; }

    /// <summary>Elements per sample of each slot.</summary>
    public long[] SlotElements { get; }

    /// <summary>The end of the timeline: after the last backward step, when the caller reads the output and input gradients.</summary>
    public int End => 2 * _m + 1;

    /// <summary>The step at which node <paramref name="id"/>'s backward runs.</summary>
    public int BackwardStep(int id) => 2 * _m - id;

    /// <summary>Bytes per sample of the slots a training step uses.</summary>
    public long TrainingBytes => Bytes(_groups.Select(g => g.TrainingSlot));

    /// <summary>Bytes per sample of the slots an evaluation forward uses.</summary>
    public long EvaluationBytes => Bytes(_groups.Where(g => !g.IsGradient && !g.NotInEvaluation).Select(g => g.EvaluationSlot));

    /// <summary>
    /// False for a value an evaluation forward never stores: a convolution folded into the batch norm after it (the folded
    /// convolution writes the batch norm's value), such a batch norm when the sum after it computes it (the folded
    /// convolution writes the sum's value, <see cref="Fusion.ResidualOf"/>), and a dropout's, which is its input's memory there (<see cref="EvaluationIsInput"/>).
    /// Its local is the slot's rows only when the forward keeps values for backward.
    /// </summary>
    public bool StoredInEvaluation(GraphNode node) => !(_valueGroup.TryGetValue(node.Id, out var g) && g.NotInEvaluation && g.Members[0] == node.Id);

    /// <summary>True for a dropout whose value, in an evaluation forward, is its input itself (no copy, no memory of its own).</summary>
    public bool EvaluationIsInput(GraphNode node) => _evaluationViews.Contains(node.Id);

    /// <summary>Bytes per sample with one buffer per value and per gradient, as before planning.</summary>
    public long UnplannedBytes => _groups.Sum(g => g.IsGradient ? g.Members.Sum(Elements) : Elements(g.Members[0])) * ElementBytes;

    /// <summary>Every planned value or gradient in a slot, with its local name, for tests and comments.</summary>
    public IEnumerable<(string Local, int TrainingSlot, int? EvaluationSlot, Lifetime Training, Lifetime? Evaluation)> Placements()
    {
        foreach (var g in _groups)
        {
            foreach (int id in g.Members)
            {
                var node = _plan.Nodes[id];
                yield return g.IsGradient
                    ? (Names.Grad(node), g.TrainingSlot, null, g.Training, null)
                    : g.NotInEvaluation ? (Names.Value(node), g.TrainingSlot, null, g.Training, null)
                    : (Names.Value(node), g.TrainingSlot, g.EvaluationSlot, g.Training, g.Evaluation);
            }
        }
    }

    /// <summary>True when the gradient <paramref name="node"/> passes to input <paramref name="input"/> is an alias of its own: nothing to copy.</summary>
    public bool GradientAlias(GraphNode node, int input) => _gradAliases.Contains((node.Id, input));

    /// <summary>True when node <paramref name="id"/>'s value (planned, or a view of a planned one) is still held at the backward of node <paramref name="reader"/>.</summary>
    public bool HeldAtBackwardOf(int id, int reader)
        => !_valueGroup.TryGetValue(id, out var g) || g.Training.End >= BackwardStep(reader);

    /// <summary>The field of slot <paramref name="slot"/>.</summary>
    public static string SlotField(int slot) => "_slot" + Names.Int(slot);

    /// <summary>The slot fields, created first in the constructor.</summary>
    public IEnumerable<BufferDecl> Slots()
    {
        for (int s = 0; s < SlotElements.Length; s++)
        {
            var training = _groups.Where(g => g.TrainingSlot == s).Select(g => Local(g, g.Members[0])).ToList();
            var evaluation = _groups.Where(g => !g.IsGradient && !g.NotInEvaluation && g.EvaluationSlot == s).Select(g => Local(g, g.Members[0])).ToList();
            string holders = (training.Count > 0 ? "training " + string.Join(", ", training) : "")
                + (training.Count > 0 && evaluation.Count > 0 ? "; " : "")
                + (evaluation.Count > 0 ? "evaluation " + string.Join(", ", evaluation) : "");
            yield return new BufferDecl(SlotField(s), "global::Dsl.MemorySlot", $"new global::Dsl.MemorySlot(device, {Names.Int(SlotElements[s])})",
                $"{Names.Thousands(SlotElements[s])} floats per sample: {holders}");
        }
    }

    /// <summary>The view of node <paramref name="node"/>'s value in its slot(s); null when the value is not planned here.</summary>
    public BufferDecl? Value(GraphNode node)
    {
        if (!_valueGroup.TryGetValue(node.Id, out var g) || g.Members[0] != node.Id)
        {
            return null;
        }
        string slots = g.EvaluationSlot == g.TrainingSlot ? SlotField(g.TrainingSlot) : $"{SlotField(g.TrainingSlot)}, {SlotField(g.EvaluationSlot)}";
        string where = g.NotInEvaluation ? $"in {SlotField(g.TrainingSlot)} (evaluation: {(EvaluationIsInput(node) ? "its input's memory" : "not stored")})"
            : g.EvaluationSlot == g.TrainingSlot ? $"in {SlotField(g.TrainingSlot)}" : $"in {SlotField(g.TrainingSlot)} (evaluation: {SlotField(g.EvaluationSlot)})";
        return new BufferDecl(Names.Field(Names.Value(node)), "global::Dsl.SlotView", $"new global::Dsl.SlotView({slots}, {Names.Shape(node.Shape)})",
            $"[N,{Names.Shape(node.Shape).Replace(" ", "")}] {where}");
    }

    /// <summary>The view of node <paramref name="node"/>'s gradient in its slot; null when it is an alias (see <see cref="Aliases"/>) or not planned.</summary>
    public BufferDecl? Gradient(GraphNode node)
    {
        if (!_gradGroup.TryGetValue(node.Id, out var g) || g.Members[0] != node.Id)
        {
            return null;
        }
        return new BufferDecl(Names.Field(Names.Grad(node)), "global::Dsl.SlotView", $"new global::Dsl.SlotView({SlotField(g.TrainingSlot)}, {Names.Shape(node.Shape)})",
            $"[N,{Names.Shape(node.Shape).Replace(" ", "")}] in {SlotField(g.TrainingSlot)}");
    }

    /// <summary>Gradients that alias another's memory, in the order the aliases form (an alias's source is declared before it).</summary>
    public IEnumerable<BufferDecl> Aliases()
    {
        foreach (var (nodeId, input) in _gradAliases)
        {
            var node = _plan.Nodes[nodeId];
            var x = _plan.Nodes[node.Inputs[input]];
            var g = _gradGroup[x.Id];
            yield return new BufferDecl(Names.Field(Names.Grad(x)), "global::Dsl.SlotView", $"{Names.Field(Names.Grad(node))}.Alias({Names.Shape(x.Shape)})",
                $"[N,{Names.Shape(x.Shape).Replace(" ", "")}] in {SlotField(g.TrainingSlot)}, the memory of {Names.Grad(node)} ({node.Label} passes its gradient on)");
        }
    }

    private long Bytes(IEnumerable<int> slots) => slots.Distinct().Sum(s => SlotElements[s]) * ElementBytes;

    private long Elements(int id) => _plan.Nodes[id].Elements;

    private string Local(Group g, int id) => g.IsGradient ? Names.Grad(_plan.Nodes[id]) : Names.Value(_plan.Nodes[id]);

    /// <summary>The live consumers of node <paramref name="id"/>.</summary>
    private List<int> Consumers(int id) => _plan.Consumers[id];

    private void ValueGroups()
    {
        // Values with symbolic dimensions have no size per sample to plan: each keeps a SymbolicSlot of its own.
        foreach (var node in _plan.LiveNodes.Where(n => !n.IsSymbolic))
        {
            switch (_plan.Fusion.Value(node))
            {
                case ValueStorage.Planned:
                    var g = new Group(isGradient: false);
                    g.Members.Add(node.Id);
                    _valueGroup[node.Id] = g;
                    _groups.Add(g);
                    break;
                case ValueStorage.ViewOfInput:
                    if (_valueGroup.TryGetValue(node.Inputs[0], out var source))
                    {
                        source.Members.Add(node.Id);
                        _valueGroup[node.Id] = source;
                    }
                    break;
                case ValueStorage.Caller:
                case ValueStorage.Owned:
                    break;
                default:
                    throw new InvalidOperationException($"unknown value storage of {node.Op}");
            }
        }
        foreach (var g in _groups)
        {
            int start = g.Members[0];
            int trainingEnd = start, evaluationEnd = start;
            foreach (int member in g.Members)
            {
                if (member == _plan.Model.Output || _plan.Model.Outputs.Contains(member))
                {
                    trainingEnd = End;
                    evaluationEnd = End;
                }
                if (_plan.Fusion.BackwardReads(_plan.Nodes[member]).Output)
                {
                    trainingEnd = Math.Max(trainingEnd, BackwardStep(member));
                }
                foreach (int c in Consumers(member))
                {
                    trainingEnd = Math.Max(trainingEnd, c);
                    evaluationEnd = Math.Max(evaluationEnd, _plan.Fusion.EvaluationStep(c));
                    var consumer = _plan.Nodes[c];
                    var reads = _plan.Fusion.BackwardReads(consumer);
                    if (reads.Inputs.Any(k => consumer.Inputs[k] == member))
                    {
                        trainingEnd = Math.Max(trainingEnd, BackwardStep(c));
                    }
                }
            }
            long elements = Elements(start);
            g.Training = new Lifetime(elements, start, trainingEnd);
            // A batch norm folded into its convolution (evaluation) is written at the convolution's step, from its input.
            int evaluationStart = _plan.Fusion.FoldedConvOf(_plan.Nodes[start]) is { } conv ? conv.Id : start;
            g.Evaluation = new Lifetime(elements, evaluationStart, evaluationEnd);
            // ... and the folded convolution itself is never stored by an evaluation forward, nor a folded batch norm that
            // the sum after it computes (its convolution writes the sum's value).
            g.NotInEvaluation = Share && (_plan.Fusion.IsFolded(_plan.Nodes[start]) || _plan.Fusion.ResidualSumOf(_plan.Nodes[start]) is not null);
        }
        if (!Share)
        {
            return;
        }
        // In evaluation a dropout is the identity: its value is its input's memory, which then lives until the dropout's
        // last reader. Latest first, so a chain of dropouts hands its end down to the first one's input.
        foreach (var node in _plan.LiveNodes.Reverse())
        {
            if (node.Op != DropoutOp.Name || node.IsSymbolic || !_valueGroup.TryGetValue(node.Id, out var own) || own.Members[0] != node.Id
                || own.Members.Any(m => m == _plan.Model.Output || _plan.Model.Outputs.Contains(m))
                || !_valueGroup.TryGetValue(node.Inputs[0], out var source) || source.NotInEvaluation)
            {
                continue;
            }
            own.NotInEvaluation = true;
            _evaluationViews.Add(node.Id);
            source.Evaluation = source.Evaluation with { End = Math.Max(source.Evaluation.End, own.Evaluation.End) };
        }
    }

    private void GradientGroups()
    {
        // A gradient is planned for every live value but the output (the caller's) and ops whose outputs own theirs.
        foreach (var node in _plan.LiveNodes.Reverse())
        {
            if (node.IsSymbolic || !_plan.HasGradient(node))
            {
                continue;
            }
            var g = new Group(isGradient: true);
            g.Members.Add(node.Id);
            _gradGroup[node.Id] = g;
        }
        // Aliases, in backward order: the gradient an op passes on unchanged may take over its own gradient's memory.
        foreach (var node in _plan.LiveNodes.Reverse())
        {
            if (!_plan.Fusion.PassesGradient(node) || !_gradGroup.TryGetValue(node.Id, out var group))
            {
                continue;
            }
            for (int k = 0; k < node.Inputs.Count; k++)
            {
                int x = node.Inputs[k];
                // A returned value's gradient starts as the caller's: it cannot be another gradient's memory.
                if (_plan.Model.Outputs.Contains(x) || node.Inputs.Count(i => i == x) != 1 || Consumers(x).Max() != node.Id || !_gradGroup.TryGetValue(x, out var own)
                    || own.Members.Count != 1 || Elements(x) != Elements(node.Id) || !SafeAlias(group, x, BackwardStep(node.Id)))
                {
                    continue;
                }
                group.Members.Add(x);
                _gradGroup[x] = group;
                _gradAliases.Add((node.Id, k));
            }
        }
        foreach (var g in _gradGroup.Values.Distinct())
        {
            // An input's gradient is the caller's to read until the next Backward (InputGradient), as before planning:
            // its memory is its own for the whole step, so the next Forward does not overwrite it.
            // A returned value of a network with several outputs gets the caller's gradient when Backward starts.
            int start = g.Members.Any(m => _plan.Nodes[m].Op == InputOp.Name) ? 0
                : g.Members.Any(_plan.Model.Outputs.Contains) ? _m
                : g.Members.Min(m => Writes(m).Min());
            int end = g.Members.Max(Read);
            g.Training = new Lifetime(Elements(g.Members[0]), start, end);
            _groups.Add(g);
        }
    }

    /// <summary>When node <paramref name="id"/>'s gradient is read: by its own backward, or by the caller for an input.</summary>
    private int Read(int id) => _plan.Nodes[id].Op == InputOp.Name ? End : BackwardStep(id);

    /// <summary>When node <paramref name="id"/>'s gradient is written: at the backward of each of its consumers.</summary>
    private IEnumerable<int> Writes(int id) => Consumers(id).Select(BackwardStep);

    /// <summary>
    /// Whether node <paramref name="x"/>'s gradient may join <paramref name="group"/> at step <paramref name="formed"/>: no
    /// member is written after that while another is still to be read (accumulating into one would change the other).
    /// </summary>
    private bool SafeAlias(Group group, int x, int formed)
    {
        var members = group.Members.Append(x).ToList();
        foreach (int a in members)
        {
            foreach (int b in members.Where(b => b != a))
            {
                if (Writes(a).Any(w => w > formed && w <= Read(b)))
                {
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary>Buffers that share memory (a value and its views, a gradient and its aliases), placed as one lifetime.</summary>
    private sealed class Group
    {
        public Group(bool isGradient) => IsGradient = isGradient;

        public bool IsGradient { get; }

        /// <summary>Node ids; the first owns the memory, the others view it.</summary>
        public List<int> Members { get; } = new();

        public Lifetime Training { get; set; }

        public Lifetime Evaluation { get; set; }

        public int TrainingSlot { get; set; }

        public int EvaluationSlot { get; set; }

        /// <summary>An evaluation forward never stores this value (<see cref="MemoryPlan.StoredInEvaluation"/>).</summary>
        public bool NotInEvaluation { get; set; }
    }
}

/// <summary>Where an op's value lives.</summary>
internal enum ValueStorage
{
    /// <summary>A planned slot (most ops).</summary>
    Planned,

    /// <summary>The memory of its first input, reshaped (<c>Flatten</c>).</summary>
    ViewOfInput,

    /// <summary>The caller's tensor (<c>Input</c>).</summary>
    Caller,

    /// <summary>Buffers the op owns (<c>Chunk</c>'s parts, and <c>Select</c> that names one).</summary>
    Owned,
}
