namespace Dsl;

/// <summary>
/// Base of every generated network: parameters, train/eval mode, input checks and dropout seeding.
/// The generator emits the constructor, <see cref="Forward"/>, <see cref="Backward"/> and a static
/// <c>Summary</c>; this class holds what every network shares.
/// </summary>
public abstract partial class Module
{
    private readonly List<Parameter> _parameters = new();
    private readonly List<NamedTensor> _buffers = new();
    private ulong _step;
    private Tensor?[] _inputGradients = Array.Empty<Tensor?>();

    protected Module(Device device, int seed)
    {
        ArgumentNullException.ThrowIfNull(device);
        Device = device;
        Seed = seed;
    }

    /// <summary>Where parameters and activations live and kernels run.</summary>
    public Device Device { get; }

    /// <summary>The seed that drew the initial weights and drives dropout.</summary>
    public int Seed { get; }

    /// <summary>The network's class name, used in error messages.</summary>
    public abstract string NetworkName { get; }

    /// <summary>Every trainable parameter in definition order, with PyTorch-style names.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>
    /// State that is saved with the parameters but not trained (PyTorch's buffers: batch norm's <c>running_mean</c> and
    /// <c>running_var</c>), in definition order.
    /// </summary>
    public IReadOnlyList<NamedTensor> Buffers => _buffers;

    /// <summary>Total number of trainable scalars.</summary>
    public long ParameterCount => _parameters.Sum(p => p.Length);

    /// <summary>True after <see cref="Train"/> (the default), false after <see cref="Eval"/>.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>
    /// When set, <see cref="Backward"/> also computes d loss / d input into <see cref="InputGradient"/>
    /// (saliency maps, adversarial examples); off by default because the first layer's input gradient costs a GEMM.
    /// </summary>
    public bool ComputeInputGradient { get; set; }

    /// <summary>The gradient with respect to the last input (the first, when there are several), when <see cref="ComputeInputGradient"/> is set.</summary>
    public Tensor? InputGradient
    {
        get => _inputGradients.Length > 0 ? _inputGradients[0] : null;
        protected set => SetInputGradient(0, value);
    }

    /// <summary>
    /// The gradient with respect to each input of the last <see cref="Forward"/>, in declaration order, when
    /// <see cref="ComputeInputGradient"/> is set (null for an input the output does not depend on).
    /// </summary>
    public IReadOnlyList<Tensor?> InputGradients => _inputGradients;

    /// <summary>Training mode: dropout drops, batch norm uses batch statistics.</summary>
    public void Train() => IsTraining = true;

    /// <summary>Evaluation mode: dropout is the identity, batch norm uses running statistics.</summary>
    public void Eval() => IsTraining = false;

    /// <summary>Clears every parameter's gradient (PyTorch's <c>zero_grad</c>).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters)
        {
            Device.Fill(p.Grad, 0f);
        }
    }

    /// <summary>
    /// Runs the network on a batch. The result views a buffer that the next <c>Forward</c> overwrites (buffers are reused
    /// so a training step allocates nothing): it is a fresh handle, and reading it after a later <c>Forward</c> throws
    /// <see cref="StaleTensorException"/>. Call <c>Clone()</c> or <c>ToArray()</c> on a result you keep.
    /// </summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>
    /// Back-propagates <paramref name="gradOutput"/> (d loss / d output of the last <see cref="Forward"/>) and adds
    /// each parameter's gradient to <see cref="Parameter.Grad"/>.
    /// </summary>
    public abstract void Backward(Tensor gradOutput);

    /// <summary>Registers a parameter; generated constructors call this in definition order.</summary>
    protected Parameter AddParameter(string name, Tensor value)
    {
        var p = new Parameter(name, value);
        _parameters.Add(p);
        return p;
    }

    /// <summary>Registers a buffer (non-trainable state); generated constructors call this in definition order.</summary>
    protected Tensor AddBuffer(string name, Tensor value)
    {
        _buffers.Add(new NamedTensor(name, value));
        return value;
    }

    /// <summary>The seed for parameter number <paramref name="index"/>.</summary>
    protected ulong ParameterSeed(int index) => CounterRandom.Derive((ulong)(uint)Seed, (ulong)index);

    /// <summary>A fresh seed for dropout site <paramref name="site"/> in the current training step.</summary>
    protected ulong DropoutSeed(int site) => CounterRandom.Derive(CounterRandom.Derive((ulong)(uint)Seed + 0x5EEDUL, _step), (ulong)site);

    /// <summary>
    /// Checks that <paramref name="input"/> is [N, ...<paramref name="sample"/>] on this network's device and returns N.
    /// Advances the dropout stream in training mode.
    /// </summary>
    protected int BeginForward(Tensor input, params int[] sample)
    {
        ArgumentNullException.ThrowIfNull(input);
        var dims = input.Dims;
        bool ok = dims.Length == sample.Length + 1 && input.DType == DType.Float32;
        for (int i = 0; ok && i < sample.Length; i++)
        {
            ok = dims[i + 1] == sample[i];
        }
        if (!ok)
        {
            string expected = "[N," + string.Join(",", sample) + "]";
            throw new ArgumentException(
                $"{NetworkName}.Forward expects input {expected} (float32) but received {Tensor.FormatShape(dims)} ({input.DType}).",
                nameof(input));
        }
        if (!ReferenceEquals(input.Device, Device))
        {
            throw new ArgumentException($"{NetworkName}.Forward: the input is on {input.Device.Name} but the network is on {Device.Name}; move it with input.To(net.Device).", nameof(input));
        }
        if (IsTraining)
        {
            _step++;
        }
        ForwardRan();
        OutputsOverwritten();
        return dims[0];
    }

    /// <summary>
    /// Checks input <paramref name="name"/> of a network with several inputs: [N, ...<paramref name="sample"/>] float32 on
    /// this network's device, with the batch size <paramref name="batch"/> bound from input <paramref name="batchFrom"/>.
    /// The error names the network, the input, the symbol and both sizes.
    /// </summary>
    protected void CheckInput(Tensor input, string name, int[] sample, int batch, string batchFrom)
    {
        ArgumentNullException.ThrowIfNull(input, name);
        CheckSample(input, name, sample);
        if (input.Dims[0] != batch)
        {
            throw new ArgumentException(
                $"{NetworkName}.Forward: input '{name}' has N = {input.Dims[0]} but input '{batchFrom}' has N = {batch}; every input shares the batch size N.",
                name);
        }
    }

    /// <summary>
    /// Checks the first input <paramref name="name"/> of a network with several inputs and returns N, the batch size every
    /// other input must share (<see cref="CheckInput(Tensor, string, int[], int, string)"/>). Advances the dropout stream in training mode.
    /// </summary>
    protected int BeginForward(Tensor input, string name, int[] sample)
    {
        ArgumentNullException.ThrowIfNull(input, name);
        CheckSample(input, name, sample);
        if (IsTraining)
        {
            _step++;
        }
        ForwardRan();
        OutputsOverwritten();
        return input.Dims[0];
    }

    /// <summary>
    /// Checks the first input <paramref name="name"/> of a network whose inputs have symbolic dimensions or another dtype
    /// than float32: [N, ...<paramref name="sample"/>] of <paramref name="dtype"/> on this network's device, where a
    /// negative entry of <paramref name="sample"/> is a symbol (any size; bound and compared by <see cref="CheckSize"/>).
    /// <paramref name="expected"/> is the declared shape with its symbols (<c>[N,T,16]</c>). Returns N and advances the
    /// dropout stream in training mode.
    /// </summary>
    protected int BeginForward(Tensor input, string name, DType dtype, int[] sample, string expected)
    {
        ArgumentNullException.ThrowIfNull(input, name);
        CheckSample(input, name, dtype, sample, expected);
        ForwardRan();
        OutputsOverwritten();
        if (IsTraining)
        {
            _step++;
        }
        return input.Dims[0];
    }

    /// <summary>
    /// Checks another input of a network with symbolic dimensions or typed inputs like <see cref="BeginForward(Tensor, string, DType, int[], string)"/>,
    /// and that it shares the batch size <paramref name="batch"/> bound from input <paramref name="batchFrom"/>.
    /// </summary>
    protected void CheckInput(Tensor input, string name, DType dtype, int[] sample, string expected, int batch, string batchFrom)
    {
        ArgumentNullException.ThrowIfNull(input, name);
        CheckSample(input, name, dtype, sample, expected);
        CheckSize(input, name, 0, "N", batch, batchFrom);
    }

    /// <summary>
    /// Checks that dimension <paramref name="axis"/> of input <paramref name="name"/> (0 is N) has the size
    /// <paramref name="bound"/> that symbol <paramref name="symbol"/> took from input <paramref name="boundFrom"/>.
    /// The error names the network, the input, the symbol and both sizes.
    /// </summary>
    protected void CheckSize(Tensor input, string name, int axis, string symbol, int bound, string boundFrom)
    {
        int size = input.Size(axis);
        if (size != bound)
        {
            throw new ArgumentException(
                $"{NetworkName}.Forward: input '{name}' has {symbol} = {size} but input '{boundFrom}' has {symbol} = {bound}; every input that declares {symbol} shares its size.",
                name);
        }
    }

    private void CheckSample(Tensor input, string name, DType dtype, int[] sample, string expected)
    {
        var dims = input.Dims;
        bool ok = dims.Length == sample.Length + 1 && input.DType == dtype;
        for (int i = 0; ok && i < sample.Length; i++)
        {
            ok = sample[i] < 0 || dims[i + 1] == sample[i];
        }
        if (!ok)
        {
            string type = dtype.ToString().ToLowerInvariant();
            throw new ArgumentException(
                $"{NetworkName}.Forward expects input '{name}' {expected} ({type}) but received {Tensor.FormatShape(dims)} ({input.DType.ToString().ToLowerInvariant()}).",
                name);
        }
        if (!ReferenceEquals(input.Device, Device))
        {
            throw new ArgumentException($"{NetworkName}.Forward: input '{name}' is on {input.Device.Name} but the network is on {Device.Name}; move it with {name}.To(net.Device).", name);
        }
    }

    /// <summary>
    /// Starts the gradient <paramref name="slot"/> of one output of a network with several outputs: a copy of the caller's
    /// <paramref name="gradient"/>, or zeros when it is null (the loss does not use that output). Nothing when the slot is
    /// null (the output's gradient only leads to an input whose gradient was not asked for).
    /// </summary>
    protected void SeedGradient(Tensor? gradient, Tensor? slot)
    {
        if (slot is null)
        {
            return;
        }
        if (gradient is null)
        {
            Device.Fill(slot, 0f);
        }
        else
        {
            Device.Copy(gradient, slot);
        }
    }

    /// <summary>Adds the caller's gradient of an output returned twice (<c>Outputs(a, a)</c>) to its slot.</summary>
    protected void AddGradient(Tensor? gradient, Tensor? slot)
    {
        if (gradient is not null && slot is not null)
        {
            Device.PassGradient(gradient, slot, accumulate: true);
        }
    }

    /// <summary>Records the gradient of input number <paramref name="index"/> (generated Backward calls this).</summary>
    protected void SetInputGradient(int index, Tensor? gradient)
    {
        if (_inputGradients.Length <= index)
        {
            Array.Resize(ref _inputGradients, index + 1);
        }
        _inputGradients[index] = gradient;
    }

    private void CheckSample(Tensor input, string name, int[] sample)
    {
        var dims = input.Dims;
        bool ok = dims.Length == sample.Length + 1 && input.DType == DType.Float32;
        for (int i = 0; ok && i < sample.Length; i++)
        {
            ok = dims[i + 1] == sample[i];
        }
        if (!ok)
        {
            throw new ArgumentException(
                $"{NetworkName}.Forward expects input '{name}' [N,{string.Join(",", sample)}] (float32) but received {Tensor.FormatShape(dims)} ({input.DType}).",
                name);
        }
        if (!ReferenceEquals(input.Device, Device))
        {
            throw new ArgumentException($"{NetworkName}.Forward: input '{name}' is on {input.Device.Name} but the network is on {Device.Name}; move it with {name}.To(net.Device).", name);
        }
    }

    /// <summary>
    /// Checks that the gradient given to <see cref="Backward"/> matches the last output and is on this device, and that
    /// this is the first Backward of that Forward (a network with one output).
    /// </summary>
    protected void BeginBackward(Tensor gradOutput, Tensor output)
    {
        CheckGradient(gradOutput, output);
        BeginBackward();
    }

    /// <summary>
    /// Checks one output's gradient (its shape and device) without recording a Backward: a network with several
    /// outputs checks each given gradient, then calls <see cref="BeginBackward()"/> once.
    /// </summary>
    protected void CheckGradient(Tensor gradOutput, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        if (!gradOutput.Dims.SequenceEqual(output.Dims))
        {
            throw new ArgumentException(
                $"{NetworkName}.Backward expects a gradient shaped like the last output {Tensor.FormatShape(output.Dims)} but received {Tensor.FormatShape(gradOutput.Dims)}.",
                nameof(gradOutput));
        }
        CheckGradientDevice(gradOutput);
    }
}
