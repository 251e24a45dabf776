using System.Globalization;

namespace Dsl.Training;

/// <summary>The lines the progress displays and the CLI print, in invariant culture.</summary>
public static class TrainingFormat
{
    /// <summary>The name of the split <c>Fit</c> evaluates on when nobody says otherwise.</summary>
    public const string Test = "test";

    /// <summary>
    /// <c>epoch 3: train loss 0.4123, test loss 0.4410, test accuracy 0.8456, 2.13 s (eval 0.10 s), 28,169 samples/s</c>;
    /// <paramref name="evaluatedOn"/> names the split the evaluation ran on (<c>validation</c> when model selection uses it).
    /// </summary>
    public static string EpochLine(EpochResult r, string evaluatedOn = Test) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {r.Epoch}: train loss {r.TrainLoss:F4}, {evaluatedOn} loss {r.TestLoss:F4}, {evaluatedOn} accuracy {r.TestAccuracy:F4}, {r.TrainSeconds:F2} s (eval {r.EvalSeconds:F2} s), {r.SamplesPerSecond:N0} samples/s");

    /// <summary>The run's last line: <c>test accuracy 0.8456 after 10 epochs (2.13 s/epoch)</c>.</summary>
    public static string FinalLine(TrainingHistory h, string evaluatedOn = Test) => string.Create(CultureInfo.InvariantCulture,
        $"{evaluatedOn} accuracy {(h.Epochs.Count == 0 ? 0 : h.Epochs[^1].TestAccuracy):F4} after {h.Epochs.Count} epoch{(h.Epochs.Count == 1 ? "" : "s")} ({h.SecondsPerEpoch:F2} s/epoch)");
}
