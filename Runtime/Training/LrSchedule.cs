namespace Dsl;

/// <summary>
/// A learning-rate schedule over epochs, with PyTorch's <c>lr_scheduler</c> semantics: it sets the optimiser's
/// rate for epoch 0 when created, and <see cref="Step"/> after each epoch moves it to the next epoch's rate.
/// </summary>
public abstract class LrSchedule
{
    protected LrSchedule(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        BaseRate = optimizer.LearningRate;
    }

    public Optimizer Optimizer { get; }

    /// <summary>The optimiser's rate when the schedule was created.</summary>
    public float BaseRate { get; }

    /// <summary>Epochs completed so far.</summary>
    public int Epoch { get; private set; }

    /// <summary>Call after each epoch.</summary>
    public void Step()
    {
        Epoch++;
        Optimizer.LearningRate = RateAt(Epoch);
    }

    /// <summary>The rate for epoch <paramref name="epoch"/> (from 0).</summary>
    public abstract float RateAt(int epoch);
}

/// <summary>Cosine annealing from the base rate to <see cref="MinRate"/> over <see cref="Epochs"/> epochs (<c>CosineAnnealingLR</c>, Loshchilov and Hutter, 2017).</summary>
public sealed class CosineAnnealingLr : LrSchedule
{
    public CosineAnnealingLr(Optimizer optimizer, int epochs, float minRate = 0f)
        : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        Epochs = epochs;
        MinRate = minRate;
    }

    public int Epochs { get; }
    public float MinRate { get; }

    public override float RateAt(int epoch)
        => MinRate + (BaseRate - MinRate) * 0.5f * (1f + MathF.Cos(MathF.PI * Math.Min(epoch, Epochs) / Epochs));
}

/// <summary>Multiplies the rate by <see cref="Gamma"/> every <see cref="StepSize"/> epochs (<c>StepLR</c>).</summary>
public sealed class StepLr : LrSchedule
{
    public StepLr(Optimizer optimizer, int stepSize, float gamma = 0.1f)
        : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1);
        StepSize = stepSize;
        Gamma = gamma;
    }

    public int StepSize { get; }
    public float Gamma { get; }

    public override float RateAt(int epoch) => BaseRate * MathF.Pow(Gamma, epoch / StepSize);
}
