namespace Dsl.Training;

/// <summary>
/// Hooks into <see cref="Trainer.Fit"/>, in the order the callbacks were added: override what you need.
/// <see cref="EarlyStopping"/>, <see cref="ModelCheckpoint"/>, <see cref="LrScheduleCallback"/> and
/// <see cref="LambdaCallback"/> are the ready-made ones.
/// </summary>
public abstract class TrainingCallback
{
    /// <summary>Before the first epoch.</summary>
    public virtual void OnTrainBegin(TrainingContext context)
    {
    }

    /// <summary>After each epoch's training and evaluation; <paramref name="result"/> is already in the history.</summary>
    public virtual void OnEpochEnd(TrainingContext context, EpochResult result)
    {
    }

    /// <summary>After the last epoch, or the one a callback stopped at (not after a <see cref="NonFiniteLossException"/>).</summary>
    public virtual void OnTrainEnd(TrainingContext context)
    {
    }
}

/// <summary>A callback from a delegate, run after every epoch.</summary>
public sealed class LambdaCallback(Action<TrainingContext, EpochResult> onEpochEnd) : TrainingCallback
{
    public override void OnEpochEnd(TrainingContext context, EpochResult result) => onEpochEnd(context, result);
}

/// <summary>Steps a learning-rate schedule after every epoch (PyTorch's <c>scheduler.step()</c> at the end of an epoch).</summary>
public sealed class LrScheduleCallback(LrSchedule schedule) : TrainingCallback
{
    /// <summary>The schedule stepped.</summary>
    public LrSchedule Schedule { get; } = schedule ?? throw new ArgumentNullException(nameof(schedule));

    public override void OnEpochEnd(TrainingContext context, EpochResult result) => Schedule.Step();
}

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

/// <summary>
/// Saves the network with <see cref="Checkpoint.Save"/> (atomic: a crash leaves the previous file whole) after an
/// epoch: when <see cref="Monitor"/> improved (<see cref="BestOnly"/>, the default), or after every epoch. Only
/// finite results are saved, so the file always holds weights that trained to a finite loss.
/// </summary>
public sealed class ModelCheckpoint : TrainingCallback
{
    private readonly IReadOnlyDictionary<string, string>? _metadata;

    /// <summary>Saves to <paramref name="path"/> (a safetensors file, PyTorch's names).</summary>
    public ModelCheckpoint(string path, Metric monitor = Metric.TestAccuracy, bool bestOnly = true, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = path;
        Monitor = monitor;
        BestOnly = bestOnly;
        _metadata = metadata;
        BestValue = monitor.Worst();
    }

    /// <summary>Where the checkpoint is written.</summary>
    public string Path { get; }

    public Metric Monitor { get; }

    /// <summary>True: save only when <see cref="Monitor"/> improves; false: after every finite epoch.</summary>
    public bool BestOnly { get; }

    /// <summary>The epoch whose weights the file holds, or null before the first save.</summary>
    public int? SavedEpoch { get; private set; }

    /// <summary>The best value of <see cref="Monitor"/> seen.</summary>
    public double BestValue { get; private set; }

    public override void OnTrainBegin(TrainingContext context)
    {
        BestValue = Monitor.Worst();
        SavedEpoch = null;
    }

    public override void OnEpochEnd(TrainingContext context, EpochResult result)
    {
        if (!double.IsFinite(result.TrainLoss) || !double.IsFinite(result.TestLoss))
        {
            return;
        }
        double value = Monitor.ValueOf(result);
        bool improved = Monitor.Improves(value, BestValue);
        if (improved)
        {
            BestValue = value;
        }
        if (improved || !BestOnly)
        {
            var metadata = new Dictionary<string, string>(_metadata ?? new Dictionary<string, string>())
            {
                ["epoch"] = result.Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture),
                [Monitor.ToString()] = value.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            };
            Checkpoint.Save(context.Network, Path, metadata);
            SavedEpoch = result.Epoch;
        }
    }

    /// <summary>Loads the saved weights into <paramref name="network"/>; throws when nothing was saved yet.</summary>
    public void Restore(Module network)
    {
        if (SavedEpoch is null)
        {
            throw new InvalidOperationException($"{Path}: no epoch was saved yet (none finished with finite losses{(BestOnly ? " and an improvement" : "")}).");
        }
        Checkpoint.Load(network, Path);
    }
}
