namespace Dsl;

/// <summary>
/// Layer-level operations that generated code calls, composed from the device's kernels so both backends
/// share one definition of each layer's arithmetic.
/// </summary>
public abstract partial class Device
{
    private Tensor? _scratch;
    private Tensor? _scratchView;

    /// <summary>
    /// <c>nn.Linear</c> on the last dimension: y[r,:] = x[r,:] * w^T + b for every row r of x seen as [rows, in],
    /// with w [out, in] and b [out] (or null).
    /// </summary>
    public void Linear(Tensor x, Tensor w, Tensor? b, Tensor y)
    {
        var (rows, inF, outF) = LinearSizes(x, w, y, nameof(Linear));
        LinearCore(rows, inF, outF, x, w, b, y);
    }

    /// <summary>
    /// <see cref="Linear"/> once its operands are checked: the product, then the bias. A backend overrides it for shapes a
    /// general GEMM serves badly (one sample's row times a small weight: packing the weight costs more than the product).
    /// </summary>
    protected virtual void LinearCore(int rows, int inF, int outF, Tensor x, Tensor w, Tensor? b, Tensor y)
    {
        Gemm(false, true, rows, outF, inF, 1f, x, w, 0f, y);
        if (b is not null)
        {
            AddBias(y, b, 1);
        }
    }

    /// <summary>
    /// Gradients of <see cref="Linear"/>: dw += dy^T x, db += column sums of dy (parameter gradients accumulate, as in
    /// PyTorch), and dx = dy w (or += when <paramref name="accumulateDx"/>), skipped when <paramref name="dx"/> is null; dw and
    /// db are skipped when null (a frozen layer's).
    /// </summary>
    public void LinearBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, bool accumulateDx)
    {
        var (rows, inF, outF) = LinearSizes(x, w, dy, nameof(LinearBackward));
        if (dw is not null)
        {
            Gemm(true, false, outF, inF, rows, 1f, dy, x, 1f, dw);
        }
        if (db is not null)
        {
            BiasGrad(dy, db, 1, accumulate: true);
        }
        if (dx is not null)
        {
            SameLength(x, dx, nameof(LinearBackward));
            Gemm(false, false, rows, inF, outF, 1f, dy, w, accumulateDx ? 1f : 0f, dx);
        }
    }

    /// <summary>
    /// Gradient of dropout: dx (+)= dy * mask, with the mask of the forward pass; a null mask (evaluation mode) passes dy through.
    /// </summary>
    public void DropoutBackward(Tensor dy, Tensor? mask, Tensor dx, bool accumulate)
    {
        if (mask is null)
        {
            PassGradient(dy, dx, accumulate);
            return;
        }
        MulGradient(dy, mask, dx, accumulate);
    }

    /// <summary>
    /// One operand's gradient of y = a * b: dx (+)= dy * <paramref name="other"/> (the other operand; dropout's scaled mask).
    /// </summary>
    public void MulGradient(Tensor dy, Tensor other, Tensor dx, bool accumulate)
    {
        if (!accumulate)
        {
            Mul(dy, other, dx);
            return;
        }
        var tmp = Scratch(dy.Length);
        Mul(dy, other, tmp);
        Axpy(1f, tmp, dx);
    }

    /// <summary>dx = dy, or dx += dy when <paramref name="accumulate"/>: the gradient of a reshape or of one operand of a sum.</summary>
    public void PassGradient(Tensor dy, Tensor dx, bool accumulate)
    {
        if (accumulate)
        {
            Axpy(1f, dy, dx);
        }
        else
        {
            Copy(dy, dx);
        }
    }

    /// <summary>
    /// A grow-only float workspace viewed as a vector of <paramref name="length"/> elements; the view is cached, so a
    /// training step that asks for the same length every time allocates nothing.
    /// </summary>
    protected Tensor Scratch(long length)
    {
        if (_scratch is null || _scratch.Length < length)
        {
            _scratch = Allocate(DType.Float32, checked((int)Math.Max(length, 1)));
            _scratchView = null;
        }
        if (_scratchView is null || _scratchView.Length != length)
        {
            _scratchView = _scratch.Length == length ? _scratch : new Tensor(_scratch.Storage, 0, new[] { (int)length });
        }
        return _scratchView;
    }

    private static (int Rows, int In, int Out) LinearSizes(Tensor x, Tensor w, Tensor y, string op)
    {
        if (w.Rank != 2)
        {
            throw new ArgumentException($"{op}: the weight must be [out, in], got {Tensor.FormatShape(w.Dims)}.");
        }
        int outF = w.Dims[0], inF = w.Dims[1];
        if (x.Rank < 1 || x.Dims[^1] != inF || y.Rank < 1 || y.Dims[^1] != outF || x.Length / inF != y.Length / outF)
        {
            throw new ArgumentException($"{op}: a weight [{outF},{inF}] maps [...,{inF}] to [...,{outF}], but got {Tensor.FormatShape(x.Dims)} and {Tensor.FormatShape(y.Dims)}.");
        }
        return ((int)(x.Length / inF), inF, outF);
    }
}
