using System.Linq;
using Dsl.Generator.Ops;

namespace Dsl.Generator.Emit;

/// <summary>
/// Emits <c>Backward</c>: the layers in reverse, each op turning its output gradient into its inputs' gradients and
/// adding to its parameters' gradients. A value with several consumers receives its first contribution by
/// assignment and the others by accumulation. Values and gradients are fetched where first used. Gradients that
/// only lead to the input are computed when <c>ComputeInputGradient</c> is set.
/// </summary>
internal static class Backward
{
    public static void Write(CodeWriter w, Plan plan)
    {
        var model = plan.Model;
        var outputs = plan.Outputs;
        if (!model.SeveralOutputs)
        {
            w.Line("/// <summary>");
            w.Line("/// Back-propagates d loss / d output of the last <see cref=\"Forward\"/> and adds every parameter's gradient to its <c>Grad</c>.");
            w.Line("/// </summary>");
        }
        else
        {
            string call = $"Backward({string.Join(", ", outputs.Select((_, k) => plan.OutputGradient(k)))})";
            w.Line($"/// <summary>Not available: {model.ClassName} returns {outputs.Count} outputs; call <c>{call}</c>.</summary>");
            w.Line($"public override void Backward(global::Dsl.Tensor gradOutput) => throw new global::System.InvalidOperationException({Names.Literal($"{model.ClassName} returns {outputs.Count} outputs: call {call}, one gradient per output (null for an unused one).")});");
            w.Line();
            w.Line("/// <summary>");
            w.Line("/// Back-propagates d loss / d output for each output of the last <see cref=\"ForwardAll\"/> (null for an output the loss does not use)");
            w.Line("/// and adds every parameter's gradient to its <c>Grad</c>.");
            w.Line("/// </summary>");
        }
        string signature = model.SeveralOutputs
            ? "public void Backward(" + string.Join(", ", outputs.Select((_, k) => "global::Dsl.Tensor? " + plan.OutputGradient(k))) + ")"
            : "public override void Backward(global::Dsl.Tensor gradOutput)";
        using (w.Block(signature))
        {
            w.Line($"var output = _output ?? throw new global::System.InvalidOperationException({Names.Literal(model.ClassName + ".Backward needs a Forward first.")});");
            if (model.SeveralOutputs)
            {
                for (int k = 0; k < outputs.Count; k++)
                {
                    w.Line($"if ({plan.OutputGradient(k)} is not null) CheckGradient({plan.OutputGradient(k)}, _output{Names.Int(k)}!);");
                }
                w.Line("BeginBackward();");
            }
            else
            {
                w.Line("BeginBackward(gradOutput, output);");
            }
            w.Line("int n = output.Size(0);");
            foreach (string symbol in plan.Symbols)
            {
                w.Line($"int {Shapes.Dim.Local(symbol)} = {Names.Field(Shapes.Dim.Local(symbol))};");
            }
            w.Line("// An evaluation forward, or an earlier Backward, reused the memory of values this one reads: run the forward again,");
            w.Line("// keeping them (the same results in the same output buffer).");
            w.Line("if (!_keptForBackward) RunForward(n, keep: true, replay: true);");
            w.Line("var device = Device;");
            w.Line("bool inputGradient = ComputeInputGradient;");
            var context = new BackwardContext(w, plan);
            if (model.SeveralOutputs)
            {
                // Each output's gradient starts as the caller's; an output that also feeds other layers then accumulates theirs.
                w.Line();
                for (int k = 0; k < outputs.Count; k++)
                {
                    if (outputs.Take(k).Any(o => o.Id == outputs[k].Id))
                    {
                        context.Line($"AddGradient({plan.OutputGradient(k)}, {context.Grad(outputs[k].Id)});");
                    }
                    else
                    {
                        context.Seed(outputs[k].Id, plan.OutputGradient(k));
                    }
                }
            }
            foreach (var node in plan.LiveNodes.Reverse().Where(n => n.Op != InputOp.Name))
            {
                w.Line();
                NetworkEmitter.Comments(w, plan, node);
                context.Current = node;
                OpTable.Of(node).Backward(context, node);
            }
            context.Current = null;
            w.Line();
            context.Line("_keptForBackward = false; // gradients took over the memory of values once read");
            var inputs = plan.Inputs;
            for (int i = 0; i < inputs.Count; i++)
            {
                // A network that is its input (Input(6) alone): the input's gradient is the output's.
                string gradient = plan.IsOutput(inputs[i].Id) ? "inputGradient ? gradOutput : null"
                    : plan.Live[inputs[i].Id] && !InputOp.IsTyped(inputs[i]) ? context.Grad(inputs[i].Id)
                    : "null";
                context.Line(inputs.Count == 1 ? $"InputGradient = {gradient};" : $"SetInputGradient({i}, {gradient});");
            }
        }
    }
}
