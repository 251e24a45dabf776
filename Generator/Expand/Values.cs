using System.Collections.Immutable;
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

/// <summary>
/// One catalogue layer with its arguments resolved. <see cref="Instance"/> identifies the call's evaluation:
/// applying the same instance twice (a <c>var</c>-bound layer used twice) shares its parameters, as reusing a
/// module does in PyTorch; each call of a block creates new instances.
/// </summary>
internal sealed class LayerStep
{
    public LayerStep(int instance, LayerCallExpr call, ImmutableArray<ArgValue> args, ImmutableArray<LocationInfo> callSites)
    {
        Instance = instance;
        Call = call;
        Args = args;
        CallSites = callSites;
    }

    public int Instance { get; }
    public LayerCallExpr Call { get; }
    public ImmutableArray<ArgValue> Args { get; }
    public ImmutableArray<LocationInfo> CallSites { get; }
}
