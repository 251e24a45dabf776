namespace Dsl;

/// <summary>
/// Sums batch losses on the device, so a training loop can report them without waiting for the device after every
/// step (on a GPU, reading a loss each step stalls the queue; PyTorch's examples read one every log interval).
/// </summary>
public sealed class LossMeter
{
    private readonly Tensor _sum;
    private readonly float[] _host = new float[LossResult.StatusLength];

    public LossMeter(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        _sum = Tensor.Zeros(device, LossResult.StatusLength);
    }

    /// <summary>Losses added since the last <see cref="TakeMean"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Adds a batch's loss (and its bad-label and skipped-step flags) on the device; does not wait.</summary>
    public void Add(LossResult loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        _sum.Device.Axpy(1f, loss.Scalars, _sum);
        Count++;
    }

    /// <summary>The mean of the losses added since the last call (waits for the device), then starts over.</summary>
    public float TakeMean()
    {
        if (Count == 0)
        {
            throw new InvalidOperationException("No loss was added since the last reading.");
        }
        _sum.Device.Download(_sum, _host);
        if (_host[1] != 0f || _host[2] != 0f)
        {
            throw new ArgumentOutOfRangeException("labels", "A batch had a label outside the classes of the network's output.");
        }
        float mean = _host[0] / Count;
        _sum.Device.Fill(_sum, 0f);
        Count = 0;
        return mean;
    }
}
