namespace Dsl.Training;

/// <summary>
/// Batches the <see cref="Trainer"/> iterates, epoch by epoch: a <see cref="Data.BatchLoader"/> of images, a
/// <see cref="Data.Text.BucketBatcher"/> of padded token sequences, a <see cref="Data.Text.LanguageModelBatcher"/> of
/// windows of a stream. A batch's tensors may be reused buffers, overwritten by the next batch: the runtime's sources
/// hand out handles stamped with a <see cref="BufferVersion"/> from <see cref="Epoch(int)"/>, which refuse a read once
/// the next batch has overwritten them (<see cref="StaleTensorException"/>), and their own tensors from
/// <see cref="Epoch(int, bool)"/> without publishing, which the trainer uses so its step allocates nothing.
/// </summary>
/// <typeparam name="TBatch">The batch type (a struct, so reading it through the interface copies nothing to the heap).</typeparam>
public interface IBatchSource<out TBatch>
    where TBatch : ITrainingBatch
{
    /// <summary>Rows of a full batch; only an epoch's last batch may have fewer.</summary>
    int BatchSize { get; }

    /// <summary>Batches in <paramref name="epoch"/> (0-based; a language model's windows move between epochs).</summary>
    int BatchesIn(int epoch);

    /// <summary>The batches of <paramref name="epoch"/>, decided by the source's seed and the epoch.</summary>
    IEnumerable<TBatch> Epoch(int epoch);

    /// <summary>
    /// The batches of <paramref name="epoch"/>; with <paramref name="publish"/> false a source that reuses buffers may
    /// hand out those buffers themselves rather than stamped handles (no allocation per batch, and no stale-read check),
    /// for a loop that reads each batch within its step and keeps none, as the <see cref="Trainer"/> does. A source
    /// without such a path ignores the flag.
    /// </summary>
    IEnumerable<TBatch> Epoch(int epoch, bool publish) => Epoch(epoch);
}

/// <summary>
/// How a network takes a batch, supplied by whoever knows both (a recipe): <c>b =&gt; net.Forward(b.Images)</c> for an
/// image classifier, <c>b =&gt; net.Forward(b.Tokens, b.Mask)</c> for a generated network with a tokens and a mask
/// input. Typed, so a network's several inputs are passed by name and checked by the compiler, not found by reflection.
/// </summary>
public delegate Tensor BatchForward<in TBatch>(TBatch batch)
    where TBatch : ITrainingBatch;
