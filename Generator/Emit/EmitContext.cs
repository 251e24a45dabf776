using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Model;
using Dsl.Generator.Ops;

namespace Dsl.Generator.Emit;

/// <summary>What an op's forward emission may use: the writer, the plan, and the names of its values and parameters.</summary>
internal sealed class ForwardContext
{
    public ForwardContext(CodeWriter writer, Plan plan)
    {
        W = writer;
        Plan = plan;
    }

    public CodeWriter W { get; }
    public Plan Plan { get; }

    /// <summary>The local holding input <paramref name="index"/> of <paramref name="node"/>.</summary>
    public string X(GraphNode node, int index = 0) => Names.Value(Plan.Nodes[node.Inputs[index]]);

    /// <summary>The local holding the node's value.</summary>
    public string Y(GraphNode node) => Names.Value(node);

    public GraphNode Input(GraphNode node, int index = 0) => Plan.Nodes[node.Inputs[index]];

    /// <summary>
    /// The local holding the value given to Net parameter <paramref name="parameter"/> of the call (<c>mask: m</c>), or null
    /// when the call left it null.
    /// </summary>
    public string? Net(GraphNode node, string parameter)
        => node.NetInput(parameter) is var k && k >= 0 ? X(node, k) : null;

    /// <summary>The node of the value given to Net parameter <paramref name="parameter"/>, or null when none was given.</summary>
    public GraphNode? NetNode(GraphNode node, string parameter)
        => node.NetInput(parameter) is var k && k >= 0 ? Input(node, k) : null;

    /// <summary>
    /// Declares the node's value as the current rows of its slot view: <c>var h1_conv2d = _h1_conv2d.Rows(n, keep);</c>, in
    /// the training plan's slot when the forward keeps values for backward (<c>keep</c>), else in the evaluation plan's.
    /// </summary>
    public string Slot(GraphNode node)
    {
        string y = Y(node);
        if (!Plan.Memory.StoredInEvaluation(node))
        {
            // An evaluation forward never stores this value (MemoryPlan.StoredInEvaluation): a dropout's is its input, a
            // folded convolution's is not computed.
            bool input = Plan.Memory.EvaluationIsInput(node);
            W.Line(input ? $"// evaluation: the input itself ({X(node)}), not a copy" : "// evaluation: not stored");
            W.Line($"var {y} = keep ? {Names.Field(y)}.Rows(n) : {(input ? X(node) : "null!")};");
            return y;
        }
        W.Line($"var {y} = {Names.Field(y)}.{(Plan.SplitsEvaluation ? "Rows(n, keep, part)" : Names.Rows(node, keep: true))};");
        return y;
    }

    /// <summary>
    /// The rows of a per-batch buffer an op owns (a <c>BufferSlot</c>): <c>_argmax.Rows(n)</c>, or the current row part's
    /// <c>_argmax.Rows(n, part)</c> when the network splits its evaluation forward (<see cref="Plan.SplitsEvaluation"/>).
    /// </summary>
    public string PartRows(string field) => Plan.SplitsEvaluation ? $"{field}.Rows(n, part)" : $"{field}.Rows(n)";

    /// <summary>A reshaped view of <paramref name="x"/> (a <c>ViewSlot</c>): <c>_flat.Of(x)</c>, or the row part's <c>_flat.OfPart(x, part)</c>.</summary>
    public string PartView(string field, string x) => Plan.SplitsEvaluation ? $"{field}.OfPart({x}, part)" : $"{field}.Of({x})";

    public void Line(string line) => W.Line(line);
}

/// <summary>
/// What an op's backward emission may use. Values and gradients are fetched from their slots where first used
/// (a pending declaration is written just before the statement that needs it); the first contribution to a
/// gradient assigns and later ones accumulate; gradients that only lead to the input may be null.
/// </summary>
internal sealed class BackwardContext
{
    private readonly HashSet<string> _written = new();
    private readonly HashSet<string> _declared = new();
    private readonly List<string> _pending = new();
    private readonly HashSet<string> _nullable = new();

    public BackwardContext(CodeWriter writer, Plan plan)
    {
        W = writer;
        Plan = plan;
    }

    public CodeWriter W { get; private set; }
    public Plan Plan { get; }

    private CodeWriter? _outer;

    /// <summary>
    /// Sends the statements of one node's backward to <paramref name="body"/> (written later inside <c>if (flow_...)</c>),
    /// while the declarations they need still go to the method's scope, so later nodes can use them.
    /// </summary>
    public void BeginBody(CodeWriter body)
    {
        _outer = W;
        W = body;
    }

    /// <summary>Ends <see cref="BeginBody"/>: writes the declarations still pending to the method's scope.</summary>
    public void EndBody()
    {
        W = _outer!;
        _outer = null;
        foreach (var declaration in _pending)
        {
            W.Line(declaration);
        }
        _pending.Clear();
    }

    /// <summary>
    /// The gradient of input <paramref name="index"/> of <paramref name="node"/>, or null at run time when nothing upstream of
    /// that input is trained (its <see cref="Names.Flow"/> is false): for kernels that skip a null input gradient, so the
    /// lowest trained layer does not compute one nobody reads.
    /// </summary>
    public string DxIfNeeded(GraphNode node, int index = 0)
    {
        string dx = Dx(node, index);
        return $"({Names.Flow(Input(node, index))} ? {dx} : null)";
    }

    /// <summary>The node whose backward is being written: a value it reads must be one its op declares (<see cref="Op.BackwardReads"/>).</summary>
    public GraphNode? Current { get; set; }

    public GraphNode Input(GraphNode node, int index = 0) => Plan.Nodes[node.Inputs[index]];

    /// <summary>The value of node <paramref name="id"/>, fetched on first use.</summary>
    public string Value(int id)
    {
        var node = Plan.Nodes[id];
        if (Current is not null && !Plan.Memory.HeldAtBackwardOf(id, Current.Id))
        {
            throw new System.InvalidOperationException(
                $"the backward of [{Current.Id}] {Current.Op} reads [{id}] {node.Op}'s value, which its BackwardReads does not keep: the memory plan may have reused it");
        }
        string name = Names.Value(node);
        string source = Plan.IsOutput(id) ? "output"
            : Plan.Fusion.HeadOf(node) is { } head ? OpTable.Of(head).FetchValue(Plan, head) // a fused ReLU's value is its head's
            : OpTable.Of(node).FetchValue(Plan, node);
        Declare(name, source);
        return name;
    }

    /// <summary>The gradient of node <paramref name="id"/>, fetched on first use (null at run time when only the input's gradient needs it and it was not asked for).</summary>
    public string Grad(int id)
    {
        var node = Plan.Nodes[id];
        string name = Names.Grad(node);
        string slot = Names.Field(name) + "." + Names.Rows(node);
        string source = Plan.IsOutput(id) ? "gradOutput" : Nullable(id) ? $"inputGradient ? {slot} : null" : slot;
        Declare(name, source);
        return name;
    }

    /// <summary>A local <paramref name="name"/> = <paramref name="source"/>, declared before the next statement on first use.</summary>
    public string Fetch(string name, string source)
    {
        Declare(name, source);
        return name;
    }

    public string X(GraphNode node, int index = 0) => Value(node.Inputs[index]);

    public string Y(GraphNode node) => Value(node.Id);

    public string Dy(GraphNode node) => Grad(node.Id);

    public string Dx(GraphNode node, int index = 0) => Grad(node.Inputs[index]);

    /// <summary>
    /// The value given to Net parameter <paramref name="parameter"/> (fetched on first use; the op's
    /// <see cref="Op.BackwardReads"/> must keep that input), or null when the call left it null.
    /// </summary>
    public string? Net(GraphNode node, string parameter)
        => node.NetInput(parameter) is var k && k >= 0 ? X(node, k) : null;

    /// <summary>The node of the value given to Net parameter <paramref name="parameter"/>, or null when none was given.</summary>
    public GraphNode? NetNode(GraphNode node, string parameter)
        => node.NetInput(parameter) is var k && k >= 0 ? Input(node, k) : null;

    /// <summary>True when the gradient of <paramref name="id"/> exists only when the input's gradient was asked for.</summary>
    public bool Nullable(int id) => !Plan.IsOutput(id) && !Plan.NeedsGrad[id];

    /// <summary>
    /// Starts the gradient of a returned value of a network with several outputs from the caller's
    /// <paramref name="gradient"/> (zeros when it is null); the layers that consume the value then add theirs.
    /// </summary>
    public void Seed(int id, string gradient)
    {
        string grad = Grad(id);
        Accumulate(id);
        Line($"SeedGradient({gradient}, {grad});");
    }

    /// <summary>False for the first contribution to the gradient of <paramref name="id"/> (assign), true for later ones (add).</summary>
    public bool Accumulate(int id) => Accumulate(Names.Grad(Plan.Nodes[id]));

    /// <summary>False for the first contribution to the gradient local <paramref name="gradient"/>, true for later ones.</summary>
    public bool Accumulate(string gradient) => !_written.Add(gradient);

    /// <summary>Writes <paramref name="statement"/>, guarded by <c>if (g is not null)</c> for each of <paramref name="gradients"/> that may be null.</summary>
    public void Guarded(string statement, params int[] gradients)
        => Guarded(statement, gradients.Select(id => Names.Grad(Plan.Nodes[id])).ToArray());

    /// <summary>Writes <paramref name="statement"/>, guarded by <c>if (g is not null)</c> for each of the gradient locals that may be null.</summary>
    public void Guarded(string statement, params string[] gradients)
    {
        var nullable = gradients.Distinct().Where(_nullable.Contains).Select(g => g + " is not null").ToList();
        Line(nullable.Count == 0 ? statement : $"if ({string.Join(" && ", nullable)}) {statement}");
    }

    /// <summary>Writes the pending declarations, then <paramref name="line"/>.</summary>
    public void Line(string line)
    {
        foreach (var declaration in _pending)
        {
            (_outer ?? W).Line(declaration);
        }
        _pending.Clear();
        W.Line(line);
    }

    private void Declare(string name, string source)
    {
        if (_declared.Add(name))
        {
            if (source.EndsWith(" : null", System.StringComparison.Ordinal))
            {
                _nullable.Add(name);
            }
            _pending.Add($"var {name} = {source};");
        }
    }
}
