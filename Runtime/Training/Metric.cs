namespace Dsl.Training;

/// <summary>The epoch figure a callback watches; accuracies improve upwards, losses downwards.</summary>
public enum Metric
{
    /// <summary><see cref="EpochResult.TestAccuracy"/>, higher is better.</summary>
    TestAccuracy,

    /// <summary><see cref="EpochResult.TestLoss"/>, lower is better.</summary>
    TestLoss,

    /// <summary><see cref="EpochResult.TrainLoss"/>, lower is better.</summary>
    TrainLoss,
}

/// <summary>Reads a <see cref="Metric"/> from an epoch's result, and says which way is better.</summary>
public static class MetricExtensions
{
    /// <summary>The watched figure of <paramref name="result"/>.</summary>
    public static double ValueOf(this Metric monitor, EpochResult result) => monitor switch
    {
        Metric.TestAccuracy => result.TestAccuracy,
        Metric.TestLoss => result.TestLoss,
        Metric.TrainLoss => result.TrainLoss,
        _ => throw new ArgumentOutOfRangeException(nameof(monitor), monitor, "Unknown monitor."),
    };

    /// <summary>True when <paramref name="value"/> beats <paramref name="best"/> by more than <paramref name="minDelta"/>.</summary>
    public static bool Improves(this Metric monitor, double value, double best, double minDelta = 0) => monitor switch
    {
        Metric.TestAccuracy => value > best + minDelta,
        Metric.TestLoss or Metric.TrainLoss => value < best - minDelta,
        _ => throw new ArgumentOutOfRangeException(nameof(monitor), monitor, "Unknown monitor."),
    };

    /// <summary>The starting "best": anything finite improves on it.</summary>
    public static double Worst(this Metric monitor) => monitor == Metric.TestAccuracy ? double.NegativeInfinity : double.PositiveInfinity;
}
