namespace Dsl.Training;

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
