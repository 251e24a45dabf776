using System.Runtime.InteropServices;

namespace Dsl.Devices.Cpu;

/// <summary>Host memory: one managed array per storage.</summary>
public sealed class CpuStorage : Storage
{
    internal CpuStorage(Device device, DType dtype, long length)
        : base(device, dtype, length)
    {
        int n = checked((int)length);
        switch (dtype)
        {
            case DType.Float32:
                Floats = GC.AllocateUninitializedArray<float>(n);
                break;
            case DType.Int64:
                Longs = GC.AllocateUninitializedArray<long>(n);
                break;
            default:
                Ints = GC.AllocateUninitializedArray<int>(n);
                break;
        }
    }

    internal float[]? Floats { get; }
    internal long[]? Longs { get; }
    internal int[]? Ints { get; }
}

/// <summary>
/// The default backend: SIMD kernels on <c>System.Numerics.Tensors.TensorPrimitives</c> and
/// <c>System.Runtime.Intrinsics</c>, a packed cache-blocked GEMM, work split over <see cref="Threads"/> threads.
/// </summary>
public sealed partial class CpuDevice : Device
{
    private static CpuDevice? _shared;

    public CpuDevice(int threads)
    {
        if (threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), "A CPU device needs at least one thread.");
        }
        Threads = threads;
    }

    private static readonly object s_sharedLock = new();

    /// <summary>
    /// The process's default CPU device, made on first use (and again after a dispose) under a lock: tests and user
    /// threads that ask for it at the same moment must get one device, or a tensor of one is "not on" the other.
    /// </summary>
    internal static CpuDevice Shared
    {
        get
        {
            var shared = Volatile.Read(ref _shared);
            if (shared is { IsDisposed: false })
            {
                return shared;
            }
            lock (s_sharedLock)
            {
                if (_shared is not { IsDisposed: false })
                {
                    Volatile.Write(ref _shared, new CpuDevice(Environment.ProcessorCount));
                }
                return _shared!;
            }
        }
    }

    /// <summary>How many threads kernels split their work over.</summary>
    public int Threads { get; }

    public override string Name => $"cpu ({Threads} thread{(Threads == 1 ? "" : "s")})";

    protected internal override Storage AllocateStorage(DType dtype, long length) => new CpuStorage(this, dtype, length);

    protected override void UploadCore(ReadOnlySpan<float> source, Tensor destination) => source.CopyTo(F(destination, "Upload"));
    protected override void UploadCore(ReadOnlySpan<long> source, Tensor destination) => source.CopyTo(L(destination, "Upload"));
    protected override void UploadCore(ReadOnlySpan<int> source, Tensor destination) => source.CopyTo(I(destination, "Upload"));
    protected override void DownloadCore(Tensor source, Span<float> destination) => F(source, "Download").CopyTo(destination);
    protected override void DownloadCore(Tensor source, Span<long> destination) => L(source, "Download").CopyTo(destination);
    protected override void DownloadCore(Tensor source, Span<int> destination) => I(source, "Download").CopyTo(destination);

    /// <summary>The elements of a float32 tensor on the CPU, as a span over its storage.</summary>
    public static Span<float> F(Tensor t, string op = "kernel")
    {
        var s = t.Storage as CpuStorage ?? throw new ArgumentException($"{op}: {t.Describe()} is not on the CPU; move it with .To(Device.Cpu).");
        var a = s.Floats ?? throw new ArgumentException($"{op}: needs a float32 tensor, got {t.Describe()}.");
        RequireContiguous(t, op);
        return a.AsSpan((int)t.Offset, (int)t.Length);
    }

    /// <summary>The elements of an int64 tensor on the CPU.</summary>
    public static Span<long> L(Tensor t, string op = "kernel")
    {
        var s = t.Storage as CpuStorage ?? throw new ArgumentException($"{op}: {t.Describe()} is not on the CPU; move it with .To(Device.Cpu).");
        var a = s.Longs ?? throw new ArgumentException($"{op}: needs an int64 tensor, got {t.Describe()}.");
        RequireContiguous(t, op);
        return a.AsSpan((int)t.Offset, (int)t.Length);
    }

    /// <summary>The elements of an int32 tensor on the CPU.</summary>
    public static Span<int> I(Tensor t, string op = "kernel")
    {
        var s = t.Storage as CpuStorage ?? throw new ArgumentException($"{op}: {t.Describe()} is not on the CPU; move it with .To(Device.Cpu).");
        var a = s.Ints ?? throw new ArgumentException($"{op}: needs an int32 tensor, got {t.Describe()}.");
        RequireContiguous(t, op);
        return a.AsSpan((int)t.Offset, (int)t.Length);
    }

    // The public kernels reject strided views in the base class; this guards the spans the CPU hands out elsewhere.
    private static void RequireContiguous(Tensor t, string op)
    {
        if (!t.IsContiguous)
        {
            throw new ArgumentException($"{op}: {t.Describe()} is a non-contiguous view; call .Contiguous().");
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, <paramref name="count"/>) on at most <see cref="Threads"/>
    /// threads, in contiguous chunks of at least <paramref name="minChunk"/> that the threads claim as they come free
    /// (<see cref="ForkJoin.RunBalanced"/>); inline when one chunk. The body must compute each item the same way whatever
    /// the chunks (every caller's items are independent: channels, planes, rows, samples).
    /// The delegate is allocated by the caller: hot kernels use the struct overload instead.
    /// </summary>
    internal void ParallelRange(int count, int minChunk, Action<int, int> body)
    {
        var job = new DelegateJob(body);
        ParallelRange(count, minChunk, ref job);
    }

    /// <summary>As above with a struct body (a local of the caller), which allocates nothing.</summary>
    internal void ParallelRange<T>(int count, int minChunk, ref T job) where T : struct, IRangeJob
        => ForkJoin.RunBalanced(count, minChunk, Threads, ref job);

    /// <summary>
    /// Samples per part of a split evaluation forward, at least. Fewer rows make the parts' layers too small to use the
    /// kernels well (a GEMM of a handful of rows), where splitting each layer over the threads does better.
    /// </summary>
    internal const int EvaluationRowsPerPart = 4;

    /// <summary>One part per thread, of at least <see cref="EvaluationRowsPerPart"/> samples.</summary>
    internal override int EvaluationRowParts(int rows)
        => Math.Clamp(rows / EvaluationRowsPerPart, 1, Math.Min(Threads, ForkJoin.MaxParts));

    /// <summary>The parts on the fork-join pool, one per thread; the kernels each part calls run inline on its thread.</summary>
    internal override void RunRowParts(int rows, int parts, Action<int, int, int> body)
    {
        var job = new RowPartJob(rows, parts, body);
        ForkJoin.Run(parts, parts, ref job);
    }

    private readonly struct RowPartJob(int rows, int parts, Action<int, int, int> body) : IRangeJob
    {
        public void Run(int start, int end) => RunRowParts(rows, parts, start, end, body);
    }

    private readonly struct DelegateJob(Action<int, int> body) : IRangeJob
    {
        public void Run(int start, int end) => body(start, end);
    }
}
