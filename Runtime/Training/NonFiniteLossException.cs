namespace Dsl.Training;

/// <summary>
/// Thrown by <see cref="Trainer.Fit"/> when the training loss (or the test loss after an epoch) becomes NaN or
/// infinite: training diverged (a learning rate far too high) or started from non-finite weights. The network's
/// parameters are then not to be trusted; <see cref="History"/> holds what was measured up to that point, and a
/// <see cref="ModelCheckpoint"/> callback's file still holds the last weights it saved, which were finite.
/// </summary>
public sealed class NonFiniteLossException : Exception
{
    /// <summary>Creates the exception for a loss of <paramref name="value"/> read at <paramref name="step"/>.</summary>
    public NonFiniteLossException(string network, int epoch, int step, double value, string what, TrainingHistory history)
        : base($"{network}: the {what} became {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} in epoch {epoch} (step {step}); " +
               "training stopped (lower the learning rate, or check the initial weights)")
    {
        Network = network;
        Epoch = epoch;
        Step = step;
        Value = value;
        History = history;
    }

    /// <summary>The network's name.</summary>
    public string Network { get; }

    /// <summary>The epoch in which the loss became non-finite, from 1.</summary>
    public int Epoch { get; }

    /// <summary>The 1-based global step at which it was read.</summary>
    public int Step { get; }

    /// <summary>The value read: NaN or an infinity.</summary>
    public double Value { get; }

    /// <summary>What the run measured before it stopped.</summary>
    public TrainingHistory History { get; }
}
