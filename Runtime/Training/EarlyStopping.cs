namespace Dsl.Training;

/// <summary>
/// Stops training when <see cref="Monitor"/> has not improved by more than <see cref="MinDelta"/> for
/// <see cref="Patience"/> epochs in a row (Keras' <c>EarlyStopping</c>). Pair it with a <see cref="ModelCheckpoint"/>
/// to get the best weights back.
/// </summary>
public sealed class EarlyStopping : TrainingCallback
{
    private double _best;
    private int _bad;

    /// <summary>Stops after <paramref name="patience"/> epochs without improvement of <paramref name="monitor"/>.</summary>
    public EarlyStopping(int patience = 3, Metric monitor = Metric.TestLoss, double minDelta = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        if (!(minDelta >= 0) || double.IsInfinity(minDelta))
        {
            throw new ArgumentOutOfRangeException(nameof(minDelta), $"minDelta must be finite and non-negative, got {minDelta}.");
        }
        Patience = patience;
        Monitor = monitor;
        MinDelta = minDelta;
        _best = monitor.Worst();
    }

    public int Patience { get; }
    public Metric Monitor { get; }
    public double MinDelta { get; }

    /// <summary>The epoch training stopped after, or null if it did not stop early.</summary>
    public int? StoppedEpoch { get; private set; }

    public override void OnTrainBegin(TrainingContext context)
    {
        _best = Monitor.Worst();
        _bad = 0;
        StoppedEpoch = null;
    }

    public override void OnEpochEnd(TrainingContext context, EpochResult result)
    {
        double value = Monitor.ValueOf(result);
        if (Monitor.Improves(value, _best, MinDelta))
        {
            _best = value;
            _bad = 0;
            return;
        }
        if (++_bad >= Patience)
        {
            StoppedEpoch = result.Epoch;
            context.Stop(FormattableString.Invariant(
                $"early stopping: {Monitor} did not improve for {Patience} epoch{(Patience == 1 ? "" : "s")} (best {_best:G4})"));
        }
    }
}
