using System.Runtime.CompilerServices;

namespace Dsl.Devices.Cpu.Gemm;

/// <summary>
/// A per-thread packing buffer: pinned once, 64-byte aligned, grown only when a larger product needs it,
/// so repeated products of one size allocate nothing after the first call.
/// </summary>
internal sealed unsafe class PackBuffer
{
    private float[] _array = [];
    private float* _aligned;

    /// <summary>A 64-byte aligned pointer to at least <paramref name="length"/> floats, valid while this buffer lives.</summary>
    public float* Get(int length)
    {
        if (_array.Length < length + 16)
        {
            _array = GC.AllocateUninitializedArray<float>(length + 16, pinned: true);
            nint start = (nint)Unsafe.AsPointer(ref _array[0]);
            _aligned = (float*)((start + 63) & ~(nint)63);
        }
        return _aligned;
    }
}
