namespace Dsl;

/// <summary>
/// A convolution with the batch norm after it folded into its weights, for an evaluation forward (the generator's fusion,
/// <c>Generator/Emit/Fusion.cs</c>): with s = gamma / sqrt(running_var + eps) per output channel,
/// w' = w s and b' = (b - running_mean) s + beta, so one convolution computes what convolution and batch norm compute in
/// evaluation. Recomputed only when a parameter's <see cref="Parameter.Version"/> or the network's
/// <see cref="Module.StateVersion"/> changed since (an optimiser step, a training forward, a loaded state); the host
/// buffers are allocated once.
/// </summary>
public sealed class FoldedConv
{
    private readonly float[] _weight;
    private readonly float[] _bias;
    private readonly float[] _channels;
    private readonly float[] _scratch;
    private long _stamp = -1;

    /// <summary>Buffers for a convolution whose weight is <paramref name="weightShape"/> ([out, in/groups, kH, kW]).</summary>
    public FoldedConv(Device device, params int[] weightShape)
    {
        ArgumentNullException.ThrowIfNull(device);
        Weight = device.Allocate(DType.Float32, weightShape);
        Bias = device.Allocate(DType.Float32, weightShape[0]);
        _weight = new float[Weight.Length];
        _bias = new float[weightShape[0]];
        _channels = new float[weightShape[0]];
        _scratch = new float[weightShape[0]];
    }

    /// <summary>The folded weight w', the convolution weight's shape.</summary>
    public Tensor Weight { get; }

    /// <summary>The folded bias b' [out].</summary>
    public Tensor Bias { get; }

    /// <summary>How many times the folded weights were computed (for tests: a cache that never refreshes, or always does, shows here).</summary>
    public int Refreshes { get; private set; }

    /// <summary>
    /// Recomputes <see cref="Weight"/> and <see cref="Bias"/> when <paramref name="module"/>'s state or one of the parameters
    /// changed since the last call; otherwise does nothing.
    /// </summary>
    public void Refresh(Module module, Parameter weight, Parameter? bias, Parameter gamma, Parameter beta, Tensor runningMean, Tensor runningVar, float eps)
    {
        ArgumentNullException.ThrowIfNull(module);
        long stamp = module.StateVersion + weight.Version + (bias?.Version ?? 0) + gamma.Version + beta.Version;
        if (Volatile.Read(ref _stamp) == stamp)
        {
            return;
        }
        // The parts of a split evaluation forward (Module.RunEvaluationParts) arrive here at once: one folds, the others wait for it.
        lock (_weight)
        {
            if (_stamp != stamp)
            {
                Fold(weight, bias, gamma, beta, runningMean, runningVar, eps);
                Volatile.Write(ref _stamp, stamp);
                Refreshes++;
            }
        }
    }

    private void Fold(Parameter weight, Parameter? bias, Parameter gamma, Parameter beta, Tensor runningMean, Tensor runningVar, float eps)
    {
        var device = Weight.Device;
        int outChannels = _bias.Length;
        int per = _weight.Length / outChannels;
        device.Download(weight.Value, _weight);
        // s = gamma / sqrt(var + eps), kept in _channels; the shift b' in _bias.
        device.Download(runningVar, _scratch);
        device.Download(gamma.Value, _channels);
        for (int o = 0; o < outChannels; o++)
        {
            _channels[o] = (float)(_channels[o] / System.Math.Sqrt(_scratch[o] + (double)eps));
        }
        if (bias is not null)
        {
            device.Download(bias.Value, _bias);
        }
        else
        {
            System.Array.Clear(_bias);
        }
        device.Download(runningMean, _scratch);
        for (int o = 0; o < outChannels; o++)
        {
            _bias[o] = (_bias[o] - _scratch[o]) * _channels[o];
        }
        device.Download(beta.Value, _scratch);
        for (int o = 0; o < outChannels; o++)
        {
            _bias[o] += _scratch[o];
            System.Numerics.Tensors.TensorPrimitives.Multiply(_weight.AsSpan(o * per, per), _channels[o], _weight.AsSpan(o * per, per));
        }
        device.Upload(_weight, Weight);
        device.Upload(_bias, Bias);
    }
}
