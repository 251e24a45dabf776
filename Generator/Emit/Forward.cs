using System.Linq;
using Dsl.Generator.Model;
using Dsl.Generator.Ops;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Emit;

/// <summary>Emits <c>Forward</c>: one statement per layer, in definition order, each under its shape comment, written by its op.</summary>
internal static class Forward
{
    public static void Write(CodeWriter w, Plan plan)
    {
        var model = plan.Model;
        w.Line("/// <summary>");
        w.Line($"/// Runs {model.ClassName} on a batch {ShapeText.Batch(plan.Input.Shape)}; returns {ShapeText.Batch(plan.Output.Shape)} in a buffer the next call reuses.");
        w.Line("/// </summary>");
        using (w.Block("public override global::Dsl.Tensor Forward(global::Dsl.Tensor input)"))
        {
            w.Line("int n = BeginForward(input, s_inputShape);");
            w.Line("var device = Device;");
            w.Line("_trainingForward = IsTraining;");
            w.Line("_input = input;");
            w.Line($"var {Names.Value(plan.Input)} = input;");
            var context = new ForwardContext(w, plan);
            foreach (var node in plan.LiveNodes.Where(n => n.Op != InputOp.Name))
            {
                w.Line();
                NetworkEmitter.Comments(w, plan, node);
                OpTable.Of(node).Forward(context, node);
            }
            w.Line();
            w.Line($"_output = {Names.Value(plan.Output)};");
            w.Line($"return {Names.Value(plan.Output)};");
        }
    }
}
