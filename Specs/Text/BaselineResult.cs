namespace Specs.Text;

/// <summary>What a baseline reached: accuracies on the three splits at the epoch chosen on validation.</summary>
public sealed record BaselineResult(double TrainAccuracy, double ValidAccuracy, double TestAccuracy, int BestEpoch, int EpochsRun, int FeatureCount)
{
    public override string ToString() => FormattableString.Invariant(
        $"bag-of-words logistic regression: test {TestAccuracy:F4}, validation {ValidAccuracy:F4}, train {TrainAccuracy:F4} (epoch {BestEpoch} of {EpochsRun}, {FeatureCount:N0} features)");
}
