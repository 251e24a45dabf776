namespace Dsl;

/// <summary>
/// One <see cref="Backward"/> per <see cref="Forward"/>, as PyTorch allows one <c>backward()</c> per graph: gradients
/// accumulate, so a second call would silently double them.
/// </summary>
public abstract partial class Module
{
    private bool _backwardRan;

    /// <summary>
    /// A new Forward: the next Backward is allowed (called by <c>BeginForward</c>). A training forward moves batch norm's
    /// running statistics, so it also makes the evaluation's folded weights stale (<see cref="StateVersion"/>).
    /// </summary>
    private void ForwardRan()
    {
        _backwardRan = false;
        if (IsTraining)
        {
            StateChanged();
        }
    }

    /// <summary>Refuses a gradient on another device (called by <c>CheckGradient</c>).</summary>
    private void CheckGradientDevice(Tensor gradOutput)
    {
        if (!ReferenceEquals(gradOutput.Device, Device))
        {
            throw new ArgumentException(
                $"{NetworkName}.Backward: the gradient is on {gradOutput.Device.Name} but the network is on {Device.Name}; move it with gradOutput.To(net.Device).",
                nameof(gradOutput));
        }
    }

    /// <summary>
    /// Refuses a second Backward for the same Forward, then records this one: called once per Backward, after every
    /// output gradient passed <c>CheckGradient</c>, so a refused call does not count.
    /// </summary>
    protected void BeginBackward()
    {
        if (_backwardRan)
        {
            throw new InvalidOperationException(
                $"{NetworkName}.Backward was already called for the last Forward: gradients accumulate, so a second call would double them. "
                + "Run Forward again before each Backward (sum the losses' gradients first to back-propagate several).");
        }
        _backwardRan = true;
    }
}
