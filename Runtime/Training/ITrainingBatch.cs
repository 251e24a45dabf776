namespace Dsl.Training;

/// <summary>
/// What the <see cref="Trainer"/> reads from a batch besides the network's inputs (which only the recipe's
/// <see cref="BatchForward{TBatch}"/> knows): the targets of the loss, how many samples the batch holds, and its place in
/// the epoch. Implemented by image batches (<see cref="Data.Batch"/>), padded text batches
/// (<see cref="Data.Text.PaddedBatch"/>) and language-model windows (<see cref="Data.Text.LanguageModelBatch"/>).
/// </summary>
public interface ITrainingBatch
{
    /// <summary>The loss's int64 targets: labels [N] for a classifier, next tokens [N,T] for a language model.</summary>
    Tensor Targets { get; }

    /// <summary>Samples (rows) in the batch: the batch size, or fewer for a partial last batch.</summary>
    int Size { get; }

    /// <summary>The batch number within the epoch, from 0.</summary>
    int Index { get; }
}
