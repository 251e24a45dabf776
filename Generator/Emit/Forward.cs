using System.Linq;
using Dsl.Generator.Model;

namespace Dsl.Generator.Emit;

/// <summary>Emits <c>Forward</c>: one statement per layer, in definition order, each under its shape comment.</summary>
internal static class Forward
{
    public static void Write(CodeWriter w, Plan plan)
    {
        var model = plan.Model;
        w.Line("/// <summary>");
        w.Line($"/// Runs {model.ClassName} on a batch {Shapes.ShapeText.Batch(plan.Input.Shape)}; returns {Shapes.ShapeText.Batch(plan.Output.Shape)} in a buffer the next call reuses.");
        w.Line("/// </summary>");
        using (w.Block("public override global::Dsl.Tensor Forward(global::Dsl.Tensor input)"))
        {
            w.Line("int n = BeginForward(input, s_inputShape);");
            w.Line("var device = Device;");
            w.Line("_trainingForward = IsTraining;");
            w.Line("_input = input;");
            w.Line($"var {Names.Value(plan.Input)} = input;");
            foreach (var node in plan.LiveNodes.Where(n => n.Op != "Input"))
            {
                w.Line();
                w.Line("// " + NetworkEmitter.Comment(plan, node));
                Statement(w, plan, node);
            }
            w.Line();
            w.Line($"_output = {Names.Value(plan.Output)};");
            w.Line($"return {Names.Value(plan.Output)};");
        }
    }

    private static void Statement(CodeWriter w, Plan plan, GraphNode node)
    {
        string y = Names.Value(node);
        string x = Names.Value(plan.Nodes[node.Inputs[0]]);
        if (node.Op == "Flatten")
        {
            w.Line($"var {y} = _{y}.Of({x});");
            return;
        }
        w.Line($"var {y} = _{y}.Rows(n);");
        switch (node.Op)
        {
            case "Linear":
                w.Line($"device.Linear({x}, {Value(node, "weight")}, {Value(node, "bias")}, {y});");
                break;
            case "Activation":
                w.Line($"device.Activation(global::Dsl.ActivationKind.{node.Attr("kind")}, {Names.FloatAttr(node, "alpha")}, {x}, {y});");
                break;
            case "Dropout":
                string mask = Names.Mask(node);
                w.Line($"if (_trainingForward) device.Dropout({x}, _{mask}.Rows(n), {y}, {Names.FloatAttr(node, "p")}, DropoutSeed({node.Id}), group: {node.Attr("group")});");
                w.Line($"else device.Copy({x}, {y});");
                break;
            case "Softmax":
                w.Line($"device.Softmax({x}, {y}, log: {node.Attr("log")});");
                break;
            case "Add":
                w.Line($"device.Add({x}, {Names.Value(plan.Nodes[node.Inputs[1]])}, {y});");
                break;
            case "Conv2d":
                w.Line($"device.Conv2d({x}, {Value(node, "weight")}, {Value(node, "bias")}, {y}, {Geometry.Conv(plan, node)});");
                break;
            case "MaxPool2d":
                w.Line($"device.MaxPool2d({x}, {y}, _{Names.Argmax(node)}.Rows(n), {Geometry.Pool(plan, node)});");
                break;
            case "AvgPool2d":
                w.Line($"device.AvgPool2d({x}, {y}, {Geometry.Pool(plan, node)}, countIncludePad: {node.Attr("countIncludePad")});");
                break;
            case "AdaptiveAvgPool2d":
                w.Line($"device.AdaptiveAvgPool2d({x}, {y}, {Geometry.Adaptive(plan, node)});");
                break;
            case "BatchNorm2d":
                string owner = Names.Owner(node);
                w.Line($"device.BatchNorm({x}, {Value(node, "weight")}, {Value(node, "bias")}, {Names.Buffer(owner + ".running_mean")}, {Names.Buffer(owner + ".running_var")}, "
                    + $"_{Names.SaveMean(node)}, _{Names.SaveInvStd(node)}, {y}, n, {node.Shape[0]}, {Geometry.Spatial(node.Shape)}, _trainingForward, "
                    + $"momentum: {Names.FloatAttr(node, "momentum")}, eps: {Names.FloatAttr(node, "eps")});");
                break;
            case "Concat":
                int offset = 0;
                foreach (int input in node.Inputs)
                {
                    var branch = plan.Nodes[input];
                    w.Line($"device.CopyChannels({Names.Value(branch)}, {branch.Shape[0]}, 0, {y}, {node.Shape[0]}, {offset}, {branch.Shape[0]}, n, {Geometry.Spatial(node.Shape)}, accumulate: false);");
                    offset += branch.Shape[0];
                }
                break;
        }
    }

    /// <summary><c>_fc1_weight.Value</c>, or <c>null</c> when the layer has no such parameter (bias: false).</summary>
    public static string Value(GraphNode node, string suffix) => Member(node, suffix, "Value");

    /// <summary><c>_fc1_weight.Grad</c>, or <c>null</c>.</summary>
    public static string Grad(GraphNode node, string suffix) => Member(node, suffix, "Grad");

    private static string Member(GraphNode node, string suffix, string member)
    {
        var p = node.Params.FirstOrDefault(q => q.Name.EndsWith("." + suffix, System.StringComparison.Ordinal));
        return p is null ? "null" : Names.Parameter(p.Name) + "." + member;
    }
}
