namespace Specs.Cli;

/// <summary>Receives training progress: a live terminal display or plain log lines.</summary>
public interface ITrainingObserver
{
    /// <summary>An epoch of <paramref name="batches"/> batches begins.</summary>
    void EpochStarted(int epoch, int epochs, int batches);

    /// <summary>A training step finished.</summary>
    void BatchDone(in BatchProgress progress);

    /// <summary>An epoch's training and evaluation finished.</summary>
    void EpochDone(EpochResult result);
}
