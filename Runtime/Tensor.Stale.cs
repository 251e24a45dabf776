namespace Dsl;

/// <summary>
/// Stale-read protection (<see cref="BufferVersion"/>): a tensor handed out over a reused buffer carries its owner and
/// the version it was made at; views of it inherit both. Every read (<see cref="ToArray"/>, <see cref="ToString"/>,
/// <see cref="Clone"/>, <see cref="To"/>, and every <see cref="Device"/> method, whose operand checks call
/// <see cref="ThrowIfStale"/>) refuses a handle whose owner has moved on. A tensor without an owner (one you made, a
/// clone, the runtime's own buffers) is never stale, and the check costs one null test.
/// </summary>
public sealed partial class Tensor
{
    private BufferVersion? _owner;
    private long _stamp;

    /// <summary>
    /// False when the buffer this tensor views has been overwritten since it was handed out (by a later <c>Forward</c>
    /// of the network that returned it, or the loader's next batch); reading it then throws <see cref="StaleTensorException"/>.
    /// </summary>
    public bool IsCurrent => _owner is null || _owner.Version == _stamp;

    /// <summary>
    /// A copy of this tensor's elements in new, contiguous memory on the same device (PyTorch's <c>clone()</c>): it
    /// belongs to the caller and is never overwritten, so it keeps a network's result or a batch past the next call.
    /// </summary>
    public Tensor Clone()
    {
        ThrowIfStale(nameof(Clone));
        var copy = Device.Allocate(DType, _shape);
        CopyAcross(this, copy);
        return copy;
    }

    /// <summary>Throws <see cref="StaleTensorException"/> when this tensor's buffer has been overwritten since it was handed out.</summary>
    internal void ThrowIfStale(string operation)
    {
        if (_owner is { } owner && owner.Version != _stamp)
        {
            throw Stale(owner, operation);
        }
    }

    /// <summary>
    /// A new handle over this tensor's memory stamped with <paramref name="owner"/>'s current version: one small object,
    /// sharing the storage, shape and strides (none of them is ever mutated).
    /// </summary>
    internal Tensor Stamped(BufferVersion owner)
    {
        var handle = new Tensor(Storage, Offset, _shape, _strides);
        handle._owner = owner;
        handle._stamp = owner.Version;
        return handle;
    }

    /// <summary>A view of this tensor's storage that inherits its stamp, so a view of a stale result is stale too.</summary>
    private Tensor Derive(long offset, int[] shape, long[] strides)
    {
        var view = new Tensor(Storage, offset, shape, strides);
        view._owner = _owner;
        view._stamp = _stamp;
        return view;
    }

    private StaleTensorException Stale(BufferVersion owner, string operation)
        => new($"{operation}: this {Describe()} is {owner.Made}, and {owner.OverwrittenBy} has since overwritten its buffer "
            + $"(buffers are reused so a training step allocates nothing; it was handed out at version {_stamp}, the buffer is at {owner.Version}). "
            + "Call .Clone() or .ToArray() on a result before the next call to keep a copy.");
}
