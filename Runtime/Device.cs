namespace Dsl;

/// <summary>
/// The backend seam: memory and the kernels that generated networks, losses and optimisers call.
/// Two implementations: <see cref="Cpu"/> (SIMD, cache-blocked multi-threaded GEMM) and
/// <see cref="Gpu()"/> (ILGPU kernels on CUDA or OpenCL; <see cref="GpuEmulator"/> runs them on ILGPU's CPU accelerator for tests).
/// </summary>
/// <remarks>
/// Every kernel takes its inputs first and its outputs last, as <c>TensorPrimitives</c> does. Each public
/// kernel method is defined here, not in a backend: it validates once (shapes, lengths, dtypes, device,
/// contiguity, geometry; see <c>Device.Checks.cs</c> and <see cref="Conv2dGeometry.Validate"/>) and then
/// calls a <c>protected abstract ...Core</c> method that each backend implements, so both devices accept
/// and reject the same calls with the same messages. Scalar formulas both backends need live in one place
/// too (<see cref="ActivationMath"/>, <see cref="PoolMath"/>, <see cref="OptimizerMath"/>,
/// <see cref="StridedLayout"/>). Kernels read their operands as flat ranges, so a strided view is
/// rejected with a message to call <see cref="Tensor.Contiguous"/>. Kernels never allocate per call once
/// their workspaces have grown, and validation allocates only when it throws, so a training step
/// allocates nothing after the first batch. Families live one per file, with the same file names under
/// <c>Devices/Cpu</c> and <c>Devices/Gpu</c>.
/// </remarks>
public abstract partial class Device : IDisposable
{
    private static Device? _default;

    /// <summary>The CPU backend using every core.</summary>
    public static Device Cpu => Devices.Cpu.CpuDevice.Shared;

    /// <summary>A CPU backend limited to <paramref name="threads"/> threads (benchmarks compare thread counts).</summary>
    public static Device CpuWithThreads(int threads) => new Devices.Cpu.CpuDevice(threads);

    /// <summary>
    /// A real GPU: the first CUDA device, else the first OpenCL GPU. Throws <see cref="NotSupportedException"/> saying
    /// so when there is none; ILGPU's CPU accelerator (GPU threads emulated on the CPU, thousands of times slower) is
    /// never chosen silently: ask for it by name with <see cref="GpuEmulator"/> or <c>DSL_DEVICE=gpu:cpu</c>.
    /// </summary>
    public static Device Gpu() => Devices.Gpu.GpuDevice.Create(0);

    /// <summary>
    /// GPU number <paramref name="index"/> in the order of <see cref="GpuNames"/> (CUDA devices, then OpenCL GPUs);
    /// an index out of range throws, listing the cards present.
    /// </summary>
    public static Device Gpu(int index) => Devices.Gpu.GpuDevice.Create(index);

    /// <summary>
    /// The GPU kernels on ILGPU's CPU accelerator, which emulates GPU threads: for tests on tiny shapes on machines
    /// without a GPU (<c>gpu:cpu</c>).
    /// </summary>
    public static Device GpuEmulator() => Devices.Gpu.GpuDevice.CreateCpuAccelerator();

    /// <summary>The GPUs <see cref="Gpu(int)"/> can select, in index order (empty when there is none).</summary>
    public static IReadOnlyList<string> GpuNames => Devices.Gpu.GpuDevice.ListGpus();

    /// <summary>The name of the environment variable <see cref="Default"/> follows.</summary>
    public const string EnvironmentVariable = "DSL_DEVICE";

    /// <summary>
    /// The device named by the <c>DSL_DEVICE</c> environment variable (see <see cref="Parse"/>), the CPU when it is
    /// unset. The first use prints the choice once to stderr (<c>Dsl: device cpu (2 threads) (DSL_DEVICE unset)</c>).
    /// A name that is not a device, or <c>gpu</c> on a machine without one, throws <see cref="DeviceSelectionException"/>
    /// with a one-line message naming the variable.
    /// </summary>
    public static Device Default
    {
        get
        {
            lock (DefaultGate)
            {
                if (_default is null)
                {
                    string? name = Environment.GetEnvironmentVariable(EnvironmentVariable);
                    _default = FromEnvironment(name);
                    Console.Error.WriteLine(string.IsNullOrWhiteSpace(name)
                        ? $"Dsl: device {_default.Name} ({EnvironmentVariable} unset)"
                        : $"Dsl: device {_default.Name} ({EnvironmentVariable}={name.Trim()})");
                }
                return _default;
            }
        }
    }

    private static readonly object DefaultGate = new();

    /// <summary>What <see cref="Default"/> chooses for the variable's value <paramref name="value"/> (null or blank: the CPU).</summary>
    internal static Device FromEnvironment(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return Cpu;
        }
        try
        {
            return Parse(value);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            // An ArgumentException's message ends in " (Parameter 'name')": the variable's name says where it came from.
            string reason = e is ArgumentException { ParamName: { } p } ? e.Message.Replace($" (Parameter '{p}')", "", StringComparison.Ordinal) : e.Message;
            throw new DeviceSelectionException($"{EnvironmentVariable}={value.Trim()}: {reason}", e);
        }
    }

    /// <summary>
    /// Parses a device name: <c>cpu</c>, <c>cpu:THREADS</c>, <c>gpu</c> (CUDA or OpenCL; an error when neither is present),
    /// <c>gpu:INDEX</c> (one card of several) or <c>gpu:cpu</c> (the GPU kernels on ILGPU's CPU accelerator, for tests on
    /// tiny shapes).
    /// </summary>
    public static Device Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string n = name.Trim().ToLowerInvariant();
        if (n == "cpu")
        {
            return Cpu;
        }
        if (n.StartsWith("cpu:", StringComparison.Ordinal) && int.TryParse(n.AsSpan(4), out int threads) && threads > 0)
        {
            return CpuWithThreads(threads);
        }
        if (n == "gpu" || n == "cuda")
        {
            return Gpu();
        }
        if (n == "gpu:cpu")
        {
            return GpuEmulator();
        }
        if (n.StartsWith("gpu:", StringComparison.Ordinal) && int.TryParse(n.AsSpan(4), out int index) && index >= 0)
        {
            return Gpu(index);
        }
        throw new ArgumentException($"Unknown device '{name.Trim()}': use cpu, cpu:THREADS, gpu, gpu:INDEX or gpu:cpu.", nameof(name));
    }

    /// <summary>A human-readable name, for example <c>cpu (2 threads)</c> or <c>gpu (NVIDIA H100, Cuda)</c>.</summary>
    public abstract string Name { get; }

    public override string ToString() => Name;

    /// <summary>Releases the device; every later kernel call on it throws <see cref="ObjectDisposedException"/>.</summary>
    public virtual void Dispose()
    {
        IsDisposed = true;
        GC.SuppressFinalize(this);
    }

    // ------------------------------------------------------------------ memory

    /// <summary>A new tensor of the given type and shape; contents are unspecified.</summary>
    public Tensor Allocate(DType dtype, params int[] shape)
    {
        long length = Tensor.CheckedLength(shape);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        Storage storage;
        try
        {
            storage = AllocateStorage(dtype, length);
        }
        catch (OverflowException e)
        {
            throw new ArgumentOutOfRangeException($"Cannot allocate a tensor of shape {Tensor.FormatShape(shape)} ({length} {dtype} elements) on {Name}: more than one buffer of this device can hold.", e);
        }
        return new Tensor(storage, 0, (int[])shape.Clone());
    }

    /// <summary>Allocates <paramref name="length"/> elements of <paramref name="dtype"/>.</summary>
    protected internal abstract Storage AllocateStorage(DType dtype, long length);

    /// <summary>Copies host values into a contiguous tensor of the same length and element type.</summary>
    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        HostTransfer(source.Length, destination, DType.Float32, nameof(Upload));
        UploadCore(source, destination);
    }

    /// <inheritdoc cref="Upload(ReadOnlySpan{float}, Tensor)"/>
    public void Upload(ReadOnlySpan<long> source, Tensor destination)
    {
        HostTransfer(source.Length, destination, DType.Int64, nameof(Upload));
        UploadCore(source, destination);
    }

    /// <inheritdoc cref="Upload(ReadOnlySpan{float}, Tensor)"/>
    public void Upload(ReadOnlySpan<int> source, Tensor destination)
    {
        HostTransfer(source.Length, destination, DType.Int32, nameof(Upload));
        UploadCore(source, destination);
    }

    /// <summary>Copies a contiguous tensor's elements to host memory of the same length (waiting for queued work).</summary>
    public void Download(Tensor source, Span<float> destination)
    {
        HostTransfer(destination.Length, source, DType.Float32, nameof(Download));
        DownloadCore(source, destination);
    }

    /// <inheritdoc cref="Download(Tensor, Span{float})"/>
    public void Download(Tensor source, Span<long> destination)
    {
        HostTransfer(destination.Length, source, DType.Int64, nameof(Download));
        DownloadCore(source, destination);
    }

    /// <inheritdoc cref="Download(Tensor, Span{float})"/>
    public void Download(Tensor source, Span<int> destination)
    {
        HostTransfer(destination.Length, source, DType.Int32, nameof(Download));
        DownloadCore(source, destination);
    }

    protected abstract void UploadCore(ReadOnlySpan<float> source, Tensor destination);
    protected abstract void UploadCore(ReadOnlySpan<long> source, Tensor destination);
    protected abstract void UploadCore(ReadOnlySpan<int> source, Tensor destination);
    protected abstract void DownloadCore(Tensor source, Span<float> destination);
    protected abstract void DownloadCore(Tensor source, Span<long> destination);
    protected abstract void DownloadCore(Tensor source, Span<int> destination);

    /// <summary>Waits for queued work (GPU); a no-op on the CPU.</summary>
    public virtual void Synchronize()
    {
    }

    /// <summary>
    /// How many row parts an evaluation forward of <paramref name="rows"/> samples runs as, each part through every layer on
    /// a thread of its own (<see cref="Module"/>'s split evaluation): 1, the whole batch at once, unless a backend does better.
    /// </summary>
    internal virtual int EvaluationRowParts(int rows) => 1;

    /// <summary>
    /// Runs <paramref name="body"/>(part, start, count) for each of <paramref name="parts"/> contiguous parts of [0,
    /// <paramref name="rows"/>) (part p starts at rows*p/parts): one after another here; a backend with threads runs them at once.
    /// </summary>
    internal virtual void RunRowParts(int rows, int parts, Action<int, int, int> body) => RunRowParts(rows, parts, 0, parts, body);

    /// <summary>Parts [<paramref name="first"/>, <paramref name="end"/>) of <see cref="RunRowParts(int, int, Action{int, int, int})"/>, in order.</summary>
    internal static void RunRowParts(int rows, int parts, int first, int end, Action<int, int, int> body)
    {
        for (int p = first; p < end; p++)
        {
            int start = RowPartStart(rows, parts, p);
            body(p, start, RowPartStart(rows, parts, p + 1) - start);
        }
    }

    /// <summary>The first row of part <paramref name="part"/> of <paramref name="parts"/> over <paramref name="rows"/> rows.</summary>
    private static int RowPartStart(int rows, int parts, int part) => (int)((long)rows * part / parts);

    // ------------------------------------------------------------------ strided copy (Strided.cs)

    /// <summary>
    /// destination = source element by element, where <paramref name="source"/> may be any strided view (a transpose, a
    /// column block, a time step) and <paramref name="destination"/> is contiguous with the same shape and element type:
    /// the gather behind <see cref="Tensor.Contiguous"/>.
    /// </summary>
    public void CopyStrided(Tensor source, Tensor destination)
    {
        const string op = nameof(CopyStrided);
        OnThisDevice(source, op, "source");
        Operand(destination, op, "destination", source.DType);
        SameShape(source, destination, op, "source", "destination");
        if (source.Length == 0)
        {
            return;
        }
        var layout = StridedLayout.From(source, op);
        CopyStridedCore(source, layout, destination);
    }

    /// <summary>Gathers <paramref name="source"/> (described by <paramref name="layout"/>) into contiguous <paramref name="destination"/>.</summary>
    protected abstract void CopyStridedCore(Tensor source, in StridedLayout layout, Tensor destination);

    // ------------------------------------------------------------------ elementwise (Elementwise.cs)

    /// <summary>y[i] = value.</summary>
    public void Fill(Tensor y, float value)
    {
        Operand(y, nameof(Fill), "y", DType.Float32);
        FillCore(y, value);
    }

    /// <summary>y = x (same dtype and length).</summary>
    public void Copy(Tensor x, Tensor y)
    {
        const string op = nameof(Copy);
        Operand(x, op, "x", x.DType);
        Operand(y, op, "y", x.DType);
        SameLength(x, y, op);
        CopyCore(x, y);
    }

    /// <summary>y = a + b.</summary>
    public void Add(Tensor a, Tensor b, Tensor y)
    {
        Elementwise3(a, b, y, nameof(Add));
        AddCore(a, b, y);
    }

    /// <summary>y += alpha * x (BLAS axpy): gradient accumulation where a value has two consumers.</summary>
    public void Axpy(float alpha, Tensor x, Tensor y)
    {
        const string op = nameof(Axpy);
        Operand(x, op, "x", DType.Float32);
        Operand(y, op, "y", DType.Float32);
        SameLength(x, y, op);
        AxpyCore(alpha, x, y);
    }

    /// <summary>y = a * b elementwise.</summary>
    public void Mul(Tensor a, Tensor b, Tensor y)
    {
        Elementwise3(a, b, y, nameof(Mul));
        MulCore(a, b, y);
    }

    protected abstract void FillCore(Tensor y, float value);
    protected abstract void CopyCore(Tensor x, Tensor y);
    protected abstract void AddCore(Tensor a, Tensor b, Tensor y);
    protected abstract void AxpyCore(float alpha, Tensor x, Tensor y);
    protected abstract void MulCore(Tensor a, Tensor b, Tensor y);

    // ------------------------------------------------------------------ activations (Activations.cs)

    /// <summary>
    /// y = f(x) elementwise; <paramref name="alpha"/> is the slope of LeakyRelu, the scale of Elu or Softplus's beta
    /// (Softplus's threshold is PyTorch's default 20; see the overload that takes it).
    /// </summary>
    public void Activation(ActivationKind kind, float alpha, Tensor x, Tensor y)
        => Activation(kind, alpha, ActivationMath.DefaultSoftplusThreshold, x, y);

    /// <summary>
    /// y = f(x) elementwise with a second parameter: <paramref name="threshold"/> is Softplus's (PyTorch's <c>threshold</c>,
    /// above which beta*x counts as linear); the other kinds ignore it.
    /// </summary>
    public void Activation(ActivationKind kind, float alpha, float threshold, Tensor x, Tensor y)
    {
        const string op = nameof(Activation);
        ActivationMath.Require(kind, op);
        Operand(x, op, "x", DType.Float32);
        Operand(y, op, "y", DType.Float32);
        SameLength(x, y, op);
        ActivationCore(kind, alpha, threshold, x, y);
    }

    /// <summary>dx (+)= f'(x) * dy, using whichever of x and y the function needs.</summary>
    public void ActivationBackward(ActivationKind kind, float alpha, Tensor x, Tensor y, Tensor dy, Tensor dx, bool accumulate)
        => ActivationBackward(kind, alpha, ActivationMath.DefaultSoftplusThreshold, x, y, dy, dx, accumulate);

    /// <summary>dx (+)= f'(x) * dy with Softplus's <paramref name="threshold"/> (see <see cref="Activation(ActivationKind, float, float, Tensor, Tensor)"/>).</summary>
    public void ActivationBackward(ActivationKind kind, float alpha, float threshold, Tensor x, Tensor y, Tensor dy, Tensor dx, bool accumulate)
    {
        const string op = nameof(ActivationBackward);
        ActivationMath.Require(kind, op);
        Operand(x, op, "x", DType.Float32);
        Operand(y, op, "y", DType.Float32);
        Operand(dy, op, "dy", DType.Float32);
        Operand(dx, op, "dx", DType.Float32);
        SameLength(x, y, op);
        SameLength(x, dy, op);
        SameLength(dy, dx, op);
        ActivationBackwardCore(kind, alpha, threshold, x, y, dy, dx, accumulate);
    }

    /// <summary>
    /// A <c>Relu</c> layer's backward under <paramref name="rule"/>: dx (+)= the gradient <see cref="ReluBackwardMath.Gradient"/>
    /// passes, given the layer's input or output <paramref name="x"/> (positive at the same places) and <paramref name="dy"/>.
    /// <see cref="ReluBackwardRule.Standard"/> is the derivative, as <see cref="ActivationBackward(ActivationKind, float, Tensor, Tensor, Tensor, Tensor, bool)"/>
    /// computes it; the others are the saliency rules a network's <see cref="Module.ReluBackward"/> selects.
    /// </summary>
    public void ReluBackward(ReluBackwardRule rule, Tensor x, Tensor dy, Tensor dx, bool accumulate)
    {
        const string op = nameof(ReluBackward);
        ReluBackwardMath.Require(rule, op);
        Operand(x, op, "x", DType.Float32);
        Operand(dy, op, "dy", DType.Float32);
        Operand(dx, op, "dx", DType.Float32);
        SameLength(x, dy, op);
        SameLength(dy, dx, op);
        ReluBackwardCore(rule, x, dy, dx, accumulate);
    }

    protected abstract void ActivationCore(ActivationKind kind, float alpha, float threshold, Tensor x, Tensor y);
    protected abstract void ActivationBackwardCore(ActivationKind kind, float alpha, float threshold, Tensor x, Tensor y, Tensor dy, Tensor dx, bool accumulate);
    protected abstract void ReluBackwardCore(ReluBackwardRule rule, Tensor x, Tensor dy, Tensor dx, bool accumulate);

    // ------------------------------------------------------------------ dropout (Random.cs)

    /// <summary>
    /// Inverted dropout: mask[i] = keep ? 1/(1-p) : 0 with keep decided by <see cref="CounterRandom"/> from
    /// (<paramref name="seed"/>, i / <paramref name="group"/>), and y = x * mask. <paramref name="group"/> is 1 for
    /// <c>Dropout</c> and H*W for <c>Dropout2d</c> (whole channels). Both devices draw the same mask.
    /// </summary>
    public void Dropout(Tensor x, Tensor mask, Tensor y, float p, ulong seed, int group)
    {
        const string op = nameof(Dropout);
        Operand(x, op, "x", DType.Float32);
        Operand(mask, op, "mask", DType.Float32);
        Operand(y, op, "y", DType.Float32);
        SameLength(x, mask, op);
        SameLength(x, y, op);
        if (group < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(group), $"{op}: the group of elements sharing one draw must be at least 1, got {group}.");
        }
        if (!(p >= 0f && p <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), $"{op}: the drop probability must be in [0, 1], got {p}.");
        }
        DropoutCore(x, mask, y, p, seed, group);
    }

    protected abstract void DropoutCore(Tensor x, Tensor mask, Tensor y, float p, ulong seed, int group);

    // ------------------------------------------------------------------ GEMM (Gemm.cs)

    /// <summary>
    /// C[m,n] = alpha * op(A) * op(B) + beta * C with row-major, contiguous operands: op(A) is A[m,k] or,
    /// when <paramref name="transA"/>, A[k,m] transposed; op(B) is B[k,n] or, when <paramref name="transB"/>, B[n,k] transposed.
    /// </summary>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        const string op = nameof(Gemm);
        if (m < 0 || n < 0 || k < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(m), $"{op}: sizes must not be negative, got m={m}, n={n}, k={k}.");
        }
        Operand(a, op, "A", DType.Float32);
        Operand(b, op, "B", DType.Float32);
        Operand(c, op, "C", DType.Float32);
        RequireLength(a, (long)m * k, op, "A");
        RequireLength(b, (long)k * n, op, "B");
        RequireLength(c, (long)m * n, op, "C");
        GemmCore(transA, transB, m, n, k, alpha, a, b, beta, c);
    }

    /// <summary>y[o,c,i] += bias[c] with y seen as [outer, C, <paramref name="inner"/>]: Linear (inner 1) and Conv (inner H*W).</summary>
    public void AddBias(Tensor y, Tensor bias, int inner)
    {
        const string op = nameof(AddBias);
        Operand(y, op, "y", DType.Float32);
        Operand(bias, op, "bias", DType.Float32);
        WholeBlocks(y, bias.Length, inner, op);
        AddBiasCore(y, bias, inner);
    }

    /// <summary>db[c] (+)= sum over o, i of dy[o,c,i] with dy seen as [outer, C, <paramref name="inner"/>].</summary>
    public void BiasGrad(Tensor dy, Tensor db, int inner, bool accumulate)
    {
        const string op = nameof(BiasGrad);
        Operand(dy, op, "dy", DType.Float32);
        Operand(db, op, "db", DType.Float32);
        WholeBlocks(dy, db.Length, inner, op);
        BiasGradCore(dy, db, inner, accumulate);
    }

    protected abstract void GemmCore(bool transA, bool transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c);
    protected abstract void AddBiasCore(Tensor y, Tensor bias, int inner);
    protected abstract void BiasGradCore(Tensor dy, Tensor db, int inner, bool accumulate);

    // ------------------------------------------------------------------ softmax (Softmax.cs)

    /// <summary>Softmax (or log-softmax when <paramref name="log"/>) over the last dimension.</summary>
    public void Softmax(Tensor x, Tensor y, bool log)
    {
        const string op = nameof(Softmax);
        Operand(x, op, "x", DType.Float32);
        Operand(y, op, "y", DType.Float32);
        SameLength(x, y, op);
        RowsOfLastDim(x, op);
        SoftmaxCore(x, y, log);
    }

    /// <summary>
    /// dx (+)= the gradient through softmax given its output y: y*(dy - sum(dy*y)), or for log-softmax dy - exp(y)*sum(dy).
    /// </summary>
    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, bool log, bool accumulate)
    {
        const string op = nameof(SoftmaxBackward);
        Operand(y, op, "y", DType.Float32);
        Operand(dy, op, "dy", DType.Float32);
        Operand(dx, op, "dx", DType.Float32);
        SameLength(y, dy, op);
        SameLength(y, dx, op);
        RowsOfLastDim(y, op);
        SoftmaxBackwardCore(y, dy, dx, log, accumulate);
    }

    protected abstract void SoftmaxCore(Tensor x, Tensor y, bool log);
    protected abstract void SoftmaxBackwardCore(Tensor y, Tensor dy, Tensor dx, bool log, bool accumulate);

    // ------------------------------------------------------------------ losses (Losses.cs)

    /// <summary>
    /// Mean negative log-likelihood of int64 <paramref name="labels"/> under log-probabilities <paramref name="logp"/>,
    /// each row of the last dimension ([N,C], or [N,T,C] with labels [N,T]) one prediction. A row whose label is
    /// <paramref name="ignoreIndex"/> contributes nothing and the mean is over the other rows (PyTorch's
    /// <c>ignore_index</c>; all rows ignored gives NaN and a zero gradient, as PyTorch does).
    /// Writes loss[0] = the loss, loss[1] = 1 + the first row whose label is outside [0,C) and not ignored (0 when all
    /// are valid), and grad = d loss / d logp. A backend that runs synchronously may instead throw at once with the row
    /// and label (the CPU does); a GPU flags it in loss[1] and <see cref="LossResult.Value"/> throws when read.
    /// </summary>
    public void NllLoss(Tensor logp, Tensor labels, Tensor loss, Tensor grad, long ignoreIndex = Loss.DefaultIgnoreIndex)
    {
        LabelLossOperands(logp, labels, loss, grad, nameof(NllLoss));
        NllLossCore(logp, labels, loss, grad, ignoreIndex);
    }

    /// <summary>Cross-entropy of logits (log-softmax fused with NLL); same layouts and outputs as <see cref="NllLoss"/>.</summary>
    public void CrossEntropyLoss(Tensor logits, Tensor labels, Tensor loss, Tensor grad, long ignoreIndex = Loss.DefaultIgnoreIndex)
    {
        LabelLossOperands(logits, labels, loss, grad, nameof(CrossEntropyLoss));
        CrossEntropyLossCore(logits, labels, loss, grad, ignoreIndex);
    }

    /// <summary>Mean squared error over all elements: loss[0] and grad = 2 (x - target) / count.</summary>
    public void MseLoss(Tensor x, Tensor target, Tensor loss, Tensor grad)
    {
        const string op = nameof(MseLoss);
        Operand(x, op, "x", DType.Float32);
        Operand(target, op, "target", DType.Float32);
        Operand(loss, op, "loss", DType.Float32);
        Operand(grad, op, "grad", DType.Float32);
        SameLength(x, target, op);
        SameLength(x, grad, op);
        RequireLength(loss, 1, op, "loss");
        MseLossCore(x, target, loss, grad);
    }

    /// <summary>How many rows of <paramref name="scores"/> [N,C] have their arg-max equal to the label (first maximum wins).</summary>
    public long CountCorrect(Tensor scores, Tensor labels)
    {
        const string op = nameof(CountCorrect);
        Operand(scores, op, "scores", DType.Float32);
        Operand(labels, op, "labels", DType.Int64);
        long rows = RowsOfLastDim(scores, op);
        if (labels.Length != rows)
        {
            throw new ArgumentException($"{op}: needs one label per row: {rows} rows of {Tensor.FormatShape(scores.Dims)} but {labels.Length} labels.");
        }
        return CountCorrectCore(scores, labels);
    }

    /// <summary>
    /// Adds to <paramref name="counter"/>[0] (an int64 tensor on this device) how many rows of <paramref name="scores"/>
    /// [N,C] (or [N,T,C]) have their arg-max at the label (the rule of <see cref="CountCorrect"/>), without waiting for the
    /// device: evaluation calls it per batch and reads the counter once per epoch. A row whose label is
    /// <paramref name="ignoreIndex"/> (padding) counts for nothing, as in the loss; a counter of two elements also gets the
    /// rows that were counted in [1], the accuracy's denominator.
    /// </summary>
    public void AccumulateCorrect(Tensor scores, Tensor labels, Tensor counter, long ignoreIndex = Loss.DefaultIgnoreIndex)
    {
        const string op = nameof(AccumulateCorrect);
        Operand(scores, op, "scores", DType.Float32);
        Operand(labels, op, "labels", DType.Int64);
        Operand(counter, op, "counter", DType.Int64);
        if (counter.Length is not (1 or 2))
        {
            throw new ArgumentException($"{op}: the counter holds 1 element (correct) or 2 (correct, counted) but has {counter.Length}.");
        }
        long rows = RowsOfLastDim(scores, op);
        if (labels.Length != rows)
        {
            throw new ArgumentException($"{op}: needs one label per row: {rows} rows of {Tensor.FormatShape(scores.Dims)} but {labels.Length} labels.");
        }
        AccumulateCorrectCore(scores, labels, counter, ignoreIndex);
    }

    protected abstract void NllLossCore(Tensor logp, Tensor labels, Tensor loss, Tensor grad, long ignoreIndex);
    protected abstract void CrossEntropyLossCore(Tensor logits, Tensor labels, Tensor loss, Tensor grad, long ignoreIndex);
    protected abstract void MseLossCore(Tensor x, Tensor target, Tensor loss, Tensor grad);
    protected abstract long CountCorrectCore(Tensor scores, Tensor labels);
    protected abstract void AccumulateCorrectCore(Tensor scores, Tensor labels, Tensor counter, long ignoreIndex);

    // ------------------------------------------------------------------ optimisers (Optimizers.cs)

    /// <summary>One SGD step with PyTorch's semantics (weight decay, momentum buffer, dampening, Nesterov); see <see cref="OptimizerMath.Sgd"/>.</summary>
    public void SgdStep(Tensor param, Tensor grad, Tensor? momentumBuffer, float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep)
        => SgdStep(param, grad, momentumBuffer, lr, momentum, dampening, weightDecay, nesterov, firstStep, labelStatus: null);

    /// <summary>
    /// <see cref="SgdStep(Tensor, Tensor, Tensor?, float, float, float, float, bool, bool)"/> skipped when
    /// <paramref name="labelStatus"/> (a label loss's [loss, bad row + 1, skipped row + 1]) flags a bad label; the skip
    /// is recorded in its third element (see <see cref="Optimizer.Step"/>).
    /// </summary>
    public void SgdStep(Tensor param, Tensor grad, Tensor? momentumBuffer, float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep, Tensor? labelStatus)
    {
        const string op = nameof(SgdStep);
        Operand(param, op, "param", DType.Float32);
        Operand(grad, op, "grad", DType.Float32);
        SameLength(param, grad, op);
        if (momentum != 0f)
        {
            if (momentumBuffer is null)
            {
                throw new ArgumentNullException(nameof(momentumBuffer), $"{op}: momentum {momentum} needs a momentum buffer.");
            }
            Operand(momentumBuffer, op, "momentumBuffer", DType.Float32);
            SameLength(param, momentumBuffer, op);
        }
        var hyper = new SgdHyper(lr, momentum, dampening, weightDecay, nesterov, firstStep);
        if (labelStatus is null)
        {
            SgdStepCore(param, grad, momentum != 0f ? momentumBuffer : null, hyper);
        }
        else
        {
            LabelStatusOperand(labelStatus, op);
            SgdStepCore(param, grad, momentum != 0f ? momentumBuffer : null, hyper, labelStatus);
        }
    }

    /// <summary>One Adam step (AdamW when <paramref name="decoupledWeightDecay"/>) with bias correction for step <paramref name="step"/> (from 1); see <see cref="OptimizerMath.Adam"/>.</summary>
    public void AdamStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupledWeightDecay, int step)
        => AdamStep(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupledWeightDecay, step, labelStatus: null);

    /// <summary>
    /// <see cref="AdamStep(Tensor, Tensor, Tensor, Tensor, float, float, float, float, float, bool, int)"/> skipped when
    /// <paramref name="labelStatus"/> flags a bad label, as for <see cref="SgdStep(Tensor, Tensor, Tensor?, float, float, float, float, bool, bool, Tensor?)"/>.
    /// </summary>
    public void AdamStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupledWeightDecay, int step, Tensor? labelStatus)
    {
        const string op = nameof(AdamStep);
        Operand(param, op, "param", DType.Float32);
        Operand(grad, op, "grad", DType.Float32);
        Operand(m, op, "m", DType.Float32);
        Operand(v, op, "v", DType.Float32);
        SameLength(param, grad, op);
        SameLength(param, m, op);
        SameLength(param, v, op);
        if (step < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(step), $"{op}: steps count from 1, got {step}.");
        }
        var hyper = AdamHyper.Create(lr, beta1, beta2, eps, weightDecay, decoupledWeightDecay, step);
        if (labelStatus is null)
        {
            AdamStepCore(param, grad, m, v, hyper);
        }
        else
        {
            LabelStatusOperand(labelStatus, op);
            AdamStepCore(param, grad, m, v, hyper, labelStatus);
        }
    }

    /// <summary>
    /// The last label loss computed on this device (<see cref="Loss.Nll"/>, <see cref="Loss.CrossEntropy"/>): optimiser
    /// steps on this device are skipped while it flags a bad label.
    /// </summary>
    internal LossResult? PendingLabelLoss { get; set; }

    /// <summary>
    /// The SGD update guarded by a label loss's status. This default reads the status on the host, which costs nothing
    /// on a synchronous backend (the CPU throws in the loss already, so the flag is never set there); a GPU overrides
    /// it to read the flag in its kernel instead of waiting for the device.
    /// </summary>
    protected virtual void SgdStepCore(Tensor param, Tensor grad, Tensor? momentumBuffer, in SgdHyper h, Tensor labelStatus)
    {
        if (!SkipForBadLabels(labelStatus))
        {
            SgdStepCore(param, grad, momentumBuffer, h);
        }
    }

    /// <summary>The Adam update guarded by a label loss's status (see the SGD overload).</summary>
    protected virtual void AdamStepCore(Tensor param, Tensor grad, Tensor m, Tensor v, in AdamHyper h, Tensor labelStatus)
    {
        if (!SkipForBadLabels(labelStatus))
        {
            AdamStepCore(param, grad, m, v, h);
        }
    }

    /// <summary>True (recording the skip in element 2) when <paramref name="labelStatus"/> flags a bad label.</summary>
    private bool SkipForBadLabels(Tensor labelStatus)
    {
        Span<float> s = stackalloc float[LossResult.StatusLength];
        Download(labelStatus, s);
        if (s[1] == 0f)
        {
            return false;
        }
        s[2] = s[1];
        Upload(s, labelStatus);
        return true;
    }

    private void LabelStatusOperand(Tensor labelStatus, string op)
    {
        Operand(labelStatus, op, "labelStatus", DType.Float32);
        if (labelStatus.Length != LossResult.StatusLength)
        {
            throw new ArgumentException($"{op}: labelStatus needs {LossResult.StatusLength} elements (loss, bad row + 1, skipped row + 1) but {labelStatus.Describe()} has {labelStatus.Length}.");
        }
    }

    /// <summary>The SGD update of every element with <see cref="OptimizerMath.Sgd"/>; <paramref name="momentumBuffer"/> is null without momentum.</summary>
    protected abstract void SgdStepCore(Tensor param, Tensor grad, Tensor? momentumBuffer, in SgdHyper h);

    /// <summary>The Adam update of every element with <see cref="OptimizerMath.Adam"/> (bias corrections already in <paramref name="h"/>).</summary>
    protected abstract void AdamStepCore(Tensor param, Tensor grad, Tensor m, Tensor v, in AdamHyper h);
}
