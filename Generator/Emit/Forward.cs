using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Model;
using Dsl.Generator.Ops;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Emit;

/// <summary>Emits <c>Forward</c>: one statement per layer, in definition order, each under its shape comment, written by its op.</summary>
internal static class Forward
{
    /// <summary>The members <see cref="Write"/> declares besides Forward and RunForward (the layer table for probes), for the clash check.</summary>
    public static readonly string[] Members = { "LayerTable", "s_layerTable", "FusedLayers", "s_fusedLayers", "ForwardPart", "_forwardPart" };

    public static void Write(CodeWriter w, Plan plan)
    {
        var model = plan.Model;
        var inputs = plan.Inputs;
        string parameters = string.Join(", ", inputs.Select(i => "global::Dsl.Tensor " + InputOp.Parameter(i)));
        if (model.SeveralOutputs)
        {
            string call = $"ForwardAll({string.Join(", ", inputs.Select(InputOp.Parameter))})";
            w.Line($"/// <summary>Not available: {model.ClassName} returns {plan.Outputs.Count} outputs; call <c>{call}</c>.</summary>");
            w.Line($"public override global::Dsl.Tensor Forward(global::Dsl.Tensor input) => throw new global::System.InvalidOperationException({Names.Literal($"{model.ClassName} returns {plan.Outputs.Count} outputs: call {call}.")});");
            w.Line();
        }
        else if (inputs.Count > 1)
        {
            string call = $"Forward({string.Join(", ", inputs.Select(InputOp.Parameter))})";
            w.Line($"/// <summary>Not available: {model.ClassName} takes {inputs.Count} inputs; call <c>{call}</c>.</summary>");
            w.Line($"public override global::Dsl.Tensor Forward(global::Dsl.Tensor input) => throw new global::System.InvalidOperationException({Names.Literal($"{model.ClassName} takes {inputs.Count} inputs: call {call}.")});");
            w.Line();
        }
        LayerTable(w, plan);
        w.Line("/// <summary>");
        w.Line($"/// Runs {model.ClassName} on a batch {string.Join(", ", inputs.Select(i => (inputs.Count > 1 ? InputOp.Parameter(i) + " " : "") + ShapeText.Of(i)))}; "
            + $"returns {Returns(plan)} in {(model.SeveralOutputs ? "buffers" : "a buffer")} the next call reuses.");
        w.Line("/// In evaluation mode (without <c>ComputeInputGradient</c>) values share memory as soon as they are consumed; a <c>Backward</c>");
        w.Line("/// after such a forward runs it again first.");
        w.Line("/// </summary>");
        string header = model.SeveralOutputs
            ? $"public ({string.Join(", ", plan.Outputs.Select((_, k) => "global::Dsl.Tensor " + plan.OutputName(k)))}) ForwardAll({parameters})"
            : $"public {(inputs.Count == 1 ? "override " : "")}global::Dsl.Tensor Forward({parameters})";
        using (w.Block(header))
        {
            string first = InputOp.Parameter(inputs[0]);
            if (plan.Symbolic)
            {
                Bind(w, plan);
            }
            else if (inputs.Count == 1)
            {
                w.Line($"int n = BeginForward({first}, {InputOp.ShapeField(plan, inputs[0])});");
            }
            else
            {
                // N is bound from the first input; every other input must agree.
                w.Line($"int n = BeginForward({first}, {Names.Literal(first)}, {InputOp.ShapeField(plan, inputs[0])});");
                foreach (var input in inputs.Skip(1))
                {
                    w.Line($"CheckInput({InputOp.Parameter(input)}, {Names.Literal(InputOp.Parameter(input))}, {InputOp.ShapeField(plan, input)}, n, {Names.Literal(first)});");
                }
            }
            foreach (string symbol in plan.Symbols)
            {
                w.Line($"{Names.Field(Dim.Local(symbol))} = {Dim.Local(symbol)};");
            }
            w.Line("_trainingForward = IsTraining;");
            foreach (var input in inputs)
            {
                w.Line($"{InputOp.Field(plan, input)} = {InputOp.Parameter(input)};");
            }
            // Evaluation mode frees values once consumed, unless the input's gradient is wanted (a Backward is coming).
            if (model.SeveralOutputs)
            {
                w.Line("RunForward(n, keep: _trainingForward || ComputeInputGradient, replay: false);");
                w.Line($"return ({string.Join(", ", plan.Outputs.Select((_, k) => $"Publish(_output{Names.Int(k)}!)"))});");
            }
            else if (plan.SplitsEvaluation)
            {
                w.Line("bool keep = _trainingForward || ComputeInputGradient;");
                using (w.Block("if (!keep && SplitsEvaluation(n, out int parts))"))
                {
                    w.Line("// Each sample is computed on its own: each thread runs every layer on a part of the batch (ForwardPart).");
                    w.Line($"return Publish(_output = RunEvaluationParts(n, parts, {Plan.PartsOutputField}, _forwardPart ??= ForwardPart));");
                }
                w.Line("return Publish(RunForward(n, keep, replay: false));");
            }
            else
            {
                w.Line("return Publish(RunForward(n, keep: _trainingForward || ComputeInputGradient, replay: false));");
            }
        }
        w.Line();
        if (plan.SplitsEvaluation)
        {
            w.Line("private global::System.Func<int, int, int, global::Dsl.Tensor>? _forwardPart;");
            w.Line();
            w.Line("/// <summary>An evaluation forward of samples [start, start + count) of the last <c>Forward</c>'s input, in row part <paramref name=\"part\"/>'s own memory.</summary>");
            using (w.Block("private global::Dsl.Tensor ForwardPart(int part, int start, int count)"))
            {
                w.Line("return RunForward(count, keep: false, replay: false, part, start);");
            }
            w.Line();
        }
        w.Line("/// <summary>");
        w.Line("/// Runs the layers on the inputs of the last <c>Forward</c>. With <paramref name=\"keep\"/> the values live in the training");
        w.Line("/// plan's slots, which keep what <c>Backward</c> reads; without it, in the evaluation plan's, which reuse a value's memory");
        w.Line("/// once it is consumed (see the slot of each value beside its field). <paramref name=\"replay\"/> runs the last forward again");
        w.Line("/// for <c>Backward</c>, with the same dropout masks and without updating batch norm's running statistics a second time.");
        if (plan.SplitsEvaluation)
        {
            w.Line("/// An evaluation forward run as row parts computes samples [<paramref name=\"start\"/>, start + n) of the input in the");
            w.Line("/// buffers of row part <paramref name=\"part\"/> (0 for every forward that is not split).");
        }
        w.Line("/// </summary>");
        using (w.Block(plan.SplitsEvaluation ? "private global::Dsl.Tensor RunForward(int n, bool keep, bool replay, int part = 0, int start = 0)" : "private global::Dsl.Tensor RunForward(int n, bool keep, bool replay)"))
        {
            w.Line("var device = Device;");
            foreach (string symbol in plan.Symbols)
            {
                w.Line($"int {Dim.Local(symbol)} = {Names.Field(Dim.Local(symbol))};");
            }
            w.Line("_keptForBackward = keep;");
            w.Line("bool probing = Probing;");
            foreach (var input in inputs.Where(i => plan.Live[i.Id]))
            {
                w.Line(plan.SplitsEvaluation
                    ? $"var {Names.Value(input)} = InputRows({InputOp.Field(plan, input)}!, part, start, n);"
                    : $"var {Names.Value(input)} = {InputOp.Field(plan, input)}!;");
            }
            var context = new ForwardContext(w, plan);
            foreach (var node in plan.LiveNodes.Where(n => n.Op != InputOp.Name))
            {
                w.Line();
                NetworkEmitter.Comments(w, plan, node);
                OpTable.Of(node).Forward(context, node);
                if (Probed(plan, node))
                {
                    // The layer's value where its op named it: a probe copies it before a later layer may reuse the memory.
                    w.Line($"if (probing) CaptureLayer({Names.Int(node.Id)}, {Names.Value(node)});");
                }
            }
            w.Line();
            if (plan.SplitsEvaluation)
            {
                w.Line("// Parts after the first of a split evaluation leave the output to RunEvaluationParts, which sets the whole batch's.");
            }
            w.Line((plan.SplitsEvaluation ? "if (part == 0) " : "") + $"_output = {Names.Value(plan.Output)};");
            if (model.SeveralOutputs)
            {
                var outputs = plan.Outputs;
                for (int k = 0; k < outputs.Count; k++)
                {
                    w.Line($"_output{Names.Int(k)} = {Names.Value(outputs[k])};");
                }
            }
            w.Line($"return {Names.Value(plan.Output)};");
        }
    }

    /// <summary>
    /// The layers <c>Module.Probe</c> can read, by number and name (<c>Module.ProbeNames</c>): every layer with a value of
    /// its own, named as in the summary, or by its number when it has no name. A layer whose own output a fused kernel
    /// never stores (<see cref="Fusion"/>) is listed apart, with the reason, so a probe of it is refused rather than fed
    /// the fused step's value.
    /// </summary>
    private static void LayerTable(CodeWriter w, Plan plan)
    {
        var layers = plan.LiveNodes.Where(n => Probed(plan, n)).Select(n => $"({Names.Int(n.Id)}, {Names.Literal(Name(n))})");
        w.Line("/// <summary>The layers by number and name, for <c>Probe</c>.</summary>");
        w.Line($"protected override global::System.Collections.Generic.IReadOnlyList<(int Id, string Name)> LayerTable => s_layerTable;");
        w.Line($"private static readonly (int Id, string Name)[] s_layerTable = {{ {string.Join(", ", layers)} }};");
        var fused = plan.LiveNodes.Where(n => ProbedOp(n) && FusedAway(plan, n) is not null)
            .Select(n => $"({Names.Int(n.Id)}, {Names.Literal(Name(n))}, {Names.Literal(FusedAway(plan, n)!)})").ToList();
        if (fused.Count > 0)
        {
            w.Line("/// <summary>The layers whose own output a fused kernel never stores, and why: <c>Probe</c> refuses them.</summary>");
            w.Line($"protected override global::System.Collections.Generic.IReadOnlyList<(int Id, string Name, string Why)> FusedLayers => s_fusedLayers;");
            w.Line($"private static readonly (int Id, string Name, string Why)[] s_fusedLayers = {{ {string.Join(", ", fused)} }};");
        }
        w.Line();
    }

    private static string Name(GraphNode n) => n.Name.Length > 0 ? n.Name : Names.Int(n.Id);

    /// <summary>Whether the node's value is one tensor a probe can copy: not an input, not <c>Chunk</c>'s parts (which <c>Select</c> picks), not fused away.</summary>
    private static bool Probed(Plan plan, GraphNode node) => ProbedOp(node) && FusedAway(plan, node) is null;

    private static bool ProbedOp(GraphNode node) => node.Op != InputOp.Name && node.Op != ChunkOp.Name;

    /// <summary>Why a fused kernel never stores <paramref name="node"/>'s own output, or null when it does.</summary>
    private static string? FusedAway(Plan plan, GraphNode node)
    {
        var fusion = plan.Fusion;
        if (fusion.ReluOf(node) is { } relu)
        {
            return $"its kernel also applies the ReLU [{relu.Id}] after it, so its value holds the ReLU's output";
        }
        if (fusion.IsFolded(node))
        {
            return "evaluation folds the batch norm after it into its weights and never stores the convolution alone";
        }
        if (fusion.ResidualSumOf(node) is { } sum)
        {
            return $"the sum [{sum.Id}] after it computes it and adds the shortcut (in training the batch norm as it normalises, in evaluation its folded convolution as it stores), so it is never stored alone";
        }
        return null;
    }

    /// <summary><c>[N,3]</c>, or <c>(logits [N,3], state [N,4])</c> for several outputs.</summary>
    public static string Returns(Plan plan)
        => plan.Model.SeveralOutputs
            ? "(" + string.Join(", ", plan.Outputs.Select((o, k) => plan.OutputName(k) + " " + ShapeText.Of(o))) + ")"
            : ShapeText.Of(plan.Output);

    /// <summary>
    /// Checks the inputs of a network with symbols or typed inputs: each input's dtype and fixed sizes, N and every symbol
    /// bound from the first input that declares it (<c>int dimT = x.Size(1);</c>) and checked on every later one.
    /// </summary>
    private static void Bind(CodeWriter w, Plan plan)
    {
        var inputs = plan.Inputs;
        string first = InputOp.Parameter(inputs[0]);
        var bound = new Dictionary<string, string>();
        foreach (var input in inputs)
        {
            string name = InputOp.Parameter(input);
            string args = $"{name}, {Names.Literal(name)}, {InputOp.RuntimeDType(input)}, {InputOp.ShapeField(plan, input)}, {Names.Literal(ShapeText.Of(input))}";
            w.Line(input == inputs[0] ? $"int n = BeginForward({args});" : $"CheckInput({args}, n, {Names.Literal(first)});");
            for (int axis = 0; axis < input.Dims.Count; axis++)
            {
                var dim = input.Dims[axis];
                if (dim.IsConstant)
                {
                    continue;
                }
                string symbol = dim.Symbols.Single();
                if (bound.TryGetValue(symbol, out string? from))
                {
                    w.Line($"CheckSize({name}, {Names.Literal(name)}, {Names.Int(axis + 1)}, {Names.Literal(symbol)}, {Dim.Local(symbol)}, {Names.Literal(from)});");
                }
                else
                {
                    w.Line($"int {Dim.Local(symbol)} = {name}.Size({Names.Int(axis + 1)});");
                    bound[symbol] = name;
                }
            }
        }
    }
}
