namespace Dsl;

/// <summary>
/// A flat block of device memory. Tensors are (shape, offset) views of one storage, so a reshape
/// or a batch slice never copies. Each <see cref="Device"/> derives its own kind.
/// </summary>
public abstract class Storage : IDisposable
{
    protected Storage(Device device, DType dtype, long length)
    {
        Device = device;
        DType = dtype;
        Length = length;
    }

    public Device Device { get; }
    public DType DType { get; }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
