using System.Text;

namespace Dsl;

/// <summary>
/// A dense, row-major (C-contiguous) n-dimensional array on a <see cref="Device"/>: float32 for values,
/// int64 for indices. A tensor is a view (shape and element offset) of a <see cref="Dsl.Storage"/>,
/// so <see cref="View"/>, <see cref="Reshape"/> and <see cref="Narrow"/> share memory with their source.
/// </summary>
public sealed class Tensor
{
    private readonly int[] _shape;

    internal Tensor(Storage storage, long offset, int[] shape)
    {
        long length = CheckedLength(shape);
        if (offset < 0 || offset + length > storage.Length)
        {
            throw new ArgumentException($"A view of {length} elements at offset {offset} does not fit a storage of {storage.Length}.");
        }
        Storage = storage;
        Offset = offset;
        _shape = shape;
        Length = length;
    }

    /// <summary>The memory this tensor views.</summary>
    public Storage Storage { get; }

    /// <summary>Element offset of this view inside <see cref="Storage"/>.</summary>
    public long Offset { get; }

    /// <summary>Number of elements (product of the shape).</summary>
    public long Length { get; }

    public Device Device => Storage.Device;
    public DType DType => Storage.DType;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>A copy of the shape, outermost dimension first.</summary>
    public int[] Shape => (int[])_shape.Clone();

    /// <summary>The size of dimension <paramref name="dim"/>; negative counts from the end, as in PyTorch.</summary>
    public int Size(int dim) => _shape[NormalizeDim(dim, Rank)];

    /// <summary>The shape without copying it (for the runtime's own checks).</summary>
    internal ReadOnlySpan<int> Dims => _shape;

    // ---------------------------------------------------------------- creation

    /// <summary>A float32 tensor on the CPU holding <paramref name="data"/> (copied).</summary>
    public static Tensor From(float[] data, params int[] shape) => From(data, Device.Cpu, shape);

    /// <summary>An int64 tensor on the CPU holding <paramref name="data"/> (copied): labels, token ids.</summary>
    public static Tensor From(long[] data, params int[] shape) => From(data, Device.Cpu, shape);

    /// <summary>A float32 tensor on <paramref name="device"/> holding <paramref name="data"/> (copied).</summary>
    public static Tensor From(ReadOnlySpan<float> data, Device device, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(device);
        CheckDataLength(data.Length, shape);
        var t = device.Allocate(DType.Float32, shape);
        device.Upload(data, t);
        return t;
    }

    /// <summary>An int64 tensor on <paramref name="device"/> holding <paramref name="data"/> (copied).</summary>
    public static Tensor From(ReadOnlySpan<long> data, Device device, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(device);
        CheckDataLength(data.Length, shape);
        var t = device.Allocate(DType.Int64, shape);
        device.Upload(data, t);
        return t;
    }

    /// <summary>A zero-filled float32 tensor on <paramref name="device"/>.</summary>
    public static Tensor Zeros(Device device, params int[] shape)
    {
        var t = device.Allocate(DType.Float32, shape);
        device.Fill(t, 0f);
        return t;
    }

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(Device device, float value, params int[] shape)
    {
        var t = device.Allocate(DType.Float32, shape);
        device.Fill(t, value);
        return t;
    }

    // ---------------------------------------------------------------- data movement

    /// <summary>Copies the elements to a new host array (float32 tensors).</summary>
    public float[] ToArray()
    {
        RequireDType(DType.Float32, nameof(ToArray));
        var result = new float[Length];
        Device.Download(this, result);
        return result;
    }

    /// <summary>Copies the elements to a new host array (int64 tensors).</summary>
    public long[] ToInt64Array()
    {
        RequireDType(DType.Int64, nameof(ToInt64Array));
        var result = new long[Length];
        Device.Download(this, result);
        return result;
    }

    /// <summary>The single element of a one-element float tensor.</summary>
    public float Item()
    {
        if (Length != 1)
        {
            throw new InvalidOperationException($"Item() needs a tensor of one element, this one has shape {FormatShape(_shape)}.");
        }
        return ToArray()[0];
    }

    /// <summary>This tensor on <paramref name="device"/>: itself when it is already there, a copy otherwise.</summary>
    public Tensor To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (ReferenceEquals(device, Device))
        {
            return this;
        }
        var t = device.Allocate(DType, Shape);
        CopyAcross(this, t);
        return t;
    }

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/>, through the host when the devices differ.</summary>
    public static void CopyAcross(Tensor source, Tensor destination)
    {
        if (source.Length != destination.Length || source.DType != destination.DType)
        {
            throw new ArgumentException($"Cannot copy {source.DType}{FormatShape(source._shape)} into {destination.DType}{FormatShape(destination._shape)}.");
        }
        if (ReferenceEquals(source.Device, destination.Device))
        {
            source.Device.Copy(source, destination);
            return;
        }
        switch (source.DType)
        {
            case DType.Float32:
                destination.Device.Upload(source.ToArray(), destination);
                break;
            case DType.Int64:
                destination.Device.Upload(source.ToInt64Array(), destination);
                break;
            default:
                var tmp = new int[source.Length];
                source.Device.Download(source, tmp);
                destination.Device.Upload(tmp, destination);
                break;
        }
    }

    // ---------------------------------------------------------------- views

    /// <summary>
    /// The same elements seen with another shape (PyTorch's <c>view</c>); one dimension may be -1 and is inferred.
    /// </summary>
    public Tensor View(params int[] shape)
    {
        var resolved = ResolveShape(shape, Length);
        return new Tensor(Storage, Offset, resolved);
    }

    /// <summary>Same as <see cref="View"/>: tensors here are always contiguous, so reshape never copies.</summary>
    public Tensor Reshape(params int[] shape) => View(shape);

    /// <summary>Flattens dimensions <paramref name="startDim"/>..end into one, as <c>torch.flatten(x, startDim)</c>.</summary>
    public Tensor Flatten(int startDim = 0)
    {
        startDim = NormalizeDim(startDim, Rank);
        var shape = new int[startDim + 1];
        Array.Copy(_shape, shape, startDim);
        long rest = 1;
        for (int i = startDim; i < Rank; i++)
        {
            rest *= _shape[i];
        }
        shape[startDim] = checked((int)rest);
        return new Tensor(Storage, Offset, shape);
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="dim"/>.</summary>
    public Tensor Unsqueeze(int dim)
    {
        dim = NormalizeDim(dim, Rank + 1);
        var shape = new List<int>(_shape);
        shape.Insert(dim, 1);
        return new Tensor(Storage, Offset, shape.ToArray());
    }

    /// <summary>Removes dimension <paramref name="dim"/> when its size is 1 (as PyTorch, a no-op otherwise).</summary>
    public Tensor Squeeze(int dim)
    {
        dim = NormalizeDim(dim, Rank);
        if (_shape[dim] != 1)
        {
            return this;
        }
        var shape = new List<int>(_shape);
        shape.RemoveAt(dim);
        return new Tensor(Storage, Offset, shape.ToArray());
    }

    /// <summary>Removes every dimension of size 1.</summary>
    public Tensor Squeeze() => new(Storage, Offset, _shape.Where(s => s != 1).ToArray());

    /// <summary>
    /// Rows <paramref name="start"/>..<paramref name="start"/>+<paramref name="length"/> of the first dimension,
    /// sharing memory (PyTorch's <c>narrow(0, start, length)</c>): a batch slice.
    /// </summary>
    public Tensor Narrow(int start, int length)
    {
        if (Rank == 0)
        {
            throw new InvalidOperationException("Cannot narrow a scalar tensor.");
        }
        if (start < 0 || length < 0 || start + length > _shape[0])
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows {start}..{start + length} are outside a first dimension of {_shape[0]}.");
        }
        long inner = _shape[0] == 0 ? 0 : Length / _shape[0];
        var shape = Shape;
        shape[0] = length;
        return new Tensor(Storage, Offset + start * inner, shape);
    }

    /// <summary>Row <paramref name="index"/> of the first dimension, without it (<c>x[index]</c>).</summary>
    [System.Runtime.CompilerServices.IndexerName("Row")]
    public Tensor this[int index] => Narrow(index, 1).Squeeze(0);

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("Tensor").Append(FormatShape(_shape)).Append(' ').Append(DType).Append(" on ").Append(Device.Name);
        return sb.ToString();
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>Formats a shape the way diagnostics and errors print it: <c>[64,1,28,28]</c>.</summary>
    public static string FormatShape(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }
            sb.Append(shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.Append(']').ToString();
    }

    internal void RequireDType(DType dtype, string operation)
    {
        if (DType != dtype)
        {
            throw new InvalidOperationException($"{operation} needs a {dtype} tensor, got {this}.");
        }
    }

    internal static int NormalizeDim(int dim, int rank)
    {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= Math.Max(rank, 1))
        {
            throw new ArgumentOutOfRangeException(nameof(dim), $"Dimension {dim} is out of range for a tensor of rank {rank}.");
        }
        return d;
    }

    internal static long CheckedLength(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int s in shape)
        {
            if (s < 0)
            {
                throw new ArgumentException($"Negative size in shape {FormatShape(shape)}.");
            }
            n = checked(n * s);
        }
        return n;
    }

    private static void CheckDataLength(int dataLength, int[] shape)
    {
        long expected = CheckedLength(shape);
        if (expected != dataLength)
        {
            throw new ArgumentException($"Shape {FormatShape(shape)} holds {expected} elements but {dataLength} were given.");
        }
    }

    private static int[] ResolveShape(int[] shape, long length)
    {
        var resolved = (int[])shape.Clone();
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < resolved.Length; i++)
        {
            if (resolved[i] == -1)
            {
                if (inferred >= 0)
                {
                    throw new ArgumentException("Only one dimension of a view may be -1.");
                }
                inferred = i;
            }
            else
            {
                known = checked(known * resolved[i]);
            }
        }
        if (inferred >= 0)
        {
            if (known == 0 || length % known != 0)
            {
                throw new ArgumentException($"Cannot view {length} elements as {FormatShape(shape)}.");
            }
            resolved[inferred] = checked((int)(length / known));
        }
        if (CheckedLength(resolved) != length)
        {
            throw new ArgumentException($"Cannot view {length} elements as {FormatShape(shape)}.");
        }
        return resolved;
    }
}
