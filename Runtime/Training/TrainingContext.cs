namespace Dsl.Training;

/// <summary>What a <see cref="TrainingCallback"/> sees and may change: the network, its optimiser, the history so far, and whether to stop.</summary>
public sealed class TrainingContext
{
    internal TrainingContext(Module network, Optimizer optimizer, TrainingHistory history, int epochs)
    {
        Network = network;
        Optimizer = optimizer;
        History = history;
        Epochs = epochs;
    }

    /// <summary>The network being trained.</summary>
    public Module Network { get; }

    /// <summary>Its optimiser (its <see cref="Optimizer.LearningRate"/> may be changed between epochs).</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Everything measured so far.</summary>
    public TrainingHistory History { get; }

    /// <summary>Epochs the run was asked for.</summary>
    public int Epochs { get; }

    /// <summary>Set by <see cref="Stop"/>: no further epoch starts.</summary>
    public bool StopRequested { get; private set; }

    /// <summary>Ends training after the current epoch, recording <paramref name="reason"/> in <see cref="TrainingHistory.StopReason"/>.</summary>
    public void Stop(string reason)
    {
        StopRequested = true;
        History.StopReason ??= reason;
    }
}
