namespace Dsl.Training;

/// <summary>
/// Receives training progress: <see cref="LiveProgress"/> on a terminal, <see cref="PlainProgress"/> in logs, or your
/// own. Called on the training thread; keep it quick (it runs between steps).
/// </summary>
public interface ITrainingObserver
{
    /// <summary>An epoch of <paramref name="batches"/> batches begins.</summary>
    void EpochStarted(int epoch, int epochs, int batches);

    /// <summary>A training step finished (on a GPU, every few steps: when the loss is read).</summary>
    void BatchDone(in BatchProgress progress);

    /// <summary>An epoch's training and evaluation finished.</summary>
    void EpochDone(EpochResult result);
}
