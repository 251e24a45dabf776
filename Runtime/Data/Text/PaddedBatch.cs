namespace Dsl.Data.Text;

/// <summary>
/// One batch of variable-length sequences padded to the batch's longest (T): token ids <c>[N,T]</c> (int64, padded
/// with <see cref="Vocabulary.PadId"/>), a mask <c>[N,T]</c> (float32, 1 on tokens, 0 on padding), the lengths, and
/// the labels <c>[N]</c> when the batcher has them. The tensors and arrays are over the batcher's reused buffers: valid
/// until the next batch is produced (reading the tensors later throws <see cref="StaleTensorException"/>; copy the
/// arrays to keep them).
/// </summary>
/// <param name="Tokens">Token ids, [N,T].</param>
/// <param name="Mask">1 where a token is, 0 on padding, [N,T].</param>
/// <param name="Lengths">Each row's length (its first <c>Lengths[i]</c> positions are tokens).</param>
/// <param name="Labels">Labels [N], or null when the batcher has none.</param>
/// <param name="Samples">Each row's index in the batcher's sequences.</param>
/// <param name="Index">The batch number within the epoch, from 0.</param>
public readonly record struct PaddedBatch(Tensor Tokens, Tensor Mask, ReadOnlyMemory<int> Lengths, Tensor? Labels, ReadOnlyMemory<int> Samples, int Index)
    : Training.ITrainingBatch
{
    /// <summary>The labels, for the trainer's loss; a batcher made without labels has none to train on.</summary>
    Tensor Training.ITrainingBatch.Targets
        => Labels ?? throw new InvalidOperationException("This batch has no labels: give the BucketBatcher one label per sequence to train a classifier on it.");

    /// <summary>Rows (N).</summary>
    public int Size => Tokens.Size(0);

    /// <summary>Padded length (T): the longest row's length.</summary>
    public int Length => Tokens.Size(1);
}
