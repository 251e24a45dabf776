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
        w.Line("/// <summary>");
        w.Line("/// Back-propagates d loss / d output of the last <see cref=\"Forward\"/> and adds every parameter's gradient to its <c>Grad</c>.");
        w.Line("/// </summary>");
        using (w.Block("public override void Backward(global::Dsl.Tensor gradOutput)"))
        {
            w.Line($"var output = _output ?? throw new global::System.InvalidOperationException({Names.Literal(model.ClassName + ".Backward needs a Forward first.")});");
            w.Line("BeginBackward(gradOutput, output);");
            w.Line("int n = output.Size(0);");
            w.Line("// An evaluation forward, or an earlier Backward, reused the memory of values this one reads: run the forward again,");
            w.Line("// keeping them (the same results in the same output buffer).");
            w.Line("if (!_keptForBackward) RunForward(n, keep: true, replay: true);");
            w.Line("var device = Device;");
            w.Line("bool inputGradient = ComputeInputGradient;");
            var context = new BackwardContext(w, plan);
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
                string gradient = inputs[i].Id == model.Output ? "inputGradient ? gradOutput : null"
                    : plan.Live[inputs[i].Id] ? context.Grad(inputs[i].Id)
                    : "null";
                context.Line(inputs.Count == 1 ? $"InputGradient = {gradient};" : $"SetInputGradient({i}, {gradient});");
            }
        }
    }
}
