namespace Dsl;

/// <summary>
/// The checks every public kernel method runs before it calls its backend core: written once here so both devices
/// reject the same calls with the same messages. They allocate nothing unless they throw (the messages are built
/// only on the failing path), so a steady-state training step stays allocation-free.
/// </summary>
public abstract partial class Device
{
    /// <summary>
    /// Requires <paramref name="t"/> to be on this device, of <paramref name="dtype"/>, and contiguous (every kernel
    /// reads its operands as flat ranges; a strided view must be copied first).
    /// </summary>
    protected void Operand(Tensor t, string op, string what, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(t, what);
        OnThisDevice(t, op, what);
        if (t.DType != dtype)
        {
            throw new ArgumentException($"{op}: {what} needs a {dtype} tensor, got {t.Describe()}.");
        }
        if (!t.IsContiguous)
        {
            throw new ArgumentException($"{op}: {what} {t.Describe()} is a non-contiguous view (strides {Tensor.FormatStrides(t.StrideSpan)}); call .Contiguous().");
        }
    }

    protected void OnThisDevice(Tensor t, string op, string what)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        t.ThrowIfStale(op);
        if (!ReferenceEquals(t.Device, this))
        {
            throw new ArgumentException($"{op}: {what} {t.Describe()} is not on {Name}; move it with .To(device).");
        }
    }

    protected static void SameLength(Tensor a, Tensor b, string op)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"{op}: {Tensor.FormatShape(a.Dims)} and {Tensor.FormatShape(b.Dims)} differ in size.");
        }
    }

    protected static void SameShape(Tensor a, Tensor b, string op, string aName, string bName)
    {
        if (!a.Dims.SequenceEqual(b.Dims))
        {
            throw new ArgumentException($"{op}: {aName} {Tensor.FormatShape(a.Dims)} and {bName} {Tensor.FormatShape(b.Dims)} differ in shape.");
        }
    }

    protected static void RequireLength(Tensor t, long length, string op, string what)
    {
        if (t.Length < length)
        {
            throw new ArgumentException($"{op}: {what} needs {length} elements but {t.Describe()} has {t.Length}.");
        }
    }

    /// <summary>Requires <paramref name="t"/> to hold exactly <paramref name="length"/> elements, naming the expected shape.</summary>
    protected static void Expect(Tensor t, long length, string op, string what, params ReadOnlySpan<int> shape)
    {
        if (t.Length != length)
        {
            throw new ArgumentException($"{op}: {what} should be {Tensor.FormatShape(shape)} ({length} elements) but is {t.Describe()} ({t.Length} elements).");
        }
    }

    /// <summary>A float32 operand that must be exactly <paramref name="shape"/>'s size.</summary>
    protected void FloatOperand(Tensor t, long length, string op, string what, params ReadOnlySpan<int> shape)
    {
        Operand(t, op, what, DType.Float32);
        Expect(t, length, op, what, shape);
    }

    /// <summary>
    /// The residual of a fused sum (<see cref="Conv2d"/>'s or <see cref="BatchNorm"/>'s): float32, y's size, and not y's
    /// memory. A backend without the fused kernel writes y first and adds the residual after, so a residual sharing y's
    /// memory would be read once overwritten.
    /// </summary>
    private void ResidualOperand(Tensor residual, Tensor y, long length, string op, params ReadOnlySpan<int> shape)
    {
        FloatOperand(residual, length, op, "residual", shape);
        if (ReferenceEquals(residual.Storage, y.Storage) && residual.Offset < y.Offset + y.Length && y.Offset < residual.Offset + residual.Length)
        {
            throw new ArgumentException($"{op}: the residual {residual.Describe()} shares memory with y {y.Describe()}; the shortcut needs a tensor of its own.");
        }
    }

    private void Elementwise3(Tensor a, Tensor b, Tensor y, string op)
    {
        Operand(a, op, "a", DType.Float32);
        Operand(b, op, "b", DType.Float32);
        Operand(y, op, "y", DType.Float32);
        SameLength(a, b, op);
        SameLength(a, y, op);
    }

    private static void WholeBlocks(Tensor y, long channels, int inner, string op)
    {
        long row = channels * inner;
        if (inner < 1 || row == 0 || y.Length % row != 0)
        {
            throw new ArgumentException($"{op}: {y} is not a whole number of [{channels},{inner}] blocks.");
        }
    }

    /// <summary>The number of rows of <paramref name="t"/> seen as [rows, last dimension]; the last dimension must not be empty.</summary>
    private static long RowsOfLastDim(Tensor t, string op)
    {
        if (t.Rank < 1 || t.Dims[^1] < 1)
        {
            throw new ArgumentException($"{op}: needs a tensor with a non-empty last dimension, got {Tensor.FormatShape(t.Dims)}.");
        }
        return t.Length / t.Dims[^1];
    }

    private void LabelLossOperands(Tensor scores, Tensor labels, Tensor loss, Tensor grad, string op)
    {
        Operand(scores, op, "scores", DType.Float32);
        Operand(labels, op, "labels", DType.Int64);
        Operand(loss, op, "loss", DType.Float32);
        Operand(grad, op, "grad", DType.Float32);
        long rows = RowsOfLastDim(scores, op);
        if (labels.Length != rows)
        {
            throw new ArgumentException($"{op}: needs one label per row: {rows} rows of {Tensor.FormatShape(scores.Dims)} but {labels.Length} labels.");
        }
        SameLength(scores, grad, op);
        RequireLength(loss, 1, op, "loss");
    }

    private void HostTransfer(int hostLength, Tensor t, DType dtype, string op)
    {
        Operand(t, op, "tensor", dtype);
        if (hostLength != t.Length)
        {
            throw new ArgumentException($"{op}: the host span has {hostLength} elements but {t.Describe()} has {t.Length}.");
        }
    }

    /// <summary>True once <see cref="Dispose"/> has run: every kernel call then throws <see cref="ObjectDisposedException"/>.</summary>
    public bool IsDisposed { get; private set; }
}
