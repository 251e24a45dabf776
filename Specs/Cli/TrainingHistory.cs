namespace Specs.Cli;

/// <summary>Everything a run measured: the loss of every step and each epoch's result.</summary>
public sealed class TrainingHistory
{
    /// <summary>The loss of each training step, in order.</summary>
    public List<float> BatchLosses { get; } = new();

    /// <summary>Batches per epoch, to place epochs on the step axis.</summary>
    public int BatchesPerEpoch { get; set; }

    /// <summary>One result per finished epoch.</summary>
    public List<EpochResult> Epochs { get; } = new();

    /// <summary>Mean training time per epoch in seconds.</summary>
    public double SecondsPerEpoch => Epochs.Count == 0 ? 0 : Epochs.Average(e => e.TrainSeconds);
}
