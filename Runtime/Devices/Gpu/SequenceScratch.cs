using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

// Workspaces of the sequence kernels that the caller does not provide (attention's per-step gradients, the partial sums
// of a norm): grown, never shrunk, and released with the accelerator, which owns every buffer it allocated.
public sealed partial class GpuDevice
{
    private MemoryBuffer1D<float, Stride1D.Dense>? _sequenceScratch;

    /// <summary>At least <paramref name="length"/> floats reused across the sequence kernels' calls.</summary>
    private ArrayView<float> SequenceScratch(long length)
    {
        var b = _sequenceScratch;
        if (b is null || b.Length < length)
        {
            if (b is not null)
            {
                // Queued kernels may still read the old buffer.
                Accelerator.Synchronize();
                b.Dispose();
            }
            b = Accelerator.Allocate1D<float>(Math.Max(1, Math.Max(length, (b?.Length ?? 0) * 3 / 2)));
            _sequenceScratch = b;
        }
        return b.View.SubView(0, Math.Max(1, length));
    }

    /// <summary>The row's length for a kernel: <paramref name="time"/> without lengths, else clipped by <see cref="SequenceMath.ValidLength"/>.</summary>
    private static int KernelLength(ArrayView<long> lengths, int hasLengths, int row, int time)
        => hasLengths != 0 ? SequenceMath.ValidLength(lengths[row], time) : time;

    /// <summary>The lengths' view, or a one-element stand-in when there are none (the kernel is told, through <paramref name="has"/>, not to read it).</summary>
    private ArrayView<long> LengthsView(Tensor? lengths, string op, out int has)
    {
        has = lengths is null ? 0 : 1;
        return lengths is null ? (_noLengths ??= Accelerator.Allocate1D<long>(1)).View : L(lengths, op);
    }

    private MemoryBuffer1D<long, Stride1D.Dense>? _noLengths;
}
