namespace Dsl;

/// <summary>Base of the optimisers: the parameters they update and <see cref="ZeroGrad"/>.</summary>
public abstract class Optimizer
{
    protected Optimizer(IEnumerable<Parameter> parameters, float lr)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        if (Parameters.Count == 0)
        {
            throw new ArgumentException("An optimiser needs at least one parameter.", nameof(parameters));
        }
        CheckLearningRate(lr, nameof(lr));
        _learningRate = lr;
    }

    private float _learningRate;

    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The learning rate; schedules change it between steps. It must be finite and non-negative.</summary>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            CheckLearningRate(value, nameof(value));
            _learningRate = value;
        }
    }

    /// <summary>Number of <see cref="Step"/> calls so far.</summary>
    public int StepCount { get; private set; }

    /// <summary>
    /// Updates every parameter from its accumulated gradient, skipping frozen ones (<see cref="Parameter.RequiresGrad"/> false). While the last label loss computed on a parameter's device
    /// (<see cref="Loss.Nll"/>, <see cref="Loss.CrossEntropy"/>) has flagged a label outside the classes, the update is
    /// skipped and no parameter changes: the CPU throws in the loss already; a GPU cannot throw from a kernel, so its
    /// optimiser kernels read the loss's flag on the device (no wait for the GPU on the happy path) and the skipped step
    /// is reported by the next read of <see cref="LossResult.Value"/> on that device.
    /// </summary>
    public void Step()
    {
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            if (Parameters[i].RequiresGrad)
            {
                Update(i, Parameters[i]);
                Parameters[i].Changed();
            }
        }
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters)
        {
            p.Value.Device.Fill(p.Grad, 0f);
        }
    }

    /// <summary>Updates parameter <paramref name="index"/>; <see cref="StepCount"/> is already the 1-based step.</summary>
    protected abstract void Update(int index, Parameter parameter);

    /// <summary>The pending label loss's status ([loss, bad row + 1, skipped row + 1]) that guards an update on <paramref name="device"/>.</summary>
    protected static Tensor? LabelStatus(Device device) => device.PendingLabelLoss?.Scalars;

    private static void CheckLearningRate(float lr, string name)
    {
        if (!(lr >= 0f) || float.IsPositiveInfinity(lr))
        {
            throw new ArgumentOutOfRangeException(name, $"The learning rate must be finite and non-negative, got {lr}.");
        }
    }

    protected static void CheckRange(float value, float low, float high, string name)
    {
        if (!(value >= low && value <= high))
        {
            throw new ArgumentOutOfRangeException(name, $"{name} must lie in [{low}, {high}], got {value}.");
        }
    }
}

/// <summary>
/// Stochastic gradient descent with PyTorch's semantics (<c>torch.optim.SGD</c>): weight decay added to the
/// gradient, a momentum buffer initialised to the first gradient, dampening, and optional Nesterov momentum.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly Tensor?[] _buffers;

    public Sgd(IEnumerable<Parameter> parameters, float lr, float momentum = 0f, float dampening = 0f, float weightDecay = 0f, bool nesterov = false)
        : base(parameters, lr)
    {
        CheckRange(momentum, 0f, 1f, nameof(momentum));
        CheckRange(weightDecay, 0f, float.MaxValue, nameof(weightDecay));
        if (nesterov && (momentum <= 0f || dampening != 0f))
        {
            throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening.", nameof(nesterov));
        }
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        _buffers = new Tensor?[Parameters.Count];
    }

    public float Momentum { get; }
    public float Dampening { get; }
    public float WeightDecay { get; }
    public bool Nesterov { get; }

    protected override void Update(int index, Parameter parameter)
    {
        var device = parameter.Value.Device;
        bool first = false;
        if (Momentum != 0f && _buffers[index] is null)
        {
            // Zeroed, not left unspecified: a first step skipped for bad labels must not leave garbage behind.
            _buffers[index] = Tensor.Zeros(device, parameter.Shape);
            first = true;
        }
        device.SgdStep(parameter.Value, parameter.Grad, _buffers[index], LearningRate, Momentum, Dampening, WeightDecay, Nesterov, first, LabelStatus(device));
    }
}

/// <summary>
/// Adam (Kingma and Ba, 2015) with PyTorch's semantics (<c>torch.optim.Adam</c>; eps added after the bias-corrected
/// square root); <c>decoupledWeightDecay</c> gives AdamW (Loshchilov and Hutter, 2019).
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly Tensor[] _m;
    private readonly Tensor[] _v;

    public Adam(IEnumerable<Parameter> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0f, bool decoupledWeightDecay = false)
        : base(parameters, lr)
    {
        CheckRange(beta1, 0f, 0.999999f, nameof(beta1));
        CheckRange(beta2, 0f, 0.999999f, nameof(beta2));
        CheckRange(eps, 0f, float.MaxValue, nameof(eps));
        CheckRange(weightDecay, 0f, float.MaxValue, nameof(weightDecay));
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        DecoupledWeightDecay = decoupledWeightDecay;
        _m = Parameters.Select(p => Tensor.Zeros(p.Value.Device, p.Shape)).ToArray();
        _v = Parameters.Select(p => Tensor.Zeros(p.Value.Device, p.Shape)).ToArray();
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }
    public bool DecoupledWeightDecay { get; }

    protected override void Update(int index, Parameter parameter)
    {
        var device = parameter.Value.Device;
        device.AdamStep(parameter.Value, parameter.Grad, _m[index], _v[index], LearningRate, Beta1, Beta2, Eps, WeightDecay, DecoupledWeightDecay, StepCount, LabelStatus(device));
    }
}
