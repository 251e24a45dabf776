namespace Dsl.Data;

/// <summary>
/// One mini-batch: samples [B, ..sample shape] (float32, [B,C,H,W] for images) and labels [B] (int64) on the loader's device. The tensors view
/// the loader's reused buffers: valid until the next batch is produced, after which reading them throws
/// <see cref="StaleTensorException"/>; <c>Clone()</c> or <c>ToArray()</c> keeps a copy.
/// </summary>
/// <param name="Images">The samples, [B, ..sample shape].</param>
/// <param name="Labels">The labels, [B].</param>
/// <param name="Index">The batch number within the epoch, from 0.</param>
public readonly record struct Batch(Tensor Images, Tensor Labels, int Index) : Training.ITrainingBatch
{
    /// <summary>The labels: what the trainer's loss compares the scores with.</summary>
    Tensor Training.ITrainingBatch.Targets => Labels;

    /// <summary>Samples in this batch (B): the batch size, or fewer for a partial last batch.</summary>
    public int Size => Labels.Size(0);
}
