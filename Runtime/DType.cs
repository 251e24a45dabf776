namespace Dsl;

/// <summary>Element type of a <see cref="Tensor"/>.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float: activations, parameters, gradients.</summary>
    Float32,
    /// <summary>64-bit signed integer: class labels and token indices (PyTorch's <c>torch.long</c>).</summary>
    Int64,
    /// <summary>32-bit signed integer: internal index buffers (for example max-pooling argmax).</summary>
    Int32,
}

/// <summary>Size in bytes of each <see cref="DType"/>.</summary>
public static class DTypeExtensions
{
    public static int SizeInBytes(this DType dtype) => dtype switch
    {
        DType.Float32 => 4,
        DType.Int64 => 8,
        DType.Int32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };
}
