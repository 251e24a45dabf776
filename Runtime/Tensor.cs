using System.Text;

namespace Dsl;

/// <summary>
/// An n-dimensional strided view of a <see cref="Dsl.Storage"/> on a <see cref="Device"/>: float32 for values,
/// int64 for indices. As in PyTorch, element (i0, i1, ...) lives at <c>Offset + i0*Strides[0] + i1*Strides[1] + ...</c>
/// of the storage, so <see cref="View"/>, <see cref="Narrow(int, int, int)"/>, <see cref="Select"/>,
/// <see cref="Transpose"/> and <see cref="Permute"/> share memory with their source. Kernels that need
/// contiguous (row-major, gap-free) memory reject other views with a message saying to call <see cref="Contiguous"/>.
/// </summary>
public sealed partial class Tensor
{
    private readonly int[] _shape;
    private readonly long[] _strides;

    /// <summary>A contiguous (row-major) view of <paramref name="shape"/> at <paramref name="offset"/>.</summary>
    internal Tensor(Storage storage, long offset, int[] shape)
        : this(storage, offset, shape, ContiguousStrides(shape))
    {
    }

    /// <summary>A strided view; every reachable element must lie inside <paramref name="storage"/>.</summary>
    internal Tensor(Storage storage, long offset, int[] shape, long[] strides)
    {
        long length = CheckedLength(shape);
        if (strides.Length != shape.Length)
        {
            throw new ArgumentException($"A view of shape {FormatShape(shape)} needs {shape.Length} strides, got {strides.Length}.");
        }
        // The farthest element reached (strides are never negative here), or nothing when the view is empty.
        long last = offset;
        for (int i = 0; i < shape.Length; i++)
        {
            if (strides[i] < 0)
            {
                throw new ArgumentException($"Negative stride {strides[i]} in a view of shape {FormatShape(shape)}.");
            }
            last += (long)Math.Max(shape[i] - 1, 0) * strides[i];
        }
        if (offset < 0 || (length > 0 && last >= storage.Length) || offset > storage.Length)
        {
            throw new ArgumentException($"A view of shape {FormatShape(shape)} with strides {FormatStrides(strides)} at offset {offset} does not fit a storage of {storage.Length}.");
        }
        Storage = storage;
        Offset = offset;
        _shape = shape;
        _strides = strides;
        Length = length;
        IsContiguous = ComputeContiguous(shape, strides);
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

    /// <summary>A copy of the strides in elements, one per dimension (PyTorch's <c>stride()</c>).</summary>
    public long[] Strides => (long[])_strides.Clone();

    /// <summary>The strides without copying them.</summary>
    internal ReadOnlySpan<long> StrideSpan => _strides;

    /// <summary>
    /// True when the elements are row-major without gaps, so the view is the storage range
    /// [<see cref="Offset"/>, <see cref="Offset"/> + <see cref="Length"/>) (PyTorch's <c>is_contiguous()</c>:
    /// strides of size-1 dimensions do not matter).
    /// </summary>
    public bool IsContiguous { get; }

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
        ThrowIfStale(nameof(ToArray));
        RequireDType(DType.Float32, nameof(ToArray));
        var result = new float[Length];
        Device.Download(Contiguous(), result);
        return result;
    }

    /// <summary>Copies the elements to a new host array (int64 tensors).</summary>
    public long[] ToInt64Array()
    {
        ThrowIfStale(nameof(ToInt64Array));
        RequireDType(DType.Int64, nameof(ToInt64Array));
        var result = new long[Length];
        Device.Download(Contiguous(), result);
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
        ThrowIfStale(nameof(To));
        if (ReferenceEquals(device, Device))
        {
            return this;
        }
        var t = device.Allocate(DType, _shape);
        CopyAcross(this, t);
        return t;
    }

    /// <summary>
    /// This tensor when it is contiguous, else a contiguous copy on the same device (PyTorch's <c>contiguous()</c>),
    /// made by the device's strided-copy kernel.
    /// </summary>
    public Tensor Contiguous()
    {
        if (IsContiguous)
        {
            return this;
        }
        var t = Device.Allocate(DType, _shape);
        Device.CopyStrided(this, t);
        return t;
    }

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="destination"/> (same number of elements, taken in row-major
    /// order), through the host when the devices differ. A non-contiguous source is gathered; the destination must be contiguous.
    /// </summary>
    public static void CopyAcross(Tensor source, Tensor destination)
    {
        source.ThrowIfStale(nameof(CopyAcross));
        destination.ThrowIfStale(nameof(CopyAcross));
        if (source.Length != destination.Length || source.DType != destination.DType)
        {
            throw new ArgumentException($"Cannot copy {source.DType}{FormatShape(source._shape)} into {destination.DType}{FormatShape(destination._shape)}.");
        }
        if (!destination.IsContiguous)
        {
            throw new ArgumentException($"CopyAcross: the destination {destination} is a non-contiguous view; copy into a contiguous tensor.");
        }
        if (ReferenceEquals(source.Device, destination.Device))
        {
            if (source.IsContiguous)
            {
                source.Device.Copy(source, destination);
            }
            else
            {
                source.Device.CopyStrided(source, SameShapeView(destination, source._shape));
            }
            return;
        }
        source = source.Contiguous();
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
    /// Works when the new shape can be expressed with strides over this layout (always for a contiguous tensor);
    /// otherwise it throws and says to use <see cref="Reshape"/> or <see cref="Contiguous"/>, as PyTorch does.
    /// </summary>
    public Tensor View(params int[] shape)
    {
        var resolved = ResolveShape(shape, Length);
        var strides = ViewStrides(resolved);
        if (strides is null)
        {
            throw new InvalidOperationException(
                $"View{FormatShape(resolved)}: {Describe()} with strides {FormatStrides(_strides)} is a non-contiguous view whose layout cannot be "
                + "seen with that shape; use .Reshape(...) (which copies when it must) or .Contiguous().View(...).");
        }
        return Derive(Offset, resolved, strides);
    }

    /// <summary>
    /// This tensor with another shape (PyTorch's <c>reshape</c>): a view when the layout allows one (see <see cref="View"/>),
    /// a contiguous copy on the same device otherwise.
    /// </summary>
    public Tensor Reshape(params int[] shape)
    {
        var resolved = ResolveShape(shape, Length);
        var strides = ViewStrides(resolved);
        return strides is null ? Contiguous().View(resolved) : Derive(Offset, resolved, strides);
    }

    /// <summary>
    /// Flattens dimensions <paramref name="startDim"/>..end into one, as <c>torch.flatten(x, startDim)</c>: a view when
    /// those dimensions are laid out contiguously among themselves, a copy otherwise.
    /// </summary>
    public Tensor Flatten(int startDim = 0)
    {
        if (Rank == 0)
        {
            return Reshape(1);
        }
        startDim = NormalizeDim(startDim, Rank);
        var shape = new int[startDim + 1];
        Array.Copy(_shape, shape, startDim);
        long rest = 1;
        for (int i = startDim; i < Rank; i++)
        {
            rest *= _shape[i];
        }
        shape[startDim] = checked((int)rest);
        return Reshape(shape);
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="dim"/> (a view).</summary>
    public Tensor Unsqueeze(int dim)
    {
        dim = NormalizeDim(dim, Rank + 1);
        var shape = new List<int>(_shape);
        var strides = new List<long>(_strides);
        // PyTorch's choice: the new dimension's stride is what a step over it would span.
        long stride = dim < Rank ? _strides[dim] * _shape[dim] : 1;
        shape.Insert(dim, 1);
        strides.Insert(dim, stride);
        return Derive(Offset, shape.ToArray(), strides.ToArray());
    }

    /// <summary>Removes dimension <paramref name="dim"/> when its size is 1 (as PyTorch, a no-op otherwise).</summary>
    public Tensor Squeeze(int dim)
    {
        dim = NormalizeDim(dim, Rank);
        if (_shape[dim] != 1)
        {
            return this;
        }
        return Without(dim);
    }

    /// <summary>Removes every dimension of size 1 (a view).</summary>
    public Tensor Squeeze()
    {
        var shape = new List<int>();
        var strides = new List<long>();
        for (int i = 0; i < Rank; i++)
        {
            if (_shape[i] != 1)
            {
                shape.Add(_shape[i]);
                strides.Add(_strides[i]);
            }
        }
        return Derive(Offset, shape.ToArray(), strides.ToArray());
    }

    /// <summary>
    /// Rows <paramref name="start"/>..<paramref name="start"/>+<paramref name="length"/> of the first dimension,
    /// sharing memory (PyTorch's <c>narrow(0, start, length)</c>): a batch slice, contiguous when this tensor is.
    /// </summary>
    public Tensor Narrow(int start, int length)
    {
        if (Rank == 0)
        {
            throw new InvalidOperationException("Cannot narrow a scalar tensor.");
        }
        return Narrow(0, start, length);
    }

    /// <summary>
    /// Elements <paramref name="start"/>..<paramref name="start"/>+<paramref name="length"/> of dimension
    /// <paramref name="dim"/>, sharing memory (PyTorch's <c>narrow</c>); on an inner dimension the view is not contiguous.
    /// </summary>
    public Tensor Narrow(int dim, int start, int length)
    {
        if (Rank == 0)
        {
            throw new InvalidOperationException("Cannot narrow a scalar tensor.");
        }
        dim = NormalizeDim(dim, Rank);
        if (start < 0 || length < 0 || (long)start + length > _shape[dim])
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Elements {start}..{(long)start + length} are outside dimension {dim} of size {_shape[dim]} in {FormatShape(_shape)}.");
        }
        var shape = (int[])_shape.Clone();
        shape[dim] = length;
        return Derive(length == 0 ? Offset : Offset + start * _strides[dim], shape, (long[])_strides.Clone());
    }

    /// <summary>
    /// Index <paramref name="index"/> of dimension <paramref name="dim"/>, without that dimension (PyTorch's
    /// <c>select</c>; <c>x.Select(1, t)</c> is <c>x[:, t, :]</c>); negative indices count from the end.
    /// </summary>
    public Tensor Select(int dim, int index)
    {
        dim = NormalizeDim(dim, Rank);
        int size = _shape[dim];
        int i = index < 0 ? index + size : index;
        if (i < 0 || i >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"Index {index} is outside dimension {dim} of size {size} in {FormatShape(_shape)}.");
        }
        return Narrow(dim, i, 1).Without(dim);
    }

    /// <summary>Dimensions <paramref name="dim0"/> and <paramref name="dim1"/> swapped (PyTorch's <c>transpose</c>): a view.</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        dim0 = NormalizeDim(dim0, Rank);
        dim1 = NormalizeDim(dim1, Rank);
        var shape = (int[])_shape.Clone();
        var strides = (long[])_strides.Clone();
        (shape[dim0], shape[dim1]) = (shape[dim1], shape[dim0]);
        (strides[dim0], strides[dim1]) = (strides[dim1], strides[dim0]);
        return Derive(Offset, shape, strides);
    }

    /// <summary>The dimensions reordered: dimension i of the result is dimension <c>dims[i]</c> of this tensor (a view).</summary>
    public Tensor Permute(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length != Rank)
        {
            throw new ArgumentException($"Permute needs {Rank} dimensions for {FormatShape(_shape)}, got {dims.Length}.", nameof(dims));
        }
        var seen = new bool[Rank];
        var shape = new int[Rank];
        var strides = new long[Rank];
        for (int i = 0; i < Rank; i++)
        {
            int d = NormalizeDim(dims[i], Rank);
            if (seen[d])
            {
                throw new ArgumentException($"Permute: dimension {d} appears twice in ({string.Join(",", dims)}).", nameof(dims));
            }
            seen[d] = true;
            shape[i] = _shape[d];
            strides[i] = _strides[d];
        }
        return Derive(Offset, shape, strides);
    }

    /// <summary>Row <paramref name="index"/> of the first dimension, without it (<c>x[index]</c>).</summary>
    [System.Runtime.CompilerServices.IndexerName("Row")]
    public Tensor this[int index] => Select(0, index);

    private Tensor Without(int dim)
    {
        var shape = new int[Rank - 1];
        var strides = new long[Rank - 1];
        for (int i = 0, j = 0; i < Rank; i++)
        {
            if (i != dim)
            {
                shape[j] = _shape[i];
                strides[j++] = _strides[i];
            }
        }
        return Derive(Offset, shape, strides);
    }

    /// <summary>A contiguous tensor's elements seen with <paramref name="shape"/> (same length).</summary>
    private static Tensor SameShapeView(Tensor contiguous, int[] shape)
        => contiguous._shape.AsSpan().SequenceEqual(shape) ? contiguous : new Tensor(contiguous.Storage, contiguous.Offset, (int[])shape.Clone());

    /// <summary>
    /// Strides that show this view's elements, in row-major order, with <paramref name="shape"/>; null when no strides can
    /// (PyTorch's <c>computeStride</c>): each run of this view's dimensions that is contiguous among itself may be split
    /// or merged freely, but a new dimension may not span two such runs.
    /// </summary>
    private long[]? ViewStrides(int[] shape)
    {
        var result = new long[shape.Length];
        if (Length == 0 || IsContiguous)
        {
            var c = ContiguousStrides(shape);
            return c;
        }
        int viewD = shape.Length - 1;
        long chunkBase = _strides[Rank - 1];
        long tensorElements = 1;
        long viewElements = 1;
        for (int d = Rank - 1; d >= 0; d--)
        {
            tensorElements *= _shape[d];
            // The end of a contiguous run: the next outer dimension does not continue it.
            if (d == 0 || (_shape[d - 1] != 1 && _strides[d - 1] != tensorElements * chunkBase))
            {
                while (viewD >= 0 && (viewElements < tensorElements || shape[viewD] == 1))
                {
                    result[viewD] = viewElements * chunkBase;
                    viewElements *= shape[viewD];
                    viewD--;
                }
                if (viewElements != tensorElements)
                {
                    return null;
                }
                if (d > 0)
                {
                    chunkBase = _strides[d - 1];
                    tensorElements = 1;
                    viewElements = 1;
                }
            }
        }
        return viewD == -1 ? result : null;
    }

    /// <summary>
    /// The shape, dtype and device, then the values as PyTorch prints them (<see cref="TensorFormat"/>): a grid with
    /// 4 decimals, scientific notation when the magnitudes need it, and <c>...</c> past 1,000 elements. Copies the
    /// values to the host (waiting for a GPU); error messages use the one-line <see cref="Describe"/> instead.
    /// </summary>
    public override string ToString()
    {
        ThrowIfStale(nameof(ToString));
        return TensorFormat.Format(this);
    }

    /// <summary>The one-line description errors use: <c>Tensor[64,10] Float32 on cpu (2 threads)</c>.</summary>
    public string Describe()
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

    /// <summary>Formats strides the way errors print them: <c>(12,1)</c>.</summary>
    internal static string FormatStrides(ReadOnlySpan<long> strides)
    {
        var sb = new StringBuilder("(");
        for (int i = 0; i < strides.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }
            sb.Append(strides[i].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.Append(')').ToString();
    }

    /// <summary>Row-major strides of <paramref name="shape"/>: the last dimension has stride 1.</summary>
    internal static long[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(shape[i], 1);
        }
        return strides;
    }

    private static bool ComputeContiguous(ReadOnlySpan<int> shape, ReadOnlySpan<long> strides)
    {
        long expected = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] == 0)
            {
                return true;
            }
            if (shape[i] != 1)
            {
                if (strides[i] != expected)
                {
                    return false;
                }
                expected *= shape[i];
            }
        }
        return true;
    }

    internal void RequireDType(DType dtype, string operation)
    {
        if (DType != dtype)
        {
            throw new InvalidOperationException($"{operation} needs a {dtype} tensor, got {Describe()}.");
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

    /// <summary>[n, ...<paramref name="sample"/>]: the shape of a batch of <paramref name="n"/> samples.</summary>
    internal static int[] BatchShape(int n, int[] sample)
    {
        var shape = new int[sample.Length + 1];
        shape[0] = n;
        sample.CopyTo(shape, 1);
        return shape;
    }

    internal static long CheckedLength(ReadOnlySpan<int> shape)
    {
        long n = 1;
        bool overflow = false;
        foreach (int s in shape)
        {
            if (s < 0)
            {
                throw new ArgumentException($"Negative size in shape {FormatShape(shape)}.");
            }
            // Keep scanning after an overflow: a negative size later in the shape is the clearer error.
            overflow |= s != 0 && n > long.MaxValue / s;
            n = overflow ? 0 : n * s;
        }
        if (overflow && !shape.Contains(0))
        {
            throw new ArgumentOutOfRangeException(nameof(shape), $"Shape {FormatShape(shape)} has more elements than a tensor can index (over 2^63).");
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
