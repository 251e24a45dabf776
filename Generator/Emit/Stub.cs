using Dsl.Generator.Model;

namespace Dsl.Generator.Emit;

/// <summary>
/// The class emitted when the definition has errors: just enough members for the rest of the user's code to
/// compile, so the user sees the one DSL error and not a cascade of missing-member errors.
/// </summary>
internal static class Stub
{
    public static void Write(CodeWriter w, NetworkModel model, System.Collections.Generic.List<string> members)
    {
        string message = Names.Literal($"{model.ClassName} has errors in its definition (see the DSL diagnostics); it cannot run.");
        using (w.Block($"{model.Accessibility} partial class {model.ClassName} : {NetworkEmitter.Module}"))
        {
            w.Line("/// <summary>Not available: the definition has errors.</summary>");
            w.Line($"public {model.ClassName}(global::Dsl.Device device, int seed = 0) : base(device, seed) => throw new global::System.InvalidOperationException({message});");
            w.Line("/// <inheritdoc/>");
            w.Line($"public override string NetworkName => {Names.Literal(model.ClassName)};");
            w.Line("/// <summary>Not available: the definition has errors.</summary>");
            w.Line("public static int[] InputShape => global::System.Array.Empty<int>();");
            w.Line("/// <summary>Not available: the definition has errors.</summary>");
            w.Line("public static int[] OutputShape => global::System.Array.Empty<int>();");
            w.Line("/// <summary>Not available: the definition has errors.</summary>");
            w.Line($"public static string Summary => {message};");
            w.Line("/// <inheritdoc/>");
            w.Line($"public override global::Dsl.Tensor Forward(global::Dsl.Tensor input) => throw new global::System.InvalidOperationException({message});");
            w.Line("/// <inheritdoc/>");
            w.Line($"public override void Backward(global::Dsl.Tensor gradOutput) => throw new global::System.InvalidOperationException({message});");
        }
        members.AddRange(new[] { model.ClassName + "(global::Dsl.Device, int)", "NetworkName", "InputShape", "OutputShape", "Summary", "Forward(global::Dsl.Tensor)", "Backward(global::Dsl.Tensor)" });
    }
}
