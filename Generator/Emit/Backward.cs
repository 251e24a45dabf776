using System.Collections.Generic;
using System.Linq;
using Dsl.Generator.Model;

namespace Dsl.Generator.Emit;

/// <summary>
/// Emits <c>Backward</c>: the layers in reverse, each turning its output gradient into its inputs' gradients and
/// adding to its parameters' gradients. A value with several consumers receives its first contribution by
/// assignment and the others by accumulation. Gradients that only lead to the input are computed when
/// <c>ComputeInputGradient</c> is set.
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
            w.Line($"var output = _output ?? throw new global::System.InvalidOperationException(\"{model.ClassName}.Backward needs a Forward first.\");");
            w.Line("BeginBackward(gradOutput, output);");
            w.Line("int n = output.Size(0);");
            w.Line("var device = Device;");
            w.Line("bool inputGradient = ComputeInputGradient;");
            w.Line($"var {Names.Value(plan.Input)} = _input!;");
            foreach (var node in plan.LiveNodes.Where(n => n.Op != "Input" && n.Id != model.Output))
            {
                w.Line(node.Op == "Flatten"
                    ? $"var {Names.Value(node)} = _{Names.Value(node)}.Current;"
                    : $"var {Names.Value(node)} = _{Names.Value(node)}.Rows(n);");
            }
            w.Line($"var {Names.Value(plan.Output)} = output;");
            w.Line($"var {Names.Grad(plan.Output)} = gradOutput;");
            foreach (var node in plan.LiveNodes.Where(n => plan.HasGradSlot(n)))
            {
                string slot = $"_{Names.Grad(node)}.Rows(n)";
                w.Line(Conditional(plan, node)
                    ? $"var {Names.Grad(node)} = inputGradient ? {slot} : null;"
                    : $"var {Names.Grad(node)} = {slot};");
            }

            var written = new HashSet<int>();
            foreach (var node in plan.LiveNodes.Reverse().Where(n => n.Op != "Input"))
            {
                w.Line();
                w.Line("// " + NetworkEmitter.Comment(plan, node));
                Statement(w, plan, node, written);
            }
            w.Line();
            w.Line($"InputGradient = {Names.Grad(plan.Input)};");
        }
    }

    /// <summary>True when a value's gradient is only needed for the input gradient (no parameter upstream).</summary>
    private static bool Conditional(Plan plan, GraphNode node) => !plan.NeedsGrad[node.Id];

    private static void Statement(CodeWriter w, Plan plan, GraphNode node, HashSet<int> written)
    {
        string dy = Names.Grad(node);
        string y = Names.Value(node);
        bool dyNullable = Conditional(plan, node) && node.Id != plan.Model.Output;

        if (node.Op is "Conv2d" or "BatchNorm2d")
        {
            var input = plan.Nodes[node.Inputs[0]];
            bool accumulate = !written.Add(input.Id);
            string dx = Names.Grad(input);
            if (node.Op == "Conv2d")
            {
                w.Line($"device.Conv2dBackward({Names.Value(input)}, {Forward.Value(node, "weight")}, {dy}, {dx}, {Forward.Grad(node, "weight")}, {Forward.Grad(node, "bias")}, {Geometry.Conv(plan, node)}, accumulateDx: {Bool(accumulate)});");
            }
            else
            {
                // Batch norm always computes dx; when nobody asked for it, it lands in a discard buffer.
                string target = Conditional(plan, input) ? $"{dx} ?? _discard{node.Id}.Rows(n)" : dx;
                w.Line($"device.BatchNormBackward({Names.Value(input)}, {Forward.Value(node, "weight")}, _{Names.SaveMean(node)}, _{Names.SaveInvStd(node)}, {dy}, {target}, "
                    + $"{Forward.Grad(node, "weight")}, {Forward.Grad(node, "bias")}, n, {node.Shape[0]}, {Geometry.Spatial(node.Shape)}, _trainingForward, accumulateDx: {Bool(accumulate)});");
            }
            return;
        }
        if (node.Op == "Concat")
        {
            int offset = 0;
            foreach (int inputId in node.Inputs)
            {
                var branch = plan.Nodes[inputId];
                bool accumulate = !written.Add(inputId);
                string statement = $"device.CopyChannels({dy}, {node.Shape[0]}, {offset}, {Names.Grad(branch)}, {branch.Shape[0]}, 0, {branch.Shape[0]}, n, {Geometry.Spatial(node.Shape)}, accumulate: {Bool(accumulate)});";
                w.Line(Conditional(plan, branch) ? $"if ({Names.Grad(branch)} is not null) {statement}" : statement);
                offset += branch.Shape[0];
            }
            return;
        }
        if (node.Op == "Linear")
        {
            // dx may be null (the input's gradient was not asked for): the kernel then skips that product.
            var input = plan.Nodes[node.Inputs[0]];
            bool accumulate = !written.Add(input.Id);
            w.Line($"device.LinearBackward({Names.Value(input)}, {Forward.Value(node, "weight")}, {dy}, {Names.Grad(input)}, {Forward.Grad(node, "weight")}, {Forward.Grad(node, "bias")}, accumulateDx: {Bool(accumulate)});");
            return;
        }
        foreach (int inputId in node.Inputs)
        {
            var input = plan.Nodes[inputId];
            bool accumulate = !written.Add(inputId);
            string dx = Names.Grad(input);
            string x = Names.Value(input);
            string statement = node.Op switch
            {
                "Activation" => $"device.ActivationBackward(global::Dsl.ActivationKind.{node.Attr("kind")}, {Names.FloatAttr(node, "alpha")}, {x}, {y}, {dy}, {dx}, accumulate: {Bool(accumulate)});",
                "Dropout" => $"device.DropoutBackward({dy}, _trainingForward ? _{Names.Mask(node)}.Rows(n) : null, {dx}, accumulate: {Bool(accumulate)});",
                "Softmax" => $"device.SoftmaxBackward({y}, {dy}, {dx}, log: {node.Attr("log")}, accumulate: {Bool(accumulate)});",
                "MaxPool2d" => $"device.MaxPool2dBackward({dy}, _{Names.Argmax(node)}.Rows(n), {dx}, {Geometry.Pool(plan, node)}, accumulate: {Bool(accumulate)});",
                "AvgPool2d" => $"device.AvgPool2dBackward({dy}, {dx}, {Geometry.Pool(plan, node)}, countIncludePad: {node.Attr("countIncludePad")}, accumulate: {Bool(accumulate)});",
                "AdaptiveAvgPool2d" => $"device.AdaptiveAvgPool2dBackward({dy}, {dx}, {Geometry.Adaptive(plan, node)}, accumulate: {Bool(accumulate)});",
                _ => $"device.PassGradient({dy}, {dx}, accumulate: {Bool(accumulate)});",
            };
            // Gradients that lead only to the input exist when it was asked for.
            var nullable = new List<string>();
            if (dyNullable)
            {
                nullable.Add(dy);
            }
            if (Conditional(plan, input))
            {
                nullable.Add(dx);
            }
            w.Line(nullable.Count == 0 ? statement : $"if ({string.Join(" && ", nullable.Select(v => v + " is not null"))}) {statement}");
        }
    }

    private static string Bool(bool value) => value ? "true" : "false";
}
