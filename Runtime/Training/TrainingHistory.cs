namespace Dsl.Training;

/// <summary>Everything a run measured: the loss of every step and each epoch's result.</summary>
public sealed class TrainingHistory
{
    /// <summary>
    /// The training loss as it was read: on the CPU every step; on a GPU the mean over each reading interval, so the
    /// device is not made to wait every step. <see cref="LossSteps"/> holds the step each value was read at.
    /// </summary>
    public List<float> BatchLosses { get; } = new();

    /// <summary>The 1-based global step at which each entry of <see cref="BatchLosses"/> was read.</summary>
    public List<int> LossSteps { get; } = new();

    /// <summary>Batches per epoch, to place epochs on the step axis.</summary>
    public int BatchesPerEpoch { get; set; }

    /// <summary>One result per finished epoch.</summary>
    public List<EpochResult> Epochs { get; } = new();

    /// <summary>Why training ended before its last epoch (early stopping, a callback), or null when it ran them all.</summary>
    public string? StopReason { get; set; }

    /// <summary>Mean training time per epoch in seconds.</summary>
    public double SecondsPerEpoch => Epochs.Count == 0 ? 0 : Epochs.Average(e => e.TrainSeconds);
}
