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
            WriteFlows(w, plan);
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
                // A layer runs only when a trained parameter lies at or below it, or the input's gradient was asked for.
                var body = new CodeWriter();
                context.BeginBody(body);
                OpTable.Of(node).Backward(context, node);
                context.EndBody();
                string text = body.ToString();
                if (text.Split('\n').All(l => l.Length == 0 || l.StartsWith("//", System.StringComparison.Ordinal)))
                {
                    w.Lines(text); // a comment only (a gradient that is another's memory): nothing to skip
                }
                else
                {
                    using (w.Block($"if ({Names.Flow(node)})"))
                    {
                        w.Lines(text);
                    }
                }
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

    /// <summary>
    /// One <c>bool flow_...</c> per live value, in forward order: whether its gradient is needed in this call, that is,
    /// whether a parameter of its layer or of a layer below it is trained (<c>RequiresGrad</c>, read on every call so that
    /// <c>Freeze</c> takes effect at once) or, for an input, whether <c>ComputeInputGradient</c> is set.
    /// </summary>
    private static void WriteFlows(CodeWriter w, Plan plan)
    {
        w.Line("// Which gradients this call needs: frozen layers with nothing trained below them are skipped.");
        foreach (var node in plan.LiveNodes)
        {
            string flow;
            if (node.Op == InputOp.Name)
            {
                flow = InputOp.IsTyped(node) ? "false" : "inputGradient";
            }
            else
            {
                var terms = node.Params.Select(p => Names.Parameter(p.Name) + ".RequiresGrad").Distinct()
                    .Concat(node.Inputs.Distinct().Select(i => Names.Flow(plan.Nodes[i])))
                    .ToList();
                flow = terms.Count == 0 ? "false" : string.Join(" || ", terms);
            }
            w.Line($"bool {Names.Flow(node)} = {flow};");
        }
    }
}
