namespace Dsl;

/// <summary>
/// The backend seam: memory and the kernels that generated networks, losses and optimisers call.
/// Two implementations: <see cref="Cpu"/> (SIMD, cache-blocked multi-threaded GEMM) and
/// <see cref="Gpu(bool)"/> (ILGPU kernels on CUDA, OpenCL, or ILGPU's CPU accelerator for tests).
/// </summary>
/// <remarks>
/// Every kernel takes its inputs first and its outputs last, as <c>TensorPrimitives</c> does, and
/// checks sizes before it runs. Kernels never allocate per call once their workspaces have grown,
/// so a training step allocates nothing after the first batch. Families live one per file, with
/// the same file names under <c>Devices/Cpu</c> and <c>Devices/Gpu</c>.
/// </remarks>
public abstract partial class Device : IDisposable
{
    private static Device? _default;

    /// <summary>The CPU backend using every core.</summary>
    public static Device Cpu => Devices.Cpu.CpuDevice.Shared;

    /// <summary>A CPU backend limited to <paramref name="threads"/> threads (benchmarks compare thread counts).</summary>
    public static Device CpuWithThreads(int threads) => new Devices.Cpu.CpuDevice(threads);

    /// <summary>
    /// The best ILGPU accelerator present: CUDA, then OpenCL, then (when <paramref name="allowCpuAccelerator"/>)
    /// ILGPU's CPU accelerator, which emulates GPU threads and is only fit for tests on tiny shapes.
    /// </summary>
    public static Device Gpu(bool allowCpuAccelerator = true) => Devices.Gpu.GpuDevice.CreateBest(allowCpuAccelerator);

    /// <summary>
    /// The device named by the <c>DSL_DEVICE</c> environment variable (see <see cref="Parse"/>), the CPU otherwise.
    /// </summary>
    public static Device Default
    {
        get
        {
            if (_default is null)
            {
                string? name = Environment.GetEnvironmentVariable("DSL_DEVICE");
                _default = string.IsNullOrWhiteSpace(name) ? Cpu : Parse(name);
            }
            return _default;
        }
    }

    /// <summary>
    /// Parses a device name: <c>cpu</c>, <c>cpu:THREADS</c>, <c>gpu</c> (CUDA or OpenCL; an error when neither is present)
    /// or <c>gpu:cpu</c> (the GPU kernels on ILGPU's CPU accelerator, for tests on tiny shapes).
    /// </summary>
    public static Device Parse(string name)
    {
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
            // A named GPU must be a real one: the CPU accelerator is thousands of times slower and only for tests.
            return Gpu(allowCpuAccelerator: false);
        }
        if (n == "gpu:cpu")
        {
            return Devices.Gpu.GpuDevice.CreateCpuAccelerator();
        }
        throw new ArgumentException($"Unknown device '{name}': use cpu, cpu:THREADS, gpu or gpu:cpu.", nameof(name));
    }

    /// <summary>A human-readable name, for example <c>cpu (2 threads)</c> or <c>gpu (NVIDIA H100, Cuda)</c>.</summary>
    public abstract string Name { get; }

    public override string ToString() => Name;

    public virtual void Dispose() => GC.SuppressFinalize(this);

    // ------------------------------------------------------------------ memory

    /// <summary>A new tensor of the given type and shape; contents are unspecified.</summary>
    public Tensor Allocate(DType dtype, params int[] shape)
    {
        long length = Tensor.CheckedLength(shape);
        return new Tensor(AllocateStorage(dtype, length), 0, (int[])shape.Clone());
    }

    /// <summary>Allocates <paramref name="length"/> elements of <paramref name="dtype"/>.</summary>
    protected internal abstract Storage AllocateStorage(DType dtype, long length);

    public abstract void Upload(ReadOnlySpan<float> source, Tensor destination);
    public abstract void Upload(ReadOnlySpan<long> source, Tensor destination);
    public abstract void Upload(ReadOnlySpan<int> source, Tensor destination);
    public abstract void Download(Tensor source, Span<float> destination);
    public abstract void Download(Tensor source, Span<long> destination);
    public abstract void Download(Tensor source, Span<int> destination);

    /// <summary>Waits for queued work (GPU); a no-op on the CPU.</summary>
    public virtual void Synchronize()
    {
    }

    // ------------------------------------------------------------------ elementwise (Elementwise.cs)

    /// <summary>y[i] = value.</summary>
    public abstract void Fill(Tensor y, float value);

    /// <summary>y = x (same dtype and length).</summary>
    public abstract void Copy(Tensor x, Tensor y);

    /// <summary>y = a + b.</summary>
    public abstract void Add(Tensor a, Tensor b, Tensor y);

    /// <summary>y += alpha * x (BLAS axpy): gradient accumulation where a value has two consumers.</summary>
    public abstract void Axpy(float alpha, Tensor x, Tensor y);

    /// <summary>y = a * b elementwise.</summary>
    public abstract void Mul(Tensor a, Tensor b, Tensor y);

    // ------------------------------------------------------------------ activations (Activations.cs)

    /// <summary>y = f(x) elementwise; <paramref name="alpha"/> is the slope of LeakyRelu or the scale of Elu.</summary>
    public abstract void Activation(ActivationKind kind, float alpha, Tensor x, Tensor y);

    /// <summary>dx (+)= f'(x) * dy, using whichever of x and y the function needs.</summary>
    public abstract void ActivationBackward(ActivationKind kind, float alpha, Tensor x, Tensor y, Tensor dy, Tensor dx, bool accumulate);

    // ------------------------------------------------------------------ dropout (Random.cs)

    /// <summary>
    /// Inverted dropout: mask[i] = keep ? 1/(1-p) : 0 with keep decided by <see cref="CounterRandom"/> from
    /// (<paramref name="seed"/>, i / <paramref name="group"/>), and y = x * mask. <paramref name="group"/> is 1 for
    /// <c>Dropout</c> and H*W for <c>Dropout2d</c> (whole channels). Both devices draw the same mask.
    /// </summary>
    public abstract void Dropout(Tensor x, Tensor mask, Tensor y, float p, ulong seed, int group);

    // ------------------------------------------------------------------ GEMM (Gemm.cs)

    /// <summary>
    /// C[m,n] = alpha * op(A) * op(B) + beta * C with row-major, contiguous operands: op(A) is A[m,k] or,
    /// when <paramref name="transA"/>, A[k,m] transposed; op(B) is B[k,n] or, when <paramref name="transB"/>, B[n,k] transposed.
    /// </summary>
    public abstract void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /// <summary>y[o,c,i] += bias[c] with y seen as [outer, C, <paramref name="inner"/>]: Linear (inner 1) and Conv (inner H*W).</summary>
    public abstract void AddBias(Tensor y, Tensor bias, int inner);

    /// <summary>db[c] (+)= sum over o, i of dy[o,c,i] with dy seen as [outer, C, <paramref name="inner"/>].</summary>
    public abstract void BiasGrad(Tensor dy, Tensor db, int inner, bool accumulate);

    // ------------------------------------------------------------------ softmax (Softmax.cs)

    /// <summary>Softmax (or log-softmax when <paramref name="log"/>) over the last dimension.</summary>
    public abstract void Softmax(Tensor x, Tensor y, bool log);

    /// <summary>
    /// dx (+)= the gradient through softmax given its output y: y*(dy - sum(dy*y)), or for log-softmax dy - exp(y)*sum(dy).
    /// </summary>
    public abstract void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, bool log, bool accumulate);

    // ------------------------------------------------------------------ losses (Losses.cs)

    /// <summary>
    /// Mean negative log-likelihood of int64 <paramref name="labels"/> [N] under log-probabilities <paramref name="logp"/> [N,C].
    /// Writes loss[0] = the loss, loss[1] = 1 + the first row whose label is outside [0,C) (0 when all are valid),
    /// and grad = d loss / d logp. A backend that runs synchronously may instead throw at once with the row and label
    /// (the CPU does); a GPU flags it in loss[1] and <see cref="LossResult.Value"/> throws when read.
    /// </summary>
    public abstract void NllLoss(Tensor logp, Tensor labels, Tensor loss, Tensor grad);

    /// <summary>Cross-entropy of logits [N,C] (log-softmax fused with NLL); same outputs as <see cref="NllLoss"/>.</summary>
    public abstract void CrossEntropyLoss(Tensor logits, Tensor labels, Tensor loss, Tensor grad);

    /// <summary>Mean squared error over all elements: loss[0] and grad = 2 (x - target) / count.</summary>
    public abstract void MseLoss(Tensor x, Tensor target, Tensor loss, Tensor grad);

    /// <summary>How many rows of <paramref name="scores"/> [N,C] have their arg-max equal to the label (first maximum wins).</summary>
    public abstract long CountCorrect(Tensor scores, Tensor labels);

    // ------------------------------------------------------------------ optimisers (Optimizers.cs)

    /// <summary>One SGD step with PyTorch's semantics (weight decay, momentum buffer, dampening, Nesterov).</summary>
    public abstract void SgdStep(Tensor param, Tensor grad, Tensor? momentumBuffer, float lr, float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep);

    /// <summary>One Adam step (AdamW when <paramref name="decoupledWeightDecay"/>) with bias correction for step <paramref name="step"/> (from 1).</summary>
    public abstract void AdamStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupledWeightDecay, int step);

    // ------------------------------------------------------------------ checks shared by every device

    protected static void SameLength(Tensor a, Tensor b, string op)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"{op}: {Tensor.FormatShape(a.Dims)} and {Tensor.FormatShape(b.Dims)} differ in size.");
        }
    }

    protected void OnThisDevice(Tensor t, string op)
    {
        if (!ReferenceEquals(t.Device, this))
        {
            throw new ArgumentException($"{op}: {t} is not on {Name}; move it with .To(device).");
        }
    }

    protected static void RequireLength(Tensor t, long length, string op, string what)
    {
        if (t.Length < length)
        {
            throw new ArgumentException($"{op}: {what} needs {length} elements but {t} has {t.Length}.");
        }
    }
}
