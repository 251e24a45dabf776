using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Model;
using Dsl.Generator.Ops;

namespace Dsl.Generator.Emit;

/// <summary>
/// Fusion: steps the generator knows touch the same tensor, run as one kernel. Decided once per plan, before anything is
/// emitted, and switched off per network with <c>[Network(Fuse = false)]</c> (the reference the fused code is tested against).
/// </summary>
/// <remarks>
/// <para>
/// A ReLU fuses into the step before it (its <em>head</em>) when the head's value has no other reader: the ReLU is the
/// head's only consumer, the head is not a returned value, and the head's own backward does not read its output (it would
/// find the ReLU's there). The graph is unchanged (the summary, the parameter names and the ONNX export still see every
/// layer); the head's kernel writes max(0, .) into its own value, the ReLU's value is a view of it (as <c>Flatten</c>'s
/// is), and the ReLU's mask comes from that output, y &gt; 0, so no pre-ReLU tensor is kept:
/// </para>
/// <list type="bullet">
/// <item><c>Conv2d</c> + ReLU: the convolution's epilogue; the ReLU's backward masks dy into the convolution's gradient.</item>
/// <item><c>BatchNorm</c> + ReLU, forward and backward: the batch-norm kernels mask dy on the fly; the ReLU passes its gradient
/// on (the batch norm's gradient is the ReLU's memory when the planner can alias it, <see cref="MemoryPlan"/>).</item>
/// <item>The sum closing a <c>Residual</c> (<c>a + b</c>) + ReLU: one pass; the ReLU's backward is unchanged.</item>
/// <item><c>MaxPool2d</c> + ReLU (PyTorch's MNIST example pools, then applies the ReLU): one pass; the argmax is the pool's
/// and the ReLU's backward masks dy with the fused output before the pool's backward scatters it.</item>
/// </list>
/// <para>
/// The other order, a ReLU read only by a <c>MaxPool2d</c> or <c>MaxPool1d</c> (conv + ReLU + pool, as in VGG and
/// AlexNet), runs the ReLU's <em>backward</em> in the pool's: the pool's output is the ReLU's output at each argmax, so the
/// pool's backward passes dy where that output is &gt; 0 and the ReLU hands its gradient on, instead of a mask pass over
/// the larger tensor. A ReLU whose batch norm already does its backward stays with it.
/// </para>
/// <para>
/// In evaluation (a forward that keeps nothing for backward), a <c>BatchNorm2d</c> whose input is a convolution read by
/// nothing else is <em>folded</em> into it: the convolution runs with w' = w gamma / sqrt(var + eps) and
/// b' = (b - mean) gamma / sqrt(var + eps) + beta (<c>Dsl.FoldedConv</c>, cached until a parameter or a running statistic
/// changes) and writes the batch norm's value; training, and a forward kept for backward, run both layers as written.
/// </para>
/// <para>
/// When such a folded batch norm is read by nothing but a sum (<c>a + b</c>, the close of a <c>Residual</c>, with or without
/// its fused ReLU), the evaluation forward runs the folded convolution at the sum instead: it writes the sum's value,
/// relu?((conv + b') + shortcut), adding the other operand as it stores each output tile (<c>Device.Conv2d</c>'s
/// <c>residual</c>), so neither the batch norm's value nor a separate pass of the sum exists there. The first such operand
/// is taken (the residual body's, in a block with a projection shortcut). A forward kept for backward (training) runs
/// that batch norm at the sum as well: its normalising pass adds the shortcut and applies the ReLU
/// (<c>Device.BatchNorm</c>'s <c>residual</c>), the operations of the batch norm, the sum and the ReLU in order; its
/// backward reads its input and statistics, never its value, so that value is never written.
/// </para>
/// </remarks>
internal sealed class Fusion
{
    private readonly Dictionary<int, int> _headOf = new();
    private readonly Dictionary<int, int> _tailOf = new();
    private readonly Dictionary<int, int> _foldedConvOf = new();
    private readonly HashSet<int> _folded = new();
    private readonly Dictionary<int, int> _residualOf = new();
    private readonly Dictionary<int, int> _residualSumOf = new();
    private readonly Dictionary<int, int> _poolOfRelu = new();
    private readonly Dictionary<int, int> _reluOfPool = new();
    private readonly Plan _plan;

    public Fusion(Plan plan)
    {
        _plan = plan;
        if (!plan.Model.Fuse)
        {
            return;
        }
        foreach (var tail in plan.LiveNodes)
        {
            // A batch norm's ReLU that is returned stays apart: its backward may rewrite dy in place (the ReLU rules of
            // Module.ReluBackward), which must never be the caller's gradient.
            if (IsRelu(tail) && plan.Nodes[tail.Inputs[0]] is var head && CanFuseRelu(head) && SoleReader(head, tail)
                && !(IsBatchNorm(head) && (tail.Id == plan.Model.Output || plan.Model.Outputs.Contains(tail.Id))))
            {
                _headOf[tail.Id] = head.Id;
                _tailOf[head.Id] = tail.Id;
            }
        }
        foreach (var relu in plan.LiveNodes.Where(n => IsRelu(n) && !ReluBackwardInHead(n)))
        {
            if (plan.Consumers[relu.Id] is { Count: 1 } readers && plan.Nodes[readers[0]] is var pool && pool.Op is Pool2dOp.MaxKey or Pool1dOp.MaxKey && !pool.IsSymbolic
                && SoleReader(relu, pool))
            {
                _poolOfRelu[relu.Id] = pool.Id;
                _reluOfPool[pool.Id] = relu.Id;
            }
        }
        foreach (var bn in plan.LiveNodes.Where(n => n.Op == BatchNormOp.Name2d))
        {
            var conv = plan.Nodes[bn.Inputs[0]];
            if (conv.Op == Conv2dOp.Name && SoleReader(conv, bn))
            {
                _foldedConvOf[bn.Id] = conv.Id;
                _folded.Add(conv.Id);
            }
        }
        foreach (var sum in plan.LiveNodes.Where(n => n.Op == AddOp.Name && n.Inputs.Count == 2 && n.Inputs[0] != n.Inputs[1] && !n.IsSymbolic))
        {
            var bn = sum.Inputs.Select(i => plan.Nodes[i])
                .FirstOrDefault(x => _foldedConvOf.ContainsKey(x.Id) && !_tailOf.ContainsKey(x.Id) && SoleReader(x, sum));
            if (bn is not null)
            {
                _residualOf[sum.Id] = bn.Id;
                _residualSumOf[bn.Id] = sum.Id;
            }
        }
    }

    /// <summary>True when the network fuses at all (<c>[Network(Fuse = false)]</c> turns it off).</summary>
    public bool Enabled => _plan.Model.Fuse;

    /// <summary>The ReLU fused into <paramref name="head"/>'s kernel, or null.</summary>
    public GraphNode? ReluOf(GraphNode head) => _tailOf.TryGetValue(head.Id, out int t) ? _plan.Nodes[t] : null;

    /// <summary>The step a fused ReLU's work is done by (its value is that step's), or null for a ReLU of its own.</summary>
    public GraphNode? HeadOf(GraphNode relu) => _headOf.TryGetValue(relu.Id, out int h) ? _plan.Nodes[h] : null;

    /// <summary>True for a fused ReLU whose head's backward also does its backward (batch norm): it passes dy on unchanged.</summary>
    public bool ReluBackwardInHead(GraphNode relu) => HeadOf(relu) is { } head && IsBatchNorm(head);

    /// <summary>
    /// The step whose backward also does ReLU <paramref name="relu"/>'s (its batch norm, or the max pool that alone reads
    /// it), or null; such a ReLU passes dy on unchanged under the standard rule.
    /// </summary>
    public GraphNode? ReluBackwardBy(GraphNode relu)
        => ReluBackwardInHead(relu) ? HeadOf(relu) : _poolOfRelu.TryGetValue(relu.Id, out int p) ? _plan.Nodes[p] : null;

    /// <summary>
    /// The <c>reluOutput</c> argument of max pool <paramref name="pool"/>'s backward call (after a comment line naming the ReLU
    /// whose backward it also does), or "" when it does none. Under a visualisation rule the ReLU applies the rule itself and
    /// the pool passes dy unmasked.
    /// </summary>
    public string ReluOutputArgument(BackwardContext c, GraphNode pool)
    {
        if (!_reluOfPool.TryGetValue(pool.Id, out int r))
        {
            return "";
        }
        c.Line($"// fused: {Names.Value(pool)}'s backward + the backward of {Names.Value(_plan.Nodes[r])} (y > 0 at each argmax)");
        return $", reluOutput: ReluBackward == global::Dsl.ReluBackwardRule.Standard ? {c.Y(pool)} : null";
    }

    /// <summary>The convolution folded into batch norm <paramref name="bn"/> in evaluation, or null.</summary>
    public GraphNode? FoldedConvOf(GraphNode bn) => _foldedConvOf.TryGetValue(bn.Id, out int c) ? _plan.Nodes[c] : null;

    /// <summary>
    /// The batch norm that sum <paramref name="sum"/> computes, adding the sum's other operand (<see cref="ShortcutOf"/>):
    /// kept, in the batch norm's normalising pass; in evaluation, as its folded convolution stores. The sum's value in one
    /// pass either way; or null.
    /// </summary>
    public GraphNode? ResidualOf(GraphNode sum) => _residualOf.TryGetValue(sum.Id, out int b) ? _plan.Nodes[b] : null;

    /// <summary>The operand of sum <paramref name="sum"/> that is not <see cref="ResidualOf"/>'s batch norm (the shortcut).</summary>
    public GraphNode ShortcutOf(GraphNode sum) => _plan.Nodes[sum.Inputs[0] == _residualOf[sum.Id] ? sum.Inputs[1] : sum.Inputs[0]];

    /// <summary>The sum at which the forward computes batch norm <paramref name="bn"/> (never storing it), or null.</summary>
    public GraphNode? ResidualSumOf(GraphNode bn) => _residualSumOf.TryGetValue(bn.Id, out int s) ? _plan.Nodes[s] : null;

    /// <summary>
    /// The step at which an evaluation forward runs node <paramref name="id"/>: a convolution folded into a batch norm that a
    /// sum computes runs at the sum (it reads its input there), every other node at its own step.
    /// </summary>
    public int EvaluationStep(int id)
        => _folded.Contains(id) && _residualSumOf.TryGetValue(_plan.Consumers[id][0], out int sum) ? sum : id;

    /// <summary>True for a convolution that an evaluation forward folds into the batch norm after it (it runs only when kept).</summary>
    public bool IsFolded(GraphNode conv) => _folded.Contains(conv.Id);

    /// <summary>The value storage of <paramref name="node"/> after fusion: a fused ReLU's value is its head's.</summary>
    public ValueStorage Value(GraphNode node) => _headOf.ContainsKey(node.Id) ? ValueStorage.ViewOfInput : OpTable.Of(node).Value;

    /// <summary>What <paramref name="node"/>'s backward reads after fusion (<see cref="Op.BackwardReads"/> of the step as written otherwise).</summary>
    public Keeps BackwardReads(GraphNode node)
    {
        if (ReluBackwardInHead(node))
        {
            return Keeps.Nothing; // the batch norm's backward masks with the output it keeps
        }
        if (_tailOf.ContainsKey(node.Id) && IsBatchNorm(node))
        {
            return new Keeps(true, 0); // x for x-hat, and the fused output for the ReLU's mask
        }
        if (_reluOfPool.ContainsKey(node.Id))
        {
            return Keeps.TheOutput; // the argmax it owns, and its output for the mask of the ReLU before it
        }
        return OpTable.Of(node).BackwardReads(node);
    }

    /// <summary>True when <paramref name="node"/>'s backward hands dy to its input unchanged (after fusion).</summary>
    public bool PassesGradient(GraphNode node) => OpTable.Of(node).PassesGradient || ReluBackwardBy(node) is not null;

    /// <summary>The comment above a fused call: <c>// fused: conv1 + bn1 + relu (one pass)</c>.</summary>
    public static string Comment(params GraphNode?[] steps)
        => "// fused: " + string.Join(" + ", steps.Where(s => s is not null).Select(s => Label(s!))) + " (one pass)";

    private static string Label(GraphNode node)
        => node.Op == ActivationOp.Name ? node.Attr("kind").ToLowerInvariant()
            : node.Op == AddOp.Name ? "add"
            : node.Params.Count > 0 ? node.Params[0].Name.Substring(0, node.Params[0].Name.LastIndexOf('.'))
            : node.Op;

    private static bool IsRelu(GraphNode node) => node.Op == ActivationOp.Name && node.Attr("kind") == "Relu" && node.Inputs.Count == 1 && !node.IsSymbolic;

    private static bool IsBatchNorm(GraphNode node) => node.Op is BatchNormOp.Name1d or BatchNormOp.Name2d;

    private bool CanFuseRelu(GraphNode head)
        => !head.IsSymbolic && (IsBatchNorm(head) || head.Op == AddOp.Name || head.Op == Conv2dOp.Name || head.Op == Pool2dOp.MaxKey)
            && !OpTable.Of(head).BackwardReads(head).Output;

    /// <summary>True when <paramref name="reader"/> is the only step reading <paramref name="value"/>, which is not returned.</summary>
    private bool SoleReader(GraphNode value, GraphNode reader)
        => _plan.Live[value.Id] && !value.IsSymbolic && _plan.Consumers[value.Id].Count == 1 && _plan.Consumers[value.Id][0] == reader.Id
            && reader.Inputs.Count(i => i == value.Id) == 1 && value.Id != _plan.Model.Output && !_plan.Model.Outputs.Contains(value.Id)
            && OpTable.Of(value).Value == ValueStorage.Planned;
}
