using System.Collections.Immutable;
using System.Linq;
using Dsl.Generator.Model;

namespace Dsl.Generator.Expand;

/// <summary>What a DSL expression evaluates to during expansion.</summary>
internal abstract class Value
{
}

/// <summary>A symbolic tensor: the output of graph node <see cref="Node"/>.</summary>
internal sealed class NetValue : Value
{
    public NetValue(int node) => Node = node;

    public int Node { get; }
}

/// <summary>A layer or a composition of layers, not yet applied: a closure over constant arguments.</summary>
internal sealed class LayerValue : Value
{
    public LayerValue(ImmutableArray<LayerStep> steps) => Steps = steps;

    public ImmutableArray<LayerStep> Steps { get; }

    /// <summary>A copy with fresh instances (its own parameters).</summary>
    public LayerValue Fresh(System.Func<int> nextInstance) => new(Steps.Select(s => s.Fresh(nextInstance)).ToImmutableArray());
}

/// <summary>A constant argument passed to a block.</summary>
internal sealed class ConstValue : Value
{
    public ConstValue(ArgValue arg) => Arg = arg;

    public ArgValue Arg { get; }
}

/// <summary>The result of an expression that already produced a diagnostic: later checks stay silent.</summary>
internal sealed class ErrorValue : Value
{
    public static readonly ErrorValue Instance = new();
}

internal enum StepKind
{
    /// <summary>A catalogue layer.</summary>
    Layer,
    /// <summary><c>Residual(body, projection)</c>: Bodies[0] is the body, Bodies[1] the optional projection.</summary>
    Residual,
    /// <summary><c>Concat(branches...)</c>: one body per branch.</summary>
    Concat,
}

/// <summary>
/// One step of a layer value: a catalogue layer with its arguments resolved, or a combinator over nested layer values.
/// <see cref="Instance"/> identifies the call's evaluation: applying the same instance twice (a <c>var</c>-bound layer
/// used twice) shares its parameters, as reusing a module does in PyTorch; each block call and each copy made by
/// <c>Repeat</c> gets new instances.
/// </summary>
internal sealed class LayerStep
{
    public LayerStep(StepKind kind, int instance, LayerCallExpr call, ImmutableArray<ArgValue> args, ImmutableArray<LayerValue> bodies, ImmutableArray<LocationInfo> callSites, string block,
        ImmutableArray<NetBinding> nets = default)
    {
        Nets = nets.IsDefault ? ImmutableArray<NetBinding>.Empty : nets;
        Block = block;
        Kind = kind;
        Instance = instance;
        Call = call;
        Args = args;
        Bodies = bodies;
        CallSites = callSites;
    }

    public StepKind Kind { get; }
    public int Instance { get; }
    public LayerCallExpr Call { get; }
    public ImmutableArray<ArgValue> Args { get; }
    public ImmutableArray<LayerValue> Bodies { get; }
    public ImmutableArray<LocationInfo> CallSites { get; }

    /// <summary>The values given to the call's Net parameters (<c>mask: m</c>), evaluated where the layer was written.</summary>
    public ImmutableArray<NetBinding> Nets { get; }

    /// <summary>The path of block calls the step was written in, with their arguments' values ("" in <c>Define()</c>).</summary>
    public string Block { get; }

    /// <summary>
    /// The dotted prefix of the <c>Named("trunk", ...)</c> blocks around the step (<c>"trunk."</c>, "" outside any): its
    /// parameters are <c>trunk.conv1.weight</c>, numbered within the block.
    /// </summary>
    public string Scope { get; private set; } = "";

    /// <summary>True inside <c>Frozen(...)</c>: the step's parameters start with <c>RequiresGrad = false</c>.</summary>
    public bool Frozen { get; private set; }

    /// <summary>
    /// The iteration of the block loops the layer was written in (<c>i = 3</c>), the innermost loop's header and block,
    /// or null outside loops: an error when the layer is applied says which iteration (DSL0045).
    /// </summary>
    public LoopIteration? Loop { get; init; }

    /// <summary>A copy with fresh instances all the way down (its own parameters).</summary>
    public LayerStep Fresh(System.Func<int> nextInstance)
        => new(Kind, nextInstance(), Call, Args, Bodies.Select(b => b.Fresh(nextInstance)).ToImmutableArray(), CallSites, Block, Nets) { Scope = Scope, Frozen = Frozen, Loop = Loop };

    /// <summary>This step and its bodies, all the way down, under block name <paramref name="name"/> (outermost first).</summary>
    public LayerStep InScope(string name)
        => new(Kind, Instance, Call, Args, Bodies.Select(b => new LayerValue(b.Steps.Select(s => s.InScope(name)).ToImmutableArray())).ToImmutableArray(), CallSites, Block, Nets)
        {
            Scope = name + "." + Scope,
            Frozen = Frozen,
            Loop = Loop,
        };

    /// <summary>This step and its bodies, all the way down, frozen.</summary>
    public LayerStep AsFrozen()
        => new(Kind, Instance, Call, Args, Bodies.Select(b => new LayerValue(b.Steps.Select(s => s.AsFrozen()).ToImmutableArray())).ToImmutableArray(), CallSites, Block, Nets)
        {
            Scope = Scope,
            Frozen = true,
            Loop = Loop,
        };
}

/// <summary>A value given to a layer's Net parameter: the parameter's name and the graph node of the value.</summary>
internal readonly record struct NetBinding(string Parameter, int Node);

/// <summary>Where in an unrolled loop a layer was written: <c>i = 3</c> (nested: <c>i = 1, j = 2</c>), the loop, its block.</summary>
internal sealed record LoopIteration(string Iteration, string Header, string Block);
