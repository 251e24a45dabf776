using System;
using System.Linq;
using System.Text;
using Dsl.Generator.Model;
using Dsl.Generator.Shapes;

namespace Dsl.Generator.Emit;

/// <summary>The Keras-style table behind the generated static <c>Summary</c>: layer, output shape, parameters, FLOPs.</summary>
internal static class Summary
{
    public static string Build(Plan plan)
    {
        var rows = plan.LiveNodes.Select(n => (
            Layer: Names.CommentText($"[{n.Id}] " + (n.Name.Length > 0 ? n.Name + ": " : "") + n.Label + (Plan.IsFrozen(n) ? " (frozen)" : "")),
            Shape: ShapeText.Of(n),
            Params: Names.Thousands(n.Params.Sum(p => p.Count)),
            Flops: Names.Thousands(n.Flops))).ToList();
        int w1 = Math.Max("Layer (name)".Length, rows.Max(r => r.Layer.Length));
        int w2 = Math.Max("Output shape".Length, rows.Max(r => r.Shape.Length));
        int w3 = Math.Max("Params".Length, rows.Max(r => r.Params.Length));
        int w4 = Math.Max("FLOPs".Length, rows.Max(r => r.Flops.Length));
        string rule = new string('-', w1 + w2 + w3 + w4 + 6);
        var sb = new StringBuilder();
        sb.Append("Network: ").Append(plan.Model.ClassName).Append('\n');
        sb.Append(rule).Append('\n');
        sb.Append("Layer (name)".PadRight(w1)).Append("  ").Append("Output shape".PadRight(w2)).Append("  ")
          .Append("Params".PadLeft(w3)).Append("  ").Append("FLOPs".PadLeft(w4)).Append('\n');
        sb.Append(rule).Append('\n');
        foreach (var r in rows)
        {
            sb.Append(r.Layer.PadRight(w1)).Append("  ").Append(r.Shape.PadRight(w2)).Append("  ")
              .Append(r.Params.PadLeft(w3)).Append("  ").Append(r.Flops.PadLeft(w4)).Append('\n');
        }
        sb.Append(rule).Append('\n');
        long total = plan.Parameters.Sum(p => p.Count);
        long flops = plan.LiveNodes.Sum(n => n.Flops);
        sb.Append("Total params: ").Append(Names.Thousands(total)).Append('\n');
        long frozen = plan.FrozenParameters.Sum(p => p.Count);
        if (frozen > 0)
        {
            // Frozen(...) at compile time; Module.ParameterSummary() shows what Freeze and Unfreeze changed since.
            sb.Append("Trainable params: ").Append(Names.Thousands(total - frozen)).Append(" (frozen: ").Append(Names.Thousands(frozen)).Append(")\n");
        }
        // A symbolic dimension counts as 1: the FLOPs of a sequence network are per position.
        bool symbolic = plan.LiveNodes.Any(n => n.IsSymbolic);
        sb.Append(symbolic ? "Forward FLOPs per sample, each symbol counted as 1: " : "Forward FLOPs per sample: ").Append(Names.Thousands(flops)).Append('\n');
        var memory = plan.Memory;
        var owned = plan.Buffers().Where(b => b.Elements > 0).ToList();
        long ownedTraining = owned.Sum(b => b.Elements) * MemoryPlan.ElementBytes;
        long ownedEvaluation = owned.Where(b => b.Evaluation).Sum(b => b.Elements) * MemoryPlan.ElementBytes;
        sb.Append(symbolic ? "Activation memory per sample, each symbol counted as 1: training " : "Activation memory per sample: training ").Append(Names.Thousands(memory.TrainingBytes + ownedTraining))
          .Append(" bytes, evaluation ").Append(Names.Thousands(memory.EvaluationBytes + ownedEvaluation))
          .Append(" bytes (one buffer per value and gradient: ").Append(Names.Thousands(memory.UnplannedBytes + ownedTraining)).Append(")\n");
        return sb.ToString();
    }
}
