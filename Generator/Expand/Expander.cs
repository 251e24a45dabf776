using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Dsl.Generator.Diagnostics;
using Dsl.Generator.Model;
using Dsl.Generator.Ops;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Expand;

/// <summary>
/// Second stage: evaluates <c>Define()</c> like a small functional program. Blocks are expanded with their
/// constant arguments (so they nest and repeat), <c>var</c> bindings are <c>let</c>s, layers are applied through
/// the op table's shape rules (<see cref="OpTable"/>), and the result is a graph with a shape on every edge, or diagnostics at the
/// offending layer (with the block call sites that led there as additional locations).
/// </summary>
internal sealed class Expander
{
    private const int MaxDepth = 64;

    /// <summary>The most iterations one loop of a block may run: loops are unrolled at compile time (DSL0042 beyond).</summary>
    internal const int MaxIterations = 1000;

    private readonly NetworkSource _source;
    private readonly Dictionary<string, BlockSource> _blocks;
    private readonly List<GraphNode> _nodes = new();
    private readonly List<DiagnosticInfo> _diagnostics = new();
    private readonly Dictionary<string, int> _nameCounters = new();
    private readonly Dictionary<string, string> _namesInUse = new();
    private readonly Dictionary<int, (string Name, EquatableArray<ParamSpec> Params)> _instances = new();
    private readonly Stack<(string Id, string Name)> _active = new();

    /// <summary>The loops running now, outermost first: their variable's value, header and block, for DSL0045.</summary>
    private readonly List<(string Variable, string Value, string Header, string Block)> _loops = new();
    private readonly CancellationToken _cancellationToken;
    private ImmutableArray<LocationInfo> _callSites = ImmutableArray<LocationInfo>.Empty;
    private string _block = "";
    private int _nextInstance;

    private Expander(NetworkSource source, CancellationToken cancellationToken)
    {
        _source = source;
        _cancellationToken = cancellationToken;
        _blocks = new Dictionary<string, BlockSource>();
        foreach (var block in source.Blocks)
        {
            // Overloaded blocks: the parser bound each call to one overload by name and arity is rare in
            // network code; keep the first and let the C# compiler arbitrate the rest.
            if (!_blocks.ContainsKey(block.Id))
            {
                _blocks[block.Id] = block;
            }
        }
    }

    /// <summary>The values <c>Define()</c> returns with <c>Outputs(a, b, ...)</c> and their names; empty for one output.</summary>
    private readonly List<(int Node, string Name)> _outputs = new();

    public static NetworkModel Build(NetworkSource source, CancellationToken cancellationToken)
    {
        var expander = new Expander(source, cancellationToken);
        int output = -1;
        var define = source.Blocks.FirstOrDefault(b => b.Name == "Define" && b.Parameters.Count == 0 && b.ReturnsNet);
        if (define is not null)
        {
            output = expander.RunDefine(define);
        }
        expander.NoteSharedBlockCalls();
        bool hasErrors = source.Diagnostics.Concat(expander._diagnostics).Any(d => d.IsError) || output < 0;
        var warnings = hasErrors ? Enumerable.Empty<DiagnosticInfo>() : LinearRank.Find(expander._nodes, output);
        var diagnostics = source.Diagnostics.Concat(expander._diagnostics).Concat(warnings).ToImmutableArray();
        return new NetworkModel(
            source.Namespace,
            source.ClassName,
            source.Accessibility,
            hasErrors ? EquatableArray<GraphNode>.Empty : EquatableArray.From(expander._nodes),
            hasErrors ? -1 : output,
            new EquatableArray<DiagnosticInfo>(diagnostics),
            source.CanEmit,
            hasErrors,
            hasErrors ? default : EquatableArray.From(expander._outputs.Select(o => o.Node)),
            hasErrors ? default : EquatableArray.From(expander._outputs.Select(o => o.Name)));
    }

    private int RunDefine(BlockSource define)
    {
        _active.Push((define.Id, define.Name));
        var value = define.Result is LayerCallExpr { Layer: OutputsCall } outputs
            ? EvaluateOutputs(define, outputs)
            : EvaluateBody(define, new Dictionary<string, Value>());
        _active.Pop();
        if (value is NetValue && _outputs.Count > 0)
        {
            return _outputs[0].Node;
        }
        switch (value)
        {
            case NetValue net when _nodes.Count > 0 && _nodes[0].Op == InputOp.Name:
                return SingleValue(net.Node, define.Result.Location, ImmutableArray<LocationInfo>.Empty)
                    && Untyped(net.Node, "Define()'s result", define.Result.Location, ImmutableArray<LocationInfo>.Empty) ? net.Node : -1;
            case ErrorValue:
                return -1;
            default:
                Report(Descriptors.InputMisuse, define.Result.Location,
                    $"Define() must return a Net that starts at Input(...), for example 'Input(784) | Linear(10)'");
                return -1;
        }
    }

    private const string OutputsCall = "Outputs";

    /// <summary>
    /// <c>return Outputs(a, b, ...)</c>: each value checked (one value, float32), named after its variable when it is one
    /// (<c>logits</c>), otherwise <c>output0</c>, <c>output1</c>, ...; the names become the generated tuple's elements.
    /// </summary>
    private Value EvaluateOutputs(BlockSource define, LayerCallExpr call)
    {
        var env = new Dictionary<string, Value>();
        foreach (var binding in define.Bindings)
        {
            var bound = Evaluate(binding.Value, env);
            if (bound is ErrorValue)
            {
                return bound;
            }
            env[binding.Name] = bound;
        }
        var values = call.Args.FirstOrDefault(a => a.Parameter == "values");
        if (values is null || values.Kind != ArgKind.ExpressionList || values.Expressions.Count < 2)
        {
            Report(Descriptors.OutputsMisuse, call.Location, call.Source, "Outputs takes at least two values, for example Outputs(logits, state); return a single value as it is");
            return ErrorValue.Instance;
        }
        var names = new HashSet<string>();
        foreach (var (expression, index) in values.Expressions.Select((e, i) => (e, i)))
        {
            if (Evaluate(expression, env) is not NetValue net)
            {
                return ErrorValue.Instance;
            }
            if (!SingleValue(net.Node, expression.Location, _callSites) || !Untyped(net.Node, call.Source, expression.Location, _callSites))
            {
                return ErrorValue.Instance;
            }
            string fallback = "output" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string name = expression is RefExpr reference && IsInputName(reference.Name) && !ReservedOutputName(reference.Name) ? reference.Name : fallback;
            _outputs.Add((net.Node, names.Add(name) ? name : fallback));
            names.Add(fallback);
        }
        return new NetValue(_outputs[0].Node);
    }

    /// <summary>Names a tuple element may not take (ValueTuple's own members) or that Backward uses.</summary>
    private static bool ReservedOutputName(string name)
        => name.StartsWith("Item", System.StringComparison.Ordinal) || name is "Rest" or "ToString" or "GetHashCode" or "Equals" or "GetType" or "CompareTo"
            || name.StartsWith("output", System.StringComparison.Ordinal);

    private Value EvaluateBody(BlockSource block, Dictionary<string, Value> env)
    {
        if (block.Statements.Count > 0)
        {
            // A statement body ran to its end without 'return': the compiler reports CS0161.
            return Execute(block.Statements, env, block.Name) ?? ErrorValue.Instance;
        }
        foreach (var binding in block.Bindings)
        {
            var value = Evaluate(binding.Value, env);
            if (value is ErrorValue)
            {
                return value;
            }
            env[binding.Name] = value;
        }
        return Evaluate(block.Result, env);
    }

    private Value Evaluate(DslExpr expr, Dictionary<string, Value> env)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        switch (expr)
        {
            case PipeExpr pipe:
                return Pipe(pipe, env);
            case AddExpr add:
                return Elementwise(add.Left, add.Right, add.Location, "+", env);
            case MulExpr mul:
                return Elementwise(mul.Left, mul.Right, mul.Location, "*", env);
            case ElementwiseExpr elementwise:
                return Broadcasting(elementwise, env);
            case LayerCallExpr { Layer: OutputsCall } call:
                Report(Descriptors.OutputsMisuse, call.Location, call.Source, "Outputs(...) is only what Define() returns: 'return Outputs(a, b);'");
                return ErrorValue.Instance;
            case LayerCallExpr call when call.Layer is InputOp.Name or InputOp.TokensCall or InputOp.MaskCall:
                return Input(call);
            case LayerCallExpr { ReturnsNet: true } call:
                return ValueCall(call, env);
            case LayerCallExpr call:
                return Layer(call, env);
            case BlockCallExpr call:
                return Block(call, env);
            case RefExpr reference:
                return env.TryGetValue(reference.Name, out var bound) ? bound : ErrorValue.Instance;
            case ConstantExpr or ArithmeticExpr:
                if (Fold(expr, env) is { } folded)
                {
                    return new ConstValue(folded);
                }
                Report(Descriptors.ControlNotConstant, expr.Location, "The value", Render(expr), CurrentBlock, "it does not fold to a number or a bool (a division by zero, or a value computed by layers)");
                return ErrorValue.Instance;
            case ConditionalExpr conditional:
                return Condition(conditional.Condition, "The condition", "?:", env) is { } taken
                    ? Evaluate(taken ? conditional.WhenTrue : conditional.WhenFalse, env)
                    : ErrorValue.Instance;
            case InvalidExpr invalid:
                if (invalid.Diagnostic is not null)
                {
                    _diagnostics.Add(invalid.Diagnostic with { AdditionalLocations = new EquatableArray<LocationInfo>(_callSites) });
                }
                return ErrorValue.Instance;
            default:
                return ErrorValue.Instance;
        }
    }

    private Value Pipe(PipeExpr pipe, Dictionary<string, Value> env)
    {
        var left = Evaluate(pipe.Left, env);
        if (left is ErrorValue)
        {
            return left;
        }
        var right = Evaluate(pipe.Right, env);
        switch (left, right)
        {
            case (_, ErrorValue):
                return right;
            case (NetValue net, LayerValue layer):
                return Apply(layer, net);
            case (LayerValue first, LayerValue second):
                return new LayerValue(first.Steps.AddRange(second.Steps));
            default:
                Report(Descriptors.UnsupportedSyntax, pipe.Right.Location,
                    "The right side of '|' must be a layer (or a composition of layers), not a Net");
                return ErrorValue.Instance;
        }
    }

    /// <summary><c>a + b</c> and <c>a * b</c>: two values of the same shape, symbolic dimensions compared exactly.</summary>
    private Value Elementwise(DslExpr leftExpr, DslExpr rightExpr, LocationInfo location, string symbol, Dictionary<string, Value> env)
    {
        var left = Evaluate(leftExpr, env);
        var right = Evaluate(rightExpr, env);
        if (left is ErrorValue || right is ErrorValue)
        {
            return ErrorValue.Instance;
        }
        if (left is not NetValue a || right is not NetValue b)
        {
            Report(Descriptors.UnsupportedSyntax, location, $"'{symbol}' combines two Nets (values); apply layers with '|' first");
            return ErrorValue.Instance;
        }
        if (!SingleValue(a.Node, location, _callSites) || !SingleValue(b.Node, location, _callSites))
        {
            return ErrorValue.Instance;
        }
        if (!Untyped(a.Node, symbol, location, _callSites) || !Untyped(b.Node, symbol, location, _callSites))
        {
            return ErrorValue.Instance;
        }
        // Symbolic dims agree only when equal: T never matches a constant or another symbol.
        var sa = _nodes[a.Node].Shape;
        if (!_nodes[a.Node].Dims.Equals(_nodes[b.Node].Dims)
            && TensorShapes.Broadcast(_nodes[a.Node].Dims.Items, _nodes[b.Node].Dims.Items, out _) is not null)
        {
            // Shapes that differ but broadcast (issue 8): the general element-wise op.
            return BroadcastNode(symbol, a.Node, b.Node, null, false, location);
        }
        if (!_nodes[a.Node].Dims.Equals(_nodes[b.Node].Dims))
        {
            if (symbol == "+")
            {
                Report(Descriptors.AddMismatch, location, ShapeText.Of(_nodes[a.Node]), Provenance(a.Node), ShapeText.Of(_nodes[b.Node]), Provenance(b.Node));
            }
            else
            {
                Report(Descriptors.ElementwiseMismatch, location, symbol, ShapeText.Of(_nodes[a.Node]), Provenance(a.Node), ShapeText.Of(_nodes[b.Node]), Provenance(b.Node));
            }
            return ErrorValue.Instance;
        }
        string op = symbol == "+" ? AddOp.Name : MulOp.Name;
        return new NetValue(AddNode(op, ImmutableArray.Create(a.Node, b.Node), sa, symbol, "",
            EquatableArray<ParamSpec>.Empty, EquatableArray<Attr>.Empty, _nodes[a.Node].Elements, location, _block, _nodes[a.Node].Symbolic));
    }

    // ---- tensor operations (issue 8): broadcasting element-wise operations and numbers as operands

    /// <summary>
    /// <c>a - b</c>, <c>a / b</c>, or <c>+ - * /</c> with a number on one side: the per-sample shapes broadcast as PyTorch's
    /// (DSL1062 otherwise). Two values of one shape under - or / are the same node as any other broadcast; + and * with
    /// two values stay <see cref="Elementwise"/>. A 0/1 mask may be an operand (<c>1.0 - m</c>); token ids may not.
    /// </summary>
    private Value Broadcasting(ElementwiseExpr expr, Dictionary<string, Value> env)
    {
        double? leftNumber = Number(expr.Left, env), rightNumber = Number(expr.Right, env);
        if (leftNumber is not null && rightNumber is not null)
        {
            Report(Descriptors.UnsupportedSyntax, expr.Location, $"'{expr.Symbol}' of two numbers is not a value: one operand must be a Net");
            return ErrorValue.Instance;
        }
        if (leftNumber is null && rightNumber is null && expr.Symbol is "+" or "*")
        {
            return Elementwise(expr.Left, expr.Right, expr.Location, expr.Symbol, env);
        }
        var left = leftNumber is null ? Evaluate(expr.Left, env) : null;
        var right = rightNumber is null ? Evaluate(expr.Right, env) : null;
        if (left is ErrorValue || right is ErrorValue)
        {
            return ErrorValue.Instance;
        }
        if ((left is not null && left is not NetValue) || (right is not null && right is not NetValue))
        {
            Report(Descriptors.UnsupportedSyntax, expr.Location, $"'{expr.Symbol}' combines values (Nets) and numbers; apply layers with '|' first");
            return ErrorValue.Instance;
        }
        var operands = new[] { left, right }.OfType<NetValue>().Select(v => v.Node).ToList();
        foreach (int operand in operands)
        {
            if (!SingleValue(operand, expr.Location, _callSites))
            {
                return ErrorValue.Instance;
            }
            if (InputOp.IsTyped(_nodes[operand]) && _nodes[operand].Attr(InputOp.DTypeAttr) == InputOp.Int64)
            {
                Untyped(operand, expr.Symbol, expr.Location, _callSites);
                return ErrorValue.Instance;
            }
        }
        double? number = leftNumber ?? rightNumber;
        if (number is { } n && (double.IsNaN(n) || float.IsInfinity((float)n)))
        {
            Report(Descriptors.NotFinite, expr.Location, expr.Symbol, "the number", n.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            return ErrorValue.Instance;
        }
        if (operands.Count == 2)
        {
            var da = _nodes[operands[0]].Dims.Items;
            var db = _nodes[operands[1]].Dims.Items;
            if (TensorShapes.Broadcast(da, db, out string why) is null)
            {
                Report(Descriptors.BroadcastMismatch, expr.Location, expr.Symbol, ShapeText.Of(_nodes[operands[0]]), Provenance(operands[0]),
                    ShapeText.Of(_nodes[operands[1]]), Provenance(operands[1]), why);
                return ErrorValue.Instance;
            }
            return BroadcastNode(expr.Symbol, operands[0], operands[1], null, false, expr.Location);
        }
        return BroadcastNode(expr.Symbol, operands[0], -1, number, leftNumber is not null, expr.Location);
    }

    /// <summary>A number operand of an element-wise operation (a constant, arithmetic, a numeric block parameter), or null.</summary>
    private static double? Number(DslExpr expr, Dictionary<string, Value> env)
    {
        var folded = expr switch
        {
            ConstantExpr or ArithmeticExpr => Fold(expr, env),
            RefExpr reference when env.TryGetValue(reference.Name, out var v) && v is ConstValue => Fold(expr, env),
            _ => null,
        };
        return folded?.Kind switch { ArgKind.Int => folded.Int, ArgKind.Number => folded.Number, _ => null };
    }

    /// <summary>The <see cref="ElementwiseOp"/> node of <c>a (op) b</c> (b -1 with a number, first or second).</summary>
    private Value BroadcastNode(string symbol, int a, int b, double? number, bool numberFirst, LocationInfo location)
    {
        var dims = b < 0 ? _nodes[a].Dims.Items : TensorShapes.Broadcast(_nodes[a].Dims.Items, _nodes[b].Dims.Items, out _)!.Value;
        bool symbolic = dims.Any(d => !d.IsConstant);
        var attrs = new List<Attr> { new(ElementwiseOp.OpAttr, ElementwiseOp.OpOf(symbol)) };
        if (number is { } value)
        {
            attrs.Add(new Attr(ElementwiseOp.ScalarAttr, value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
            attrs.Add(new Attr(ElementwiseOp.ScalarFirstAttr, numberFirst ? "true" : "false"));
        }
        var inputs = b < 0 ? ImmutableArray.Create(a) : ImmutableArray.Create(a, b);
        string text = number is { } k ? k.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "";
        string label = number is null ? symbol : numberFirst ? text + " " + symbol : symbol + " " + text;
        long count = TensorShapes.Count(dims);
        return new NetValue(AddNode(ElementwiseOp.Name, inputs, dims.Select(d => d.IsConstant ? (int)d.Constant : 1), label, "",
            EquatableArray<ParamSpec>.Empty, EquatableArray.From(attrs), count, location, _block, symbolic ? EquatableArray.From(dims) : default));
    }

    /// <summary>
    /// A value function (<c>Concat(a, b, dim: -1)</c>): a catalogue call returning a Net whose Net arguments, in the order of
    /// the C# parameters, are the node's inputs; the first is input 0. Its op's shape rule reads them by name.
    /// </summary>
    private Value ValueCall(LayerCallExpr call, Dictionary<string, Value> env)
    {
        if (OpTable.ForCall(call.Layer) is null)
        {
            Report(Descriptors.UnknownLayer, call.Location, call.Layer, _source.ClassName);
            return ErrorValue.Instance;
        }
        var args = ResolveAll(call, env);
        if (args.IsDefault)
        {
            return ErrorValue.Instance;
        }
        var nets = NetArguments(call, env);
        if (nets.IsDefault)
        {
            return ErrorValue.Instance;
        }
        if (nets.Length == 0)
        {
            throw new System.InvalidOperationException($"the value function {call.Layer} has no Net argument");
        }
        var step = new LayerStep(StepKind.Layer, _nextInstance++, call, args, ImmutableArray<LayerValue>.Empty, _callSites, _block, nets) { Loop = CurrentLoop };
        int node = ApplyLayer(step, nets[0].Node);
        return node < 0 ? ErrorValue.Instance : new NetValue(node);
    }

    /// <summary>
    /// The values given to a call's Net parameters, in parameter order (null ones left out), or default after reporting
    /// one that is not a single value.
    /// </summary>
    private ImmutableArray<NetBinding> NetArguments(LayerCallExpr call, Dictionary<string, Value> env)
    {
        var nets = ImmutableArray.CreateBuilder<NetBinding>();
        foreach (var arg in call.Args)
        {
            if (arg.Kind != ArgKind.Expression)
            {
                continue;
            }
            var value = arg.Expression is null ? ErrorValue.Instance : Evaluate(arg.Expression, env);
            if (value is ErrorValue)
            {
                return default;
            }
            if (value is not NetValue net)
            {
                Report(Descriptors.UnsupportedSyntax, arg.Location, $"{call.Layer}'s argument '{arg.Parameter}' takes a value (a Net, for example one bound with var), not a layer");
                return default;
            }
            if (!SingleValue(net.Node, arg.Location, _callSites))
            {
                return default;
            }
            nets.Add(new NetBinding(arg.Parameter, net.Node));
        }
        return nets.ToImmutable();
    }

    private Value Input(LayerCallExpr call)
    {
        var nameArg = call.Args.FirstOrDefault(a => a.Parameter == "name");
        string name = InputOp.DefaultName;
        if (nameArg is not null)
        {
            if (nameArg.Kind != ArgKind.String || nameArg.Text is null)
            {
                Report(Descriptors.NotConstant, nameArg.Location, call.Source, "name", nameArg.Text ?? "");
                return ErrorValue.Instance;
            }
            name = nameArg.Text;
            if (!IsInputName(name))
            {
                Report(Descriptors.InvalidArgument, nameArg.Location, call.Source,
                    $"the input's name becomes a parameter of Forward, so it must be a C# identifier other than n, device, output, gradOutput and inputGradient, got {Emit.Names.Literal(name)}");
                return ErrorValue.Instance;
            }
        }
        string? taken = _nodes.Where(n => n.Op == InputOp.Name && n.Attr(InputOp.NameAttr) == name).Select(n => n.Label).FirstOrDefault();
        if (taken is not null)
        {
            Report(Descriptors.InputMisuse, call.Location,
                $"{taken} is already named '{name}': with several inputs, name each one, for example Input(\"image\", 1, 28, 28) and Input(\"extra\", 4)");
            return ErrorValue.Instance;
        }
        var arg = call.Args.FirstOrDefault(a => a.Parameter == "shape");
        if (arg is null || arg.Kind is not (ArgKind.IntArray or ArgKind.DimArray))
        {
            Report(Descriptors.NotConstant, arg?.Location ?? call.Location, call.Source, "shape", arg?.Display ?? "");
            return ErrorValue.Instance;
        }
        var symbols = arg.Kind == ArgKind.DimArray ? arg.Symbols.Items : arg.Ints.Select(_ => "").ToImmutableArray();
        for (int i = 0; i < symbols.Length; i++)
        {
            if (symbols[i].Length > 0 && !Dim.IsSymbolName(symbols[i]))
            {
                Report(Descriptors.InvalidSymbol, arg.Location, call.Source, Emit.Names.Literal(symbols[i]));
                return ErrorValue.Instance;
            }
        }
        // A symbol counts as 1 in Shape (sizes per unit of each symbol); Symbolic keeps the dims as declared.
        var sizes = arg.Ints.Select((d, i) => symbols[i].Length > 0 ? 1 : d).ToImmutableArray();
        if (sizes.Length == 0 || sizes.Any(d => d <= 0))
        {
            Report(Descriptors.InvalidArgument, call.Location, call.Source, "an input needs at least one dimension, each positive");
            return ErrorValue.Instance;
        }
        if (symbols.Any(x => x.Length > 0) && sizes.Length > 3)
        {
            Report(Descriptors.InvalidArgument, call.Location, call.Source, "an input with a symbolic dimension has at most 3 dimensions per sample");
            return ErrorValue.Instance;
        }
        if (!FitsTensor(sizes.Select(d => (long)d), out string overflow))
        {
            Report(Descriptors.ShapeOverflow, call.Location, call.Source, overflow);
            return ErrorValue.Instance;
        }
        // Generated Forward holds each symbol in a local dimT: an input may not take that name.
        var inputs = _nodes.Where(n => n.Op == InputOp.Name).ToList();
        var declared = inputs.SelectMany(n => n.Dims.SelectMany(d => d.Symbols)).Concat(symbols.Where(s => s.Length > 0)).Distinct().ToList();
        string? clash = declared.FirstOrDefault(s => Dim.Local(s) == name);
        string? clashed = symbols.Where(s => s.Length > 0).FirstOrDefault(s => inputs.Any(n => InputOp.Parameter(n) == Dim.Local(s)));
        if (clash is not null || clashed is not null)
        {
            Report(Descriptors.SymbolLocalClash, call.Location, call.Source, clash is not null ? name : Dim.Local(clashed!), clash ?? clashed!);
            return ErrorValue.Instance;
        }
        var attrs = new List<Attr> { new(InputOp.NameAttr, name) };
        if (call.Layer != InputOp.Name)
        {
            attrs.Add(new Attr(InputOp.DTypeAttr, call.Layer == InputOp.TokensCall ? InputOp.Int64 : InputOp.MaskType));
        }
        var dims = sizes.Select((d, i) => symbols[i].Length > 0 ? Dim.Symbol(symbols[i]) : Dim.Of(d)).ToList();
        return new NetValue(AddNode(InputOp.Name, ImmutableArray<int>.Empty, sizes, call.Source, "",
            EquatableArray<ParamSpec>.Empty, EquatableArray.From(attrs), 0, call.Location, _block,
            dims.Any(d => !d.IsConstant) ? EquatableArray.From(dims) : default));
    }

    /// <summary>A name usable as a parameter of the generated Forward: an identifier, not a keyword, not one of its locals.</summary>
    private static bool IsInputName(string name)
        => Microsoft.CodeAnalysis.CSharp.SyntaxFacts.IsValidIdentifier(name)
            && Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(name) == Microsoft.CodeAnalysis.CSharp.SyntaxKind.None
            && Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetContextualKeywordKind(name) == Microsoft.CodeAnalysis.CSharp.SyntaxKind.None
            && name is not ("n" or "device" or "output" or "gradOutput" or "inputGradient")
            && !System.Text.RegularExpressions.Regex.IsMatch(name, @"^d?h[0-9]+_");

    /// <summary>The node attribute that marks a layer written inside <c>Frozen(...)</c>.</summary>
    public const string FrozenAttr = "frozen";

    private Value Layer(LayerCallExpr call, Dictionary<string, Value> env)
    {
        if (call.Layer is "Residual" or "Concat" or "Repeat" or "Frozen" or "Named")
        {
            return Combinator(call, env);
        }
        if (OpTable.ForCall(call.Layer) is null && call.Layer != "Identity")
        {
            Report(Descriptors.UnknownLayer, call.Location, call.Layer, _source.ClassName);
            return ErrorValue.Instance;
        }
        var args = ResolveAll(call, env);
        if (args.IsDefault)
        {
            return ErrorValue.Instance;
        }
        // Net arguments (mask: m) are values bound where the layer is written; they become inputs where it is applied.
        var nets = NetArguments(call, env);
        return nets.IsDefault
            ? ErrorValue.Instance
            : new LayerValue(ImmutableArray.Create(new LayerStep(StepKind.Layer, _nextInstance++, call, args, ImmutableArray<LayerValue>.Empty, _callSites, _block, nets) { Loop = CurrentLoop }));
    }

    /// <summary>Every argument of a catalogue call as a constant, or default after reporting the first that is not.</summary>
    private ImmutableArray<ArgValue> ResolveAll(LayerCallExpr call, Dictionary<string, Value> env)
    {
        var args = ImmutableArray.CreateBuilder<ArgValue>(call.Args.Count);
        foreach (var arg in call.Args)
        {
            if (arg.Kind is ArgKind.Expression or ArgKind.ExpressionList)
            {
                continue;
            }
            var resolved = Resolve(arg, env);
            if (resolved is null)
            {
                Report(Descriptors.NotConstant, arg.Location, call.Source, arg.Parameter, arg.Text ?? "");
                return default;
            }
            // Numbers run as float32: one past float's range (1e39) is as unusable as an infinity.
            // MaskedFill's value may be -infinity, as masked_fill(mask, float('-inf')).
            bool fillValue = call.Layer == MaskedFillOp.Name && arg.Parameter == "value" && double.IsNegativeInfinity(resolved.Number);
            if (resolved.Kind == ArgKind.Number && !fillValue && (double.IsNaN(resolved.Number) || float.IsInfinity((float)resolved.Number)))
            {
                Report(Descriptors.NotFinite, arg.Location, call.Source, arg.Parameter, resolved.Display);
                return default;
            }
            if (resolved.Kind == ArgKind.Number && !fillValue && float.IsInfinity((float)resolved.Number))
            {
                // Kernels take float32: a double past its range would reach them as an infinity.
                Report(Descriptors.NotFinite, arg.Location, call.Source, arg.Parameter, resolved.Display + ", beyond float32's range");
                return default;
            }
            args.Add(resolved);
        }
        return args.ToImmutable();
    }

    /// <summary><c>Residual</c>, <c>Concat</c> and <c>Repeat</c>: layer values built from other layer values.</summary>
    private Value Combinator(LayerCallExpr call, Dictionary<string, Value> env)
    {
        var args = ResolveAll(call, env);
        if (args.IsDefault)
        {
            return ErrorValue.Instance;
        }
        var bodies = ImmutableArray.CreateBuilder<LayerValue>();
        foreach (var arg in call.Args)
        {
            var expressions = arg.Kind == ArgKind.Expression && arg.Expression is not null
                ? new[] { arg.Expression }
                : arg.Kind == ArgKind.ExpressionList ? arg.Expressions.Items.ToArray() : System.Array.Empty<DslExpr>();
            foreach (var expression in expressions)
            {
                var value = Evaluate(expression, env);
                if (value is ErrorValue)
                {
                    return value;
                }
                if (value is not LayerValue layer)
                {
                    Report(Descriptors.UnsupportedSyntax, expression.Location, $"{call.Layer} takes layers (functions of a Net), not a Net");
                    return ErrorValue.Instance;
                }
                bodies.Add(layer);
            }
        }
        switch (call.Layer)
        {
            case "Frozen":
                return new LayerValue(bodies[0].Steps.Select(step => step.AsFrozen()).ToImmutableArray());
            case "Named":
                string? blockName = new LayerArgs(args).String("name");
                if (blockName is null || !System.Text.RegularExpressions.Regex.IsMatch(blockName, @"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"))
                {
                    Report(Descriptors.BlockName, call.Location, call.Source, blockName ?? "null");
                    return ErrorValue.Instance;
                }
                return new LayerValue(bodies[0].Steps.Select(step => step.InScope(blockName)).ToImmutableArray());
            case "Repeat":
                long count = new LayerArgs(args).Int("count");
                if (count < 1 || count > 1000)
                {
                    Report(Descriptors.InvalidArgument, call.Location, call.Source, $"the count must lie in [1, 1000], got {count}");
                    return ErrorValue.Instance;
                }
                var steps = ImmutableArray.CreateBuilder<LayerStep>();
                for (int i = 0; i < count; i++)
                {
                    steps.AddRange(bodies[0].Fresh(() => _nextInstance++).Steps);
                }
                return new LayerValue(steps.ToImmutable());
            case "Concat" when bodies.Count == 0:
                Report(Descriptors.InvalidArgument, call.Location, call.Source, "Concat needs at least one branch");
                return ErrorValue.Instance;
            default:
                var kind = call.Layer == "Residual" ? StepKind.Residual : StepKind.Concat;
                return new LayerValue(ImmutableArray.Create(new LayerStep(kind, _nextInstance++, call, args, bodies.ToImmutable(), _callSites, _block) { Loop = CurrentLoop }));
        }
    }

    /// <summary>A constant argument with block parameters substituted, or null when it is not a compile-time constant.</summary>
    private static ArgValue? Resolve(ArgValue arg, Dictionary<string, Value> env)
    {
        switch (arg.Kind)
        {
            case ArgKind.NotConstant or ArgKind.Expression:
                return null;
            case ArgKind.ParameterRef:
                return env.TryGetValue(arg.Text ?? "", out var v) && v is ConstValue c
                    ? c.Arg with { Parameter = arg.Parameter, Explicit = arg.Explicit, Location = arg.Location }
                    : null;
            case ArgKind.Arithmetic:
                return arg.Expression is not null && Fold(arg.Expression, env) is { } folded
                    ? folded with { Parameter = arg.Parameter, Explicit = arg.Explicit, Location = arg.Location, Text = folded.Kind == ArgKind.String ? folded.Text : arg.Text }
                    : null;
            case ArgKind.DimArray when arg.Expressions.Count > 0:
                // Sizes computed from the block's parameters (View(q, -1, heads, d / heads)): each folds to an integer.
                var sizes = new List<int>();
                for (int k = 0; k < arg.Ints.Count; k++)
                {
                    if (arg.Symbols.Count > k && arg.Symbols[k].Length > 0)
                    {
                        sizes.Add(0);
                        continue;
                    }
                    var size = Fold(arg.Expressions[k], env);
                    if (size is null || size.Kind != ArgKind.Int || size.Int < int.MinValue || size.Int > int.MaxValue)
                    {
                        return null;
                    }
                    sizes.Add((int)size.Int);
                }
                return arg with { Ints = EquatableArray.From(sizes), Expressions = EquatableArray<DslExpr>.Empty };
            default:
                return arg;
        }
    }

    /// <summary>Folds an argument's arithmetic with C#'s rules (integer division truncates); null if it cannot.</summary>
    private static ArgValue? Fold(DslExpr expr, Dictionary<string, Value> env)
    {
        switch (expr)
        {
            case ConstantExpr constant:
                return constant.Value;
            case RefExpr reference:
                return env.TryGetValue(reference.Name, out var v) && v is ConstValue { Arg.Kind: ArgKind.Int or ArgKind.Number or ArgKind.String or ArgKind.Bool or ArgKind.IntArray } c ? c.Arg : null;
            case ConditionalExpr conditional:
                return Fold(conditional.Condition, env) is { Kind: ArgKind.Bool } test ? Fold(test.Int != 0 ? conditional.WhenTrue : conditional.WhenFalse, env) : null;
            case ArithmeticExpr arithmetic:
                var right = Fold(arithmetic.Right, env);
                var left = arithmetic.Left is null ? null : Fold(arithmetic.Left, env);
                if (right is null || (arithmetic.Left is not null && left is null))
                {
                    return null;
                }
                if (right.Kind is ArgKind.Bool or ArgKind.IntArray || left?.Kind is ArgKind.Bool or ArgKind.IntArray
                    || arithmetic.Op is "<" or "<=" or ">" or ">=" or "==" or "!=" or "&&" or "||" or "!")
                {
                    return Logic(arithmetic.Op, left, right);
                }
                if (left is null && arithmetic.Op == "sqrt" && right.Kind != ArgKind.String)
                {
                    double radicand = right.Kind == ArgKind.Int ? right.Int : right.Number;
                    return radicand < 0 ? null : right with { Kind = ArgKind.Number, Int = 0, Number = System.Math.Sqrt(radicand) };
                }
                if (left is null && right.Kind == ArgKind.String)
                {
                    return null;
                }
                if (left is null)
                {
                    return right.Kind == ArgKind.Int ? right with { Int = -right.Int } : right with { Number = -right.Number };
                }
                if (left.Kind == ArgKind.String || right.Kind == ArgKind.String)
                {
                    // String concatenation only (a layer name built from a block's parameter); both sides strings.
                    return arithmetic.Op == "+" && left.Kind == ArgKind.String && right.Kind == ArgKind.String
                        ? left with { Text = left.Text + right.Text }
                        : null;
                }
                if (left.Kind == ArgKind.Int && right.Kind == ArgKind.Int)
                {
                    long a = left.Int, b = right.Int;
                    if (b == 0 && arithmetic.Op is "/" or "%")
                    {
                        return null;
                    }
                    long r = arithmetic.Op switch { "+" => a + b, "-" => a - b, "*" => a * b, "/" => a / b, _ => a % b };
                    return left with { Int = r };
                }
                double x = left.Kind == ArgKind.Int ? left.Int : left.Number, y = right.Kind == ArgKind.Int ? right.Int : right.Number;
                double result = arithmetic.Op switch { "+" => x + y, "-" => x - y, "*" => x * y, "/" => x / y, _ => x % y };
                return left with { Kind = ArgKind.Number, Int = 0, Number = result };
            default:
                return null;
        }
    }

    /// <summary>Comparisons and boolean operators of a block's conditions; null for anything else (a bool in arithmetic).</summary>
    private static ArgValue? Logic(string op, ArgValue? left, ArgValue right)
    {
        ArgValue Bool(bool value) => right with { Kind = ArgKind.Bool, Int = value ? 1 : 0, Number = 0, Text = null, Ints = EquatableArray<int>.Empty };
        bool numeric(ArgValue a) => a.Kind is ArgKind.Int or ArgKind.Number;
        double number(ArgValue a) => a.Kind == ArgKind.Int ? a.Int : a.Number;
        if (left is null)
        {
            return op == "!" && right.Kind == ArgKind.Bool ? Bool(right.Int == 0) : null;
        }
        if (left.Kind == ArgKind.Bool && right.Kind == ArgKind.Bool)
        {
            bool a = left.Int != 0, b = right.Int != 0;
            return op switch { "&&" => Bool(a && b), "||" => Bool(a || b), "==" => Bool(a == b), "!=" => Bool(a != b), _ => null };
        }
        if (numeric(left) && numeric(right))
        {
            if (left.Kind == ArgKind.Int && right.Kind == ArgKind.Int)
            {
                long a = left.Int, b = right.Int;
                return op switch { "<" => Bool(a < b), "<=" => Bool(a <= b), ">" => Bool(a > b), ">=" => Bool(a >= b), "==" => Bool(a == b), "!=" => Bool(a != b), _ => null };
            }
            double x = number(left), y = number(right);
            return op switch { "<" => Bool(x < y), "<=" => Bool(x <= y), ">" => Bool(x > y), ">=" => Bool(x >= y), "==" => Bool(x == y), "!=" => Bool(x != y), _ => null };
        }
        if (left.Kind == ArgKind.String && right.Kind == ArgKind.String)
        {
            return op switch { "==" => Bool(left.Text == right.Text), "!=" => Bool(left.Text != right.Text), _ => null };
        }
        return null;
    }

    // ---- statement bodies (issue 9): loops and conditionals over compile-time constants, unrolled here

    /// <summary>The name of the block being expanded, for messages.</summary>
    private string CurrentBlock => _active.Count == 0 ? _source.ClassName : _active.Peek().Name;

    private LoopIteration? CurrentLoop => _loops.Count == 0
        ? null
        : new LoopIteration(string.Join(", ", _loops.Select(l => l.Variable + " = " + l.Value)), _loops[_loops.Count - 1].Header, _loops[_loops.Count - 1].Block);

    /// <summary>
    /// Runs statements: null when they end without <c>return</c>, otherwise the returned value (an <see cref="ErrorValue"/>
    /// after a diagnostic).
    /// </summary>
    private Value? Execute(EquatableArray<Statement> statements, Dictionary<string, Value> env, string block)
    {
        foreach (var statement in statements)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            Value? result;
            switch (statement)
            {
                case LetStatement let:
                    var value = Evaluate(let.Value, env);
                    if (value is ErrorValue)
                    {
                        return value;
                    }
                    env[let.Name] = value;
                    continue;
                case ReturnStatement returned:
                    return Evaluate(returned.Value, env);
                case IfStatement branch:
                    if (Condition(branch.Condition, "The condition", branch.Header, env) is not { } taken)
                    {
                        return ErrorValue.Instance;
                    }
                    result = Execute(taken ? branch.Then : branch.Else, env, block);
                    break;
                case ForStatement loop:
                    result = RunFor(loop, env, block);
                    break;
                case ForEachStatement each:
                    result = RunForEach(each, env, block);
                    break;
                case InvalidStatement invalid:
                    if (invalid.Diagnostic is not null)
                    {
                        _diagnostics.Add(invalid.Diagnostic with { AdditionalLocations = new EquatableArray<LocationInfo>(_callSites) });
                    }
                    return ErrorValue.Instance;
                default:
                    throw new System.InvalidOperationException($"no expansion for the statement {statement.GetType().Name}");
            }
            if (result is not null)
            {
                return result;
            }
        }
        return null;
    }

    /// <summary>A compile-time condition's value, or null after reporting DSL0043 (or the parser's diagnostic).</summary>
    private bool? Condition(DslExpr condition, string what, string header, Dictionary<string, Value> env)
    {
        if (condition is InvalidExpr)
        {
            Evaluate(condition, env);
            return null;
        }
        if (Fold(condition, env) is { Kind: ArgKind.Bool } folded)
        {
            return folded.Int != 0;
        }
        Report(Descriptors.ControlNotConstant, condition.Location, what, header, CurrentBlock, "it does not fold to a bool (a value computed by layers, or a division by zero)");
        return null;
    }

    private Value? RunFor(ForStatement loop, Dictionary<string, Value> env, string block)
    {
        if (loop.Start is InvalidExpr)
        {
            return Evaluate(loop.Start, env);
        }
        if (Fold(loop.Start, env) is not { Kind: ArgKind.Int } start)
        {
            Report(Descriptors.ControlNotConstant, loop.Start.Location, "The start", loop.Header, block, "it does not fold to an integer");
            return ErrorValue.Instance;
        }
        env[loop.Variable] = new ConstValue(start);
        for (int iteration = 0; ; iteration++)
        {
            if (Condition(loop.Condition, "The condition", loop.Header, env) is not { } go)
            {
                return ErrorValue.Instance;
            }
            if (!go)
            {
                return null;
            }
            if (iteration == MaxIterations)
            {
                Report(Descriptors.LoopBudget, loop.Location, loop.Header, block, MaxIterations.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
                return ErrorValue.Instance;
            }
            if (!env.TryGetValue(loop.Variable, out var held) || held is not ConstValue { Arg.Kind: ArgKind.Int } counter)
            {
                // Only code the compiler refuses gets here (the loop variable assigned a value of another type).
                Report(Descriptors.ControlNotConstant, loop.Location, "The variable", loop.Header, block, $"'{loop.Variable}' no longer holds an integer");
                return ErrorValue.Instance;
            }
            var current = counter.Arg;
            var result = Iterate(loop.Body, env, block, loop.Variable, current.Display, loop.Header);
            if (result is not null)
            {
                return result;
            }
            if (loop.Next is InvalidExpr)
            {
                return Evaluate(loop.Next, env);
            }
            if (Fold(loop.Next, env) is not { Kind: ArgKind.Int } next)
            {
                Report(Descriptors.ControlNotConstant, loop.Next.Location, "The step", loop.Header, block, "it does not fold to an integer");
                return ErrorValue.Instance;
            }
            env[loop.Variable] = new ConstValue(next);
        }
    }

    private Value? RunForEach(ForEachStatement each, Dictionary<string, Value> env, string block)
    {
        if (each.Collection is InvalidExpr)
        {
            return Evaluate(each.Collection, env);
        }
        if (Fold(each.Collection, env) is not { Kind: ArgKind.IntArray } collection)
        {
            Report(Descriptors.ControlNotConstant, each.Collection.Location, "The collection", each.Header, block, "it is not a constant integer array");
            return ErrorValue.Instance;
        }
        if (collection.Ints.Count > MaxIterations)
        {
            Report(Descriptors.LoopBudget, each.Location, each.Header, block, MaxIterations.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
            return ErrorValue.Instance;
        }
        foreach (int item in collection.Ints)
        {
            var element = new ArgValue("", ArgKind.Int, item, 0, null, EquatableArray<int>.Empty, null, EquatableArray<DslExpr>.Empty, true, each.Collection.Location);
            env[each.Variable] = new ConstValue(element);
            var result = Iterate(each.Body, env, block, each.Variable, element.Display, each.Header);
            if (result is not null)
            {
                return result;
            }
        }
        return null;
    }

    /// <summary>One iteration of a loop's body; an error during it gets DSL0045 naming the iteration.</summary>
    private Value? Iterate(EquatableArray<Statement> body, Dictionary<string, Value> env, string block, string variable, string value, string header)
    {
        int before = _diagnostics.Count;
        _loops.Add((variable, value, header, block));
        var loop = CurrentLoop;
        try
        {
            return Execute(body, env, block);
        }
        finally
        {
            NoteIteration(before, loop);
            _loops.RemoveAt(_loops.Count - 1);
        }
    }

    /// <summary>
    /// After an error reported since <paramref name="before"/> by a layer written in a loop: DSL0045 at the same place,
    /// saying which iteration (once, by the innermost loop).
    /// </summary>
    private void NoteIteration(int before, LoopIteration? loop)
    {
        if (loop is null || _diagnostics.Count == before)
        {
            return;
        }
        DiagnosticInfo? first = null;
        for (int i = before; i < _diagnostics.Count; i++)
        {
            if (_diagnostics[i].Id == Descriptors.InIteration.Id)
            {
                return;
            }
            first ??= _diagnostics[i].IsError ? _diagnostics[i] : null;
        }
        if (first is not null)
        {
            _diagnostics.Add(DiagnosticInfo.Create(Descriptors.InIteration, first.Location, first.AdditionalLocations, first.Id, loop.Iteration, loop.Header, loop.Block));
        }
    }

    /// <summary>
    /// An error inside a shared block is reported where it is (with the calls as additional locations); as the block's
    /// code serves several networks, DSL0046 also says it at the network's own call, naming the network and the error.
    /// </summary>
    private void NoteSharedBlockCalls()
    {
        var shared = _source.Blocks.Where(b => b.Shared && b.Extent is not null).ToList();
        if (shared.Count == 0)
        {
            return;
        }
        BlockSource? Around(LocationInfo location) => shared.FirstOrDefault(b => b.Extent!.FilePath == location.FilePath && b.Extent.Span.Contains(location.Span));
        var notes = new List<DiagnosticInfo>();
        var seen = new HashSet<LocationInfo>();
        foreach (var d in _diagnostics)
        {
            if (!d.IsError || d.Id == Descriptors.InIteration.Id || Around(d.Location) is not { } inner)
            {
                continue;
            }
            // The call sites run from the innermost call outwards: the first one outside every shared block is the network's.
            var block = inner;
            foreach (var site in d.AdditionalLocations)
            {
                if (Around(site) is { } outer)
                {
                    block = outer;
                    continue;
                }
                if (seen.Add(site))
                {
                    notes.Add(DiagnosticInfo.Create(Descriptors.SharedBlockFails, site, block.Name, _source.ClassName, Message(d)));
                }
                break;
            }
        }
        _diagnostics.AddRange(notes);
    }

    /// <summary>A diagnostic's id and message as the user reads it, to repeat it elsewhere.</summary>
    private static string Message(DiagnosticInfo d)
    {
        var descriptor = Descriptors.Find(d.Id);
        string format = descriptor?.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "";
        var args = d.Arguments.Items.Cast<object>().ToArray();
        // A format with a placeholder past the arguments would throw; the id alone still says which error it is.
        bool fits = System.Text.RegularExpressions.Regex.Matches(format, @"\{(\d+)\}").Cast<System.Text.RegularExpressions.Match>()
            .All(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) < args.Length);
        return descriptor is null || !fits ? d.Id : d.Id + " " + string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args);
    }

    /// <summary>Compile-time arithmetic as text, for messages.</summary>
    private static string Render(DslExpr expr) => expr switch
    {
        ConstantExpr constant => constant.Value.Display,
        RefExpr reference => reference.Name,
        ArithmeticExpr { Left: null } unary => unary.Op + "(" + Render(unary.Right) + ")",
        ArithmeticExpr binary => Render(binary.Left!) + " " + binary.Op + " " + Render(binary.Right),
        ConditionalExpr conditional => Render(conditional.Condition) + " ? " + Render(conditional.WhenTrue) + " : " + Render(conditional.WhenFalse),
        _ => "?",
    };

    private Value Block(BlockCallExpr call, Dictionary<string, Value> env)
    {
        if (!_blocks.TryGetValue(call.Block, out var block))
        {
            Report(Descriptors.UnknownLayer, call.Location, call.Source, _source.ClassName);
            return ErrorValue.Instance;
        }
        if (_active.Any(a => a.Id == block.Id))
        {
            Report(Descriptors.BlockRecursion, call.Location, block.Name, string.Join(" -> ", _active.Reverse().Select(a => a.Name).Concat(new[] { block.Name })));
            return ErrorValue.Instance;
        }
        if (_active.Count >= MaxDepth)
        {
            Report(Descriptors.BlockRecursion, call.Location, block.Name, $"more than {MaxDepth} nested blocks");
            return ErrorValue.Instance;
        }

        var byName = call.Args.ToDictionary(a => a.Parameter);
        foreach (var parameter in block.Parameters)
        {
            // A shared block's defaults come from its own reading (the network's reading of the call may be older).
            if (parameter.Default is { } fallback && byName.TryGetValue(parameter.Name, out var given) && !given.Explicit)
            {
                byName[parameter.Name] = fallback with { Location = given.Location };
            }
        }
        bool bindable = block.Parameters.All(p => byName.ContainsKey(p.Name)) && call.Args.All(a => block.Parameters.Any(p => p.Name == a.Parameter));
        if (!bindable || block.Parameters.Any(p => p.Type == ParamType.Unsupported))
        {
            string expected = string.Join(", ", block.Parameters.Select(p => p.TypeName + " " + p.Name));
            string received = string.Join(", ", call.Args.Select(a => a.Explicit ? (a.Text ?? a.Display) : a.Display));
            Report(Descriptors.BlockArguments, call.Location, block.Name, expected, received);
            return ErrorValue.Instance;
        }

        var inner = new Dictionary<string, Value>();
        foreach (var parameter in block.Parameters)
        {
            var arg = byName[parameter.Name];
            Value value;
            if (parameter.Type is ParamType.Net or ParamType.Layer)
            {
                value = arg.Expression is null ? ErrorValue.Instance : Evaluate(arg.Expression, env);
                if (value is ErrorValue)
                {
                    return value;
                }
                if (parameter.Type == ParamType.Net != value is NetValue)
                {
                    Report(Descriptors.BlockArguments, arg.Location, block.Name,
                        string.Join(", ", block.Parameters.Select(p => p.TypeName + " " + p.Name)),
                        string.Join(", ", call.Args.Select(a => a.Text ?? a.Display)));
                    return ErrorValue.Instance;
                }
            }
            else
            {
                var resolved = Resolve(arg, env);
                if (resolved is null)
                {
                    Report(Descriptors.NotConstant, arg.Location, call.Source, parameter.Name, arg.Text ?? "");
                    return ErrorValue.Instance;
                }
                value = new ConstValue(resolved);
            }
            inner[parameter.Name] = value;
        }

        var saved = _callSites;
        string savedBlock = _block;
        _callSites = _callSites.Insert(0, call.Location);
        string label = block.Name + "(" + string.Join(", ", block.Parameters.Select(p => inner[p.Name] is ConstValue c ? c.Arg.Display : byName[p.Name].Text ?? p.Name)) + ")";
        _block = savedBlock.Length == 0 ? label : savedBlock + " > " + label;
        _active.Push((block.Id, block.Name));
        var result = EvaluateBody(block, inner);
        _active.Pop();
        _callSites = saved;
        _block = savedBlock;
        return result;
    }

    private Value Apply(LayerValue layer, NetValue net)
    {
        int current = net.Node;
        foreach (var step in layer.Steps)
        {
            int before = _diagnostics.Count;
            int next = step.Kind switch
            {
                StepKind.Residual => ApplyResidual(step, current),
                StepKind.Concat => ApplyConcat(step, current),
                _ => ApplyLayer(step, current),
            };
            NoteIteration(before, step.Loop);
            if (next < 0)
            {
                return ErrorValue.Instance;
            }
            current = next;
        }
        return new NetValue(current);
    }

    private int ApplyLayer(LayerStep step, int current)
    {
        if (step.Call.Layer == "Identity")
        {
            // No node: the value itself flows on (a Concat branch that keeps its input adds no copy).
            return current;
        }
        var source = _nodes[current];
        var op = OpTable.ForCall(step.Call.Layer) ?? throw new System.InvalidOperationException($"no op for the call {step.Call.Layer}");
        if (op is not SelectOp && !SingleValue(current, step.Call.Location, step.CallSites))
        {
            return -1;
        }
        if (op.TakesTokens)
        {
            if (!InputOp.IsTyped(source) || source.Attr(InputOp.DTypeAttr) != InputOp.Int64)
            {
                _diagnostics.Add(DiagnosticInfo.Create(Descriptors.TokensExpected, step.Call.Location, new EquatableArray<LocationInfo>(step.CallSites),
                    step.Call.Source, ShapeText.Of(source), InputOp.DTypeText(source), Provenance(current)));
                return -1;
            }
        }
        else if (!Untyped(current, step.Call.Source, step.Call.Location, step.CallSites))
        {
            return -1;
        }
        // A pipe's Net arguments follow the piped value; a value function's are all its inputs, the first being input 0.
        var inputs = step.Call.ReturnsNet ? step.Nets.Select(b => b.Node).ToImmutableArray() : step.Nets.Select(b => b.Node).ToImmutableArray().Insert(0, current);
        foreach (int input in inputs)
        {
            if (_nodes[input].IsSymbolic && !op.TakesSymbols)
            {
                _diagnostics.Add(DiagnosticInfo.Create(Descriptors.SymbolicShape, step.Call.Location, new EquatableArray<LocationInfo>(step.CallSites),
                    step.Call.Source, ShapeText.Of(_nodes[input]), Provenance(input), string.Join(", ", _nodes[input].Dims.SelectMany(d => d.Symbols).Distinct())));
                return -1;
            }
        }
        LayerOutcome outcome;
        try
        {
            var input = new LayerInput(step.Call.Layer, step.Call.Source, new LayerArgs(step.Args), source.Shape.Items, Provenance(current), ChunkOp.OutputCount(source))
            {
                Dims = source.IsSymbolic ? source.Symbolic.Items : default,
                Nets = step.Nets.Select(b => new NetArg(b.Parameter, _nodes[b.Node].Dims.Items, DTypeOf(_nodes[b.Node]), Provenance(b.Node))).ToImmutableArray(),
                Producer = source,
                Recurrent = source.Op == LastOp.Name ? _nodes[source.Inputs[0]] : source,
            };
            outcome = op.Infer(input);
        }
        catch (System.OverflowException)
        {
            _diagnostics.Add(DiagnosticInfo.Create(Descriptors.ShapeOverflow, step.Call.Location, new EquatableArray<LocationInfo>(step.CallSites),
                step.Call.Source, "its shape arithmetic on " + ShapeText.Of(source)));
            return -1;
        }
        if (outcome.Error is not null)
        {
            _diagnostics.Add(DiagnosticInfo.Create(outcome.Error, step.Call.Location, new EquatableArray<LocationInfo>(step.CallSites), outcome.ErrorArgs));
            return -1;
        }
        if (outcome.Op != op.Key)
        {
            throw new System.InvalidOperationException($"the rule of {op.Key} produced op {outcome.Op}");
        }
        bool symbolicIn = inputs.Any(i => _nodes[i].IsSymbolic);
        if (symbolicIn != !outcome.Dims.IsDefault
            || !outcome.Dims.IsDefault && (outcome.Dims.Length != outcome.Shape.Length
                || outcome.Dims.Where((d, k) => d.IsConstant && d.Constant != outcome.Shape[k] || !d.IsConstant && outcome.Shape[k] != 1).Any()))
        {
            throw new System.InvalidOperationException($"the rule of {op.Key} returned dims that do not match its input's symbols or its shape");
        }
        foreach (var (binding, k) in step.Nets.Select((b, k) => (b, k)))
        {
            // Emission finds each Net argument's input by its parameter's name.
            outcome.With(GraphNode.NetAttr(binding.Parameter), step.Call.ReturnsNet ? k : k + 1);
        }
        var symbolic = !outcome.Dims.IsDefault && outcome.Dims.Any(d => !d.IsConstant) ? EquatableArray.From(outcome.Dims) : default;
        string? tooLarge = !FitsTensor(outcome.Shape, out string why) ? "the output " + why
            : outcome.Params.Where(p => !FitsTensor(p.Shape, out _)).Select(p => $"parameter {p.Suffix} [{string.Join(",", p.Shape)}]").FirstOrDefault();
        if (tooLarge is not null || outcome.Flops < 0)
        {
            _diagnostics.Add(DiagnosticInfo.Create(Descriptors.ShapeOverflow, step.Call.Location, new EquatableArray<LocationInfo>(step.CallSites),
                step.Call.Source, tooLarge ?? "its FLOP count"));
            return -1;
        }

        string name = "";
        var parameters = EquatableArray<ParamSpec>.Empty;
        if (outcome.NamePrefix is not null)
        {
            if (_instances.TryGetValue(step.Instance, out var shared))
            {
                (name, parameters) = shared;
            }
            else
            {
                name = LayerName(step, outcome.NamePrefix);
                if (name.Length == 0)
                {
                    return -1;
                }
                parameters = EquatableArray.From(outcome.Params.Select(p => new ParamSpec(name + "." + p.Suffix, EquatableArray.From(p.Shape.Select(d => (int)d)), p.Init, checked((int)p.FanIn))));
                _instances[step.Instance] = (name, parameters);
            }
        }
        if (step.Frozen && parameters.Count > 0)
        {
            // Frozen(...): the constructor starts these parameters with RequiresGrad = false.
            outcome.With(FrozenAttr, true);
        }
        return AddNode(outcome.Op, inputs, outcome.Shape.Select(d => (int)d), Label(step), name,
            parameters, EquatableArray.From(outcome.Attrs), outcome.Flops, step.Call.Location, step.Block, symbolic);
    }

    /// <summary><c>Residual(body, projection)</c>: body(x) + (projection(x) or x), the shapes checked to agree.</summary>
    private int ApplyResidual(LayerStep step, int x)
    {
        if (Apply(step.Bodies[0], new NetValue(x)) is not NetValue body)
        {
            return -1;
        }
        int shortcut = x;
        if (step.Bodies.Length > 1)
        {
            if (Apply(step.Bodies[1], new NetValue(x)) is not NetValue projected)
            {
                return -1;
            }
            shortcut = projected.Node;
        }
        if (!SingleValue(body.Node, step.Call.Location, step.CallSites) || !SingleValue(shortcut, step.Call.Location, step.CallSites))
        {
            return -1;
        }
        var bodyShape = _nodes[body.Node].Shape;
        if (!_nodes[body.Node].Dims.Equals(_nodes[shortcut].Dims))
        {
            string suggestion = step.Bodies.Length > 1
                ? "make the projection produce " + ShapeText.Of(_nodes[body.Node])
                : "add a projection, for example Residual(body, projection: " + Projection(_nodes[x].Shape, bodyShape) + ")";
            _diagnostics.Add(DiagnosticInfo.Create(Descriptors.ResidualShape, step.Call.Location, new EquatableArray<LocationInfo>(step.CallSites),
                "Residual", ShapeText.Of(_nodes[x]), ShapeText.Of(_nodes[body.Node]), ShapeText.Of(_nodes[shortcut]), suggestion));
            return -1;
        }
        return AddNode(AddOp.Name, ImmutableArray.Create(body.Node, shortcut), bodyShape, step.Bodies.Length > 1 ? "Residual (projected shortcut)" : "Residual", "",
            EquatableArray<ParamSpec>.Empty, EquatableArray<Attr>.Empty, _nodes[body.Node].Elements, step.Call.Location, step.Block, _nodes[body.Node].Symbolic);
    }

    /// <summary>A projection that would map <paramref name="from"/> to <paramref name="to"/>: a strided 1x1 convolution or a Linear.</summary>
    private static string Projection(EquatableArray<int> from, EquatableArray<int> to)
    {
        if (from.Count == 3 && to.Count == 3)
        {
            int stride = to[1] > 0 && from[1] % to[1] == 0 ? from[1] / to[1] : 1;
            return $"Conv2d({to[0]}, kernel: 1" + (stride > 1 ? $", stride: {stride}" : "") + ")";
        }
        return $"Linear({to[to.Count - 1]})";
    }

    /// <summary><c>Concat(branches...)</c>: every branch on the same input, joined along channels.</summary>
    private int ApplyConcat(LayerStep step, int x)
    {
        var outputs = ImmutableArray.CreateBuilder<int>();
        foreach (var branch in step.Bodies)
        {
            if (Apply(branch, new NetValue(x)) is not NetValue y)
            {
                return -1;
            }
            if (!SingleValue(y.Node, step.Call.Location, step.CallSites))
            {
                return -1;
            }
            outputs.Add(y.Node);
        }
        foreach (int o in outputs)
        {
            if (!Untyped(o, "Concat", step.Call.Location, step.CallSites))
            {
                return -1;
            }
            if (_nodes[o].IsSymbolic)
            {
                _diagnostics.Add(DiagnosticInfo.Create(Descriptors.SymbolicShape, step.Call.Location, new EquatableArray<LocationInfo>(step.CallSites),
                    "Concat", ShapeText.Of(_nodes[o]), Provenance(o), string.Join(", ", _nodes[o].Dims.SelectMany(d => d.Symbols).Distinct())));
                return -1;
            }
        }
        var shapes = outputs.Select(o => _nodes[o].Shape).ToList();
        var first = shapes[0];
        bool agree = shapes.All(s => s.Count == first.Count && s.Count >= 1 && s.Items.Skip(1).SequenceEqual(first.Items.Skip(1)));
        if (!agree)
        {
            _diagnostics.Add(DiagnosticInfo.Create(Descriptors.ConcatMismatch, step.Call.Location, new EquatableArray<LocationInfo>(step.CallSites),
                "Concat", string.Join(", ", outputs.Select(o => ShapeText.Of(_nodes[o]) + " from " + Provenance(o)))));
            return -1;
        }
        long channels = shapes.Sum(s => (long)s[0]);
        var shape = first.Items.Select(d => (long)d).ToImmutableArray().SetItem(0, channels);
        if (!FitsTensor(shape, out string overflow))
        {
            _diagnostics.Add(DiagnosticInfo.Create(Descriptors.ShapeOverflow, step.Call.Location, new EquatableArray<LocationInfo>(step.CallSites),
                "Concat", "the joined output " + overflow));
            return -1;
        }
        return AddNode(ConcatOp.Name, outputs.ToImmutable(), shape.Select(d => (int)d), $"Concat({outputs.Count} branches)", "",
            EquatableArray<ParamSpec>.Empty, EquatableArray<Attr>.Empty, 0, step.Call.Location, step.Block);
    }

    /// <summary>The layer's name: its <c>name:</c> argument, or the next default (fc1, fc2...); "" after reporting a clash.</summary>
    private string LayerName(LayerStep step, string prefix)
    {
        string? given = new LayerArgs(step.Args).String("name");
        string name;
        if (given is not null)
        {
            name = given.Length == 0 ? "" : step.Scope + given;
        }
        else
        {
            // Inside Named("trunk", ...) the layers are numbered within the block: trunk.conv1, trunk.conv2, ...
            do
            {
                _nameCounters.TryGetValue(step.Scope + prefix, out int n);
                _nameCounters[step.Scope + prefix] = ++n;
                name = step.Scope + prefix + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            while (_namesInUse.ContainsKey(name));
        }
        if (name.Length == 0)
        {
            _diagnostics.Add(DiagnosticInfo.Create(Descriptors.EmptyName, step.Call.Location, new EquatableArray<LocationInfo>(step.CallSites), step.Call.Source));
            return "";
        }
        if (_namesInUse.ContainsKey(name))
        {
            string previous = _namesInUse[name];
            _diagnostics.Add(DiagnosticInfo.Create(Descriptors.DuplicateName, step.Call.Location, new EquatableArray<LocationInfo>(step.CallSites), name, previous));
            return "";
        }
        _namesInUse[name] = step.Call.Source;
        return name;
    }

    /// <summary>
    /// The layer as comments and the summary show it: the source text, or, when block parameters fed it,
    /// the call with their values substituted (<c>Linear(width)</c> inside a block reads <c>Linear(256)</c>).
    /// </summary>
    private static string Label(LayerStep step)
    {
        if (!step.Call.Args.Any(a => a.Kind is ArgKind.ParameterRef or ArgKind.Arithmetic || (a.Kind == ArgKind.DimArray && a.Expressions.Count > 0)))
        {
            return step.Call.Source;
        }
        var resolved = step.Args.ToDictionary(a => a.Parameter);
        // A value function's Net arguments show as written; a params array (View's sizes) shows when given.
        var shown = step.Call.Args
            .Where(a => (a.Explicit || a.Kind is ArgKind.DimArray or ArgKind.IntArray && a.Ints.Count > 0)
                && (resolved.ContainsKey(a.Parameter) || a.Kind == ArgKind.Expression && a.Text is not null))
            .Select(a => (step.Call.Source.Contains(a.Parameter + ":") ? a.Parameter + ": " : "")
                + (a.Kind == ArgKind.Expression ? a.Text : resolved[a.Parameter].Display));
        return step.Call.Layer + "(" + string.Join(", ", shown) + ")";
    }

    /// <summary>True when node <paramref name="node"/> is one value; otherwise reports that a part must be selected.</summary>
    private bool SingleValue(int node, LocationInfo location, ImmutableArray<LocationInfo> callSites)
    {
        int outputs = ChunkOp.OutputCount(_nodes[node]);
        if (outputs == 1)
        {
            return true;
        }
        _diagnostics.Add(DiagnosticInfo.Create(Descriptors.SeveralValues, location, new EquatableArray<LocationInfo>(callSites),
            Provenance(node), Count(outputs)));
        return false;
    }

    private static string Count(int outputs) => outputs.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private int AddNode(string op, ImmutableArray<int> inputs, IEnumerable<int> shape, string label, string name,
        EquatableArray<ParamSpec> parameters, EquatableArray<Attr> attrs, long flops, LocationInfo location, string block = "",
        EquatableArray<Dim> symbolic = default)
    {
        int id = _nodes.Count;
        _nodes.Add(new GraphNode(id, op, new EquatableArray<int>(inputs), EquatableArray.From(shape), label, name, parameters, attrs, flops, location, block, symbolic));
        return id;
    }

    /// <summary>True unless <paramref name="node"/> is a token or mask input, which no layer takes yet (DSL1014 at the consumer).</summary>
    private bool Untyped(int node, string consumer, LocationInfo location, ImmutableArray<LocationInfo> callSites)
    {
        if (!InputOp.IsTyped(_nodes[node]))
        {
            return true;
        }
        _diagnostics.Add(DiagnosticInfo.Create(Descriptors.TypedInputUse, location, new EquatableArray<LocationInfo>(callSites),
            consumer, _nodes[node].Label, InputOp.DTypeText(_nodes[node])));
        return false;
    }

    /// <summary>The element type of a value as shape rules see it (<see cref="NetArg.DType"/>).</summary>
    private static string DTypeOf(GraphNode node) => InputOp.IsTyped(node) ? node.Attr(InputOp.DTypeAttr) : NetArg.Float32;

    /// <summary>
    /// True when a tensor of this per-sample shape can exist: every dimension positive and at most int.MaxValue, and so
    /// is their product. Otherwise <paramref name="why"/> says what overflows.
    /// </summary>
    private static bool FitsTensor(IEnumerable<long> shape, out string why)
    {
        var dims = shape.ToList();
        string text = "[" + string.Join(",", dims) + "]";
        if (dims.Any(d => d <= 0 || d > int.MaxValue))
        {
            why = $"shape {text} has a size outside 1..2,147,483,647";
            return false;
        }
        long elements = 1;
        foreach (long d in dims)
        {
            elements *= d;
            if (elements > int.MaxValue)
            {
                why = $"shape {text} with more than 2,147,483,647 elements";
                return false;
            }
        }
        why = "";
        return true;
    }

    /// <summary>Where a value came from, for messages: <c>Flatten of [N,20,4,4]</c>, or <c>Input(784)</c>.</summary>
    private string Provenance(int node)
    {
        var n = _nodes[node];
        if (n.Op == InputOp.Name)
        {
            return n.Label;
        }
        string inputs = string.Join(" and ", n.Inputs.Select(i => ShapeText.Of(_nodes[i])));
        return $"{n.Label} of {inputs}";
    }

    private void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, LocationInfo location, params string[] args)
        => _diagnostics.Add(DiagnosticInfo.Create(descriptor, location, new EquatableArray<LocationInfo>(_callSites), args));
}
