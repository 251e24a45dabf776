namespace Dsl.Data.Text;

/// <summary>
/// One window of a language-model epoch: inputs <c>[N,T]</c> and next-token targets <c>[N,T]</c> (both int64).
/// Row r of window w continues row r of window w-1, so a recurrent state can be carried across windows
/// (truncated backpropagation through time). The tensors are handles over the batcher's reused buffers: valid until the next window (then reading them throws <see cref="StaleTensorException"/>).
/// </summary>
/// <param name="Input">Token ids, [N,T].</param>
/// <param name="Target">The token after each input token, [N,T].</param>
/// <param name="Index">The window number within the epoch, from 0.</param>
public readonly record struct LanguageModelBatch(Tensor Input, Tensor Target, int Index) : Training.ITrainingBatch
{
    /// <summary>Rows (N).</summary>
    public int Size => Input.Size(0);

    /// <summary>Steps per row (T).</summary>
    public int Length => Input.Size(1);

    /// <summary>The next-token targets, for the trainer's loss.</summary>
    Tensor Training.ITrainingBatch.Targets => Target;
}
