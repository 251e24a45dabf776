using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Input faults found on the device (issue 11): an embedding id outside the table or a mask that is not 1s then 0s is
/// written to one record on the device instead of being read back at once, so a training step never waits for its
/// input checks. The optimiser kernels skip their update while the record holds a fault (as they do for a bad label,
/// <see cref="SkipStep"/>), and the next read from this device (a loss, <see cref="Synchronize"/>, any download) fetches
/// the record in the same wait and throws the error the CPU throws at once (<see cref="Device.EmbeddingIdError"/>,
/// <see cref="Device.MaskError"/>), then clears it.
/// </summary>
public sealed partial class GpuDevice
{
    /// <summary>[1 + the check that failed first (0: none), its flat position, the bad value (an id, or a mask value's bits)].</summary>
    private MemoryBuffer1D<long, Stride1D.Dense>? _inputFault;

    private readonly long[] _inputFaultHost = new long[InputFaultLength];

    private const int InputFaultLength = 3;

    /// <summary>The checks that may write the record, by their code - 1; each distinct check is listed once, so the list stays small.</summary>
    private readonly List<InputCheck> _inputChecks = [];

    private readonly Dictionary<InputCheck, int> _inputCheckCodes = [];

    /// <summary>An embedding's check (owner <see cref="Device.Embedding"/>, extent its rows) or a mask's (the owner, extent T).</summary>
    private readonly record struct InputCheck(bool Mask, string Owner, int Extent);

    /// <summary>The record on the device (zeroed when first made), read by the optimiser kernels.</summary>
    private ArrayView<long> InputFault
    {
        get
        {
            if (_inputFault is null)
            {
                _inputFault = Accelerator.Allocate1D<long>(InputFaultLength);
                _inputFault.View.MemSetToZero(Stream);
            }
            return _inputFault.View;
        }
    }

    private int InputCheckCode(InputCheck check)
    {
        if (!_inputCheckCodes.TryGetValue(check, out int code))
        {
            _inputChecks.Add(check);
            code = _inputChecks.Count;
            _inputCheckCodes.Add(check, code);
        }
        return code;
    }

    /// <summary>The embedding's status (1 + the first bad position) goes into the record, queued: nothing is read now.</summary>
    protected override bool DeferEmbeddingCheck(Tensor ids, Tensor weight, Tensor status)
    {
        const string op = nameof(ThrowIfEmbeddingFailed);
        int code = InputCheckCode(new InputCheck(false, nameof(Embedding), weight.Dims[0]));
        Kernel(nameof(EmbeddingFaultKernel), a => a.LoadStreamKernel<ArrayView<int>, ArrayView<long>, ArrayView<long>, int>(EmbeddingFaultKernel))(
            new KernelConfig(1, 1), I(status, op), L(ids, op), InputFault, code);
        return true;
    }

    /// <summary>The mask check's status (the first bad flat index, int.MaxValue when none) goes into the record, queued.</summary>
    private void RecordMaskFault(ArrayView<int> status, ArrayView<float> mask, string owner, int time)
    {
        int code = InputCheckCode(new InputCheck(true, owner, time));
        Kernel(nameof(MaskFaultKernel), a => a.LoadStreamKernel<ArrayView<int>, ArrayView<float>, ArrayView<long>, int>(MaskFaultKernel))(
            new KernelConfig(1, 1), status, mask, InputFault, code);
    }

    /// <summary>
    /// Drains the queue (one wait), fetching the input-fault record in the same wait when a check may have written it,
    /// and throws a recorded fault (clearing it, so training can go on with good inputs).
    /// </summary>
    private void Wait(bool wholeAccelerator = false)
    {
        bool watch = _inputFault is not null && _inputChecks.Count > 0;
        if (watch)
        {
            _inputFault!.View.CopyToCPU(Stream, _inputFaultHost);
        }
        if (wholeAccelerator)
        {
            Accelerator.Synchronize();
        }
        else
        {
            Stream.Synchronize();
        }
        SynchronizationCount++;
        if (watch && _inputFaultHost[0] != 0)
        {
            var (check, position, value) = (_inputChecks[(int)_inputFaultHost[0] - 1], _inputFaultHost[1], _inputFaultHost[2]);
            _inputFault!.View.MemSetToZero(Stream);
            throw check.Mask
                ? MaskError(check.Owner, position, check.Extent, BitConverter.Int32BitsToSingle((int)value))
                : EmbeddingIdError(value, position, check.Extent);
        }
    }

    /// <summary>One thread: the first fault since the last read wins; status[0] = 1 + the first bad position, 0 when none.</summary>
    internal static void EmbeddingFaultKernel(ArrayView<int> status, ArrayView<long> ids, ArrayView<long> fault, int code)
    {
        int bad = status[0];
        if (fault[0] == 0 && bad != 0)
        {
            fault[0] = code;
            fault[1] = bad - 1;
            fault[2] = ids[bad - 1];
        }
    }

    /// <summary>One thread: as <see cref="EmbeddingFaultKernel"/> for a mask whose status[0] is the first bad flat index (int.MaxValue when none).</summary>
    internal static void MaskFaultKernel(ArrayView<int> status, ArrayView<float> mask, ArrayView<long> fault, int code)
    {
        int bad = status[0];
        if (fault[0] == 0 && bad != int.MaxValue)
        {
            fault[0] = code;
            fault[1] = bad;
            fault[2] = (int)Interop.FloatAsInt(mask[bad]);
        }
    }
}
