namespace Dsl;

/// <summary>
/// A tensor was read after the buffer it views was overwritten: a network's result after a later <c>Forward</c>, or a
/// loader's batch after the next batch. Buffers are reused so that a training step allocates nothing; call
/// <c>Clone()</c> or <c>ToArray()</c> on a result before the next call to keep it.
/// </summary>
public sealed class StaleTensorException : InvalidOperationException
{
    public StaleTensorException(string message)
        : base(message)
    {
    }
}
