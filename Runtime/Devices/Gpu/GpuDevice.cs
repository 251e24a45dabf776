using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

// The CPU accelerator emits a dynamic assembly that must see the internal kernel-argument structs.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("ILGPURuntime")]

namespace Dsl.Devices.Gpu;

/// <summary>
/// The ILGPU backend: every <see cref="Device"/> kernel as an ILGPU kernel, on CUDA, OpenCL or ILGPU's CPU
/// accelerator (which emulates GPU threads; fit for tests on tiny shapes only).
/// </summary>
/// <remarks>
/// Contexts are slow to create and kernels compile when loaded, so there is one device per accelerator kind,
/// created on first use, and each kernel is loaded once per device. Work is queued on the accelerator's
/// default stream; <see cref="Device.Download(Tensor, Span{float})"/> and <see cref="Synchronize"/> wait for it.
/// Instances are not thread-safe, as a GPU stream is not.
/// </remarks>
public sealed partial class GpuDevice : Device
{
    private static readonly object Gate = new();
    private static readonly Dictionary<int, GpuDevice> Cards = new();
    private static GpuDevice? _cpu;

    private readonly Context _context;
    private readonly Dictionary<string, Delegate> _kernels = new(StringComparer.Ordinal);
    private readonly MemoryBuffer1D<float, Stride1D.Dense>?[] _floatScratch = new MemoryBuffer1D<float, Stride1D.Dense>?[(int)FloatScratch.Count];
    private readonly MemoryBuffer1D<int, Stride1D.Dense>?[] _intScratch = new MemoryBuffer1D<int, Stride1D.Dense>?[(int)IntScratch.Count];
    private bool _disposed;

    private GpuDevice(Context context, Accelerator accelerator, string name)
    {
        _context = context;
        Accelerator = accelerator;
        Name = name;
    }

    /// <summary>The ILGPU accelerator this device launches on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>True for ILGPU's CPU accelerator (thread emulation), false for CUDA and OpenCL.</summary>
    public bool IsCpuAccelerator => Accelerator.AcceleratorType == AcceleratorType.CPU;

    public override string Name { get; }

    /// <summary>
    /// GPU number <paramref name="index"/>: CUDA devices first, then OpenCL devices of GPU type (an OpenCL platform may
    /// expose the CPU, as pocl and Intel's runtime do: <c>gpu</c> means a GPU). Cached per index: repeated calls return
    /// the same device until it is disposed. No GPU, or an index past the last, throws <see cref="NotSupportedException"/>
    /// listing what is present; ILGPU's CPU accelerator is never a fallback (<see cref="CreateCpuAccelerator"/>).
    /// </summary>
    public static Device Create(int index)
    {
        lock (Gate)
        {
            if (Cards.TryGetValue(index, out var cached) && !cached._disposed)
            {
                return cached;
            }
            var context = Context.Create(b => b.Default().EnableAlgorithms());
            Accelerator? accelerator = null;
            try
            {
                var gpus = Gpus(context);
                if (index < 0 || index >= gpus.Count)
                {
                    throw new NotSupportedException(gpus.Count == 0
                        ? "No GPU was found (no CUDA device, no OpenCL GPU). Use the CPU (Device.Cpu, \"cpu\"), or ILGPU's CPU "
                          + "accelerator (Device.GpuEmulator(), \"gpu:cpu\"), which emulates GPU threads and is only fit for tests."
                        : $"There is no GPU {index}: the GPUs are {Describe(gpus)}.");
                }
                accelerator = gpus[index].CreateAccelerator(context);
                var device = new GpuDevice(context, accelerator, $"gpu:{index} ({accelerator.Name}, {accelerator.AcceleratorType})");
                Cards[index] = device;
                return device;
            }
            catch
            {
                accelerator?.Dispose();
                context.Dispose();
                throw;
            }
        }
    }

    /// <summary>The GPUs <see cref="Create"/> can select, in index order, as <c>0: NVIDIA H100 (Cuda)</c>.</summary>
    public static IReadOnlyList<string> ListGpus()
    {
        using var context = Context.Create(b => b.Default());
        var gpus = Gpus(context);
        return gpus.Select((g, i) => $"{i}: {g.Name} ({g.AcceleratorType})").ToArray();
    }

    private static List<ILGPU.Runtime.Device> Gpus(Context context)
    {
        // ILGPU's device collections are enumerable by pattern only.
        var (cuda, openCl) = (new List<CudaDevice>(), new List<CLDevice>());
        foreach (var device in context.GetCudaDevices())
        {
            cuda.Add(device);
        }
        foreach (var device in context.GetCLDevices())
        {
            openCl.Add(device);
        }
        return CudaThenOpenCl<ILGPU.Runtime.Device, CudaDevice, CLDevice>(cuda, openCl, cl => cl.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU);
    }

    /// <summary>
    /// The order <c>--device gpu</c> picks from: every CUDA device first, then the OpenCL devices that are GPUs, so
    /// index 0 is CUDA when a CUDA device exists and OpenCL otherwise.
    /// </summary>
    internal static List<TGpu> CudaThenOpenCl<TGpu, TCuda, TOpenCl>(IEnumerable<TCuda> cuda, IEnumerable<TOpenCl> openCl, Func<TOpenCl, bool> isGpu)
        where TCuda : TGpu
        where TOpenCl : TGpu
    {
        var gpus = new List<TGpu>();
        foreach (var device in cuda)
        {
            gpus.Add(device);
        }
        foreach (var device in openCl)
        {
            if (isGpu(device))
            {
                gpus.Add(device);
            }
        }
        return gpus;
    }

    private static string Describe(List<ILGPU.Runtime.Device> gpus)
        => string.Join(", ", gpus.Select((g, i) => $"{i}: {g.Name} ({g.AcceleratorType})"));

    /// <summary>ILGPU's CPU accelerator (cached): runs the GPU kernels on emulated threads, for tests on machines without a GPU.</summary>
    public static Device CreateCpuAccelerator()
    {
        lock (Gate)
        {
            if (_cpu is { _disposed: false })
            {
                return _cpu;
            }
            var context = Context.Create(b => b.Default().EnableAlgorithms());
            try
            {
                var accelerator = context.CreateCPUAccelerator(0);
                _cpu = new GpuDevice(context, accelerator, "gpu (CPU accelerator)");
                return _cpu;
            }
            catch
            {
                context.Dispose();
                throw;
            }
        }
    }

    /// <summary>Releases the accelerator and its context; the next <c>Device.Gpu()</c> or <c>Device.GpuEmulator()</c> creates a fresh one.</summary>
    public override void Dispose()
    {
        lock (Gate)
        {
            if (!_disposed)
            {
                _disposed = true;
                foreach (var b in _floatScratch)
                {
                    b?.Dispose();
                }
                foreach (var b in _intScratch)
                {
                    b?.Dispose();
                }
                _correctCounter?.Dispose();
                _inputFault?.Dispose();
                _kernels.Clear();
                Accelerator.Dispose();
                _context.Dispose();
                foreach (var (index, card) in Cards)
                {
                    if (ReferenceEquals(card, this))
                    {
                        Cards.Remove(index);
                        break;
                    }
                }
                if (ReferenceEquals(_cpu, this))
                {
                    _cpu = null;
                }
            }
        }
        base.Dispose();
    }

    // ------------------------------------------------------------------ memory

    protected internal override Storage AllocateStorage(DType dtype, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new GpuStorage(this, dtype, length);
    }

    protected override void UploadCore(ReadOnlySpan<float> source, Tensor destination)
    {
        if (source.Length > 0)
        {
            F(destination, nameof(Upload)).CopyFromCPU(Stream, source);
        }
    }

    protected override void UploadCore(ReadOnlySpan<long> source, Tensor destination)
    {
        if (source.Length > 0)
        {
            L(destination, nameof(Upload)).CopyFromCPU(Stream, source);
        }
    }

    protected override void UploadCore(ReadOnlySpan<int> source, Tensor destination)
    {
        if (source.Length > 0)
        {
            I(destination, nameof(Upload)).CopyFromCPU(Stream, source);
        }
    }

    protected override void DownloadCore(Tensor source, Span<float> destination)
    {
        if (destination.Length > 0)
        {
            F(source, nameof(Download)).CopyToCPU(Stream, destination);
        }
        Wait();
    }

    protected override void DownloadCore(Tensor source, Span<long> destination)
    {
        if (destination.Length > 0)
        {
            L(source, nameof(Download)).CopyToCPU(Stream, destination);
        }
        Wait();
    }

    protected override void DownloadCore(Tensor source, Span<int> destination)
    {
        if (destination.Length > 0)
        {
            I(source, nameof(Download)).CopyToCPU(Stream, destination);
        }
        Wait();
    }

    public override void Synchronize() => Wait(wholeAccelerator: true);

    /// <summary>
    /// How many times this device has waited for the accelerator (downloads, <see cref="Synchronize"/>, workspace growth):
    /// each one stalls the queue on a real GPU, so tests hold a training step to the periodic loss read.
    /// </summary>
    public long SynchronizationCount { get; private set; }

    // ------------------------------------------------------------------ helpers for the kernel files

    private AcceleratorStream Stream => Accelerator.DefaultStream;

    /// <summary>The elements of a float32 tensor on this device, as a view of its storage.</summary>
    internal ArrayView1D<float, Stride1D.Dense> F(Tensor t, string op = "kernel")
    {
        var s = Storage(t, op);
        var b = s.Floats ?? throw new ArgumentException($"{op}: needs a float32 tensor, got {t.Describe()}.");
        return b.View.SubView(t.Offset, t.Length);
    }

    /// <summary>The elements of an int64 tensor on this device.</summary>
    internal ArrayView1D<long, Stride1D.Dense> L(Tensor t, string op = "kernel")
    {
        var s = Storage(t, op);
        var b = s.Longs ?? throw new ArgumentException($"{op}: needs an int64 tensor, got {t.Describe()}.");
        return b.View.SubView(t.Offset, t.Length);
    }

    /// <summary>The elements of an int32 tensor on this device.</summary>
    internal ArrayView1D<int, Stride1D.Dense> I(Tensor t, string op = "kernel")
    {
        var s = Storage(t, op);
        var b = s.Ints ?? throw new ArgumentException($"{op}: needs an int32 tensor, got {t.Describe()}.");
        return b.View.SubView(t.Offset, t.Length);
    }

    private GpuStorage Storage(Tensor t, string op)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (t.Storage is not GpuStorage s || !ReferenceEquals(s.Device, this))
        {
            throw new ArgumentException($"{op}: {t.Describe()} is not on {Name}; move it with .To(device).");
        }
        return s;
    }

    /// <summary>A kernel, loaded (compiled) on first use and cached for the life of this device.</summary>
    private TDelegate Kernel<TDelegate>(string name, Func<Accelerator, TDelegate> load)
        where TDelegate : Delegate
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // Locked so that two threads sharing the cached device never compile or register a kernel twice.
        lock (_kernels)
        {
            if (!_kernels.TryGetValue(name, out var kernel))
            {
                kernel = load(Accelerator);
                _kernels[name] = kernel;
            }
            return (TDelegate)kernel;
        }
    }

    private enum FloatScratch
    {
        RowValues,
        Columns,
        Product,
        ChannelSums,
        Partials,
        Count,
    }

    private enum IntScratch
    {
        RowFlags,
        Result,
        LabelCount,
        Count,
    }

    /// <summary>A workspace of at least <paramref name="length"/> floats, grown (never shrunk) and reused across calls.</summary>
    private ArrayView<float> Scratch(FloatScratch slot, long length) => Grow(_floatScratch, (int)slot, length);

    private ArrayView<int> Scratch(IntScratch slot, long length) => Grow(_intScratch, (int)slot, length);

    private ArrayView<T> Grow<T>(MemoryBuffer1D<T, Stride1D.Dense>?[] slots, int slot, long length)
        where T : unmanaged
    {
        var b = slots[slot];
        if (b is null || b.Length < length)
        {
            if (b is not null)
            {
                // Queued kernels may still read the old buffer.
                Accelerator.Synchronize();
                SynchronizationCount++;
                b.Dispose();
            }
            b = Accelerator.Allocate1D<T>(Math.Max(1, Math.Max(length, (b?.Length ?? 0) * 3 / 2)));
            slots[slot] = b;
        }
        return b.View.SubView(0, Math.Max(1, length));
    }

    /// <summary>True when there is nothing to launch: some backends reject empty grids.</summary>
    private static bool Empty(long count) => count <= 0;

    private static int Checked(long count, string op)
    {
        if (count > int.MaxValue)
        {
            throw new NotSupportedException($"{op}: {count} elements exceed the 2^31 threads one launch indexes.");
        }
        return (int)count;
    }
}
