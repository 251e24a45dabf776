using Dsl;
using Dsl.Training;

namespace Specs.Cli;

/// <summary>The optimiser a recipe trains with.</summary>
public enum OptimizerKind
{
    /// <summary>SGD with (optional) momentum.</summary>
    Sgd,

    /// <summary>Adam.</summary>
    Adam,
}

/// <summary>How a network is trained by default; every field can be overridden on the command line.</summary>
/// <param name="Optimizer">SGD or Adam.</param>
/// <param name="LearningRate">The learning rate.</param>
/// <param name="Momentum">SGD's momentum (ignored by Adam).</param>
/// <param name="BatchSize">Samples per step.</param>
/// <param name="Epochs">Passes over the training set.</param>
/// <param name="Loss">NLL for LogSoftmax outputs, cross-entropy for logits.</param>
public sealed record Recipe(OptimizerKind Optimizer, float LearningRate, float Momentum, int BatchSize, int Epochs, LossKind Loss)
{
    /// <summary>The learning-rate schedule over the epochs: <c>none</c> (constant) or <c>cosine</c> (annealed to 0).</summary>
    public string Schedule { get; init; } = "none";

    /// <summary>Clip the gradients' global 2-norm to this after every backward pass (<c>clip_grad_norm_</c>), or null.</summary>
    public float? ClipGradNorm { get; init; }

    /// <summary>
    /// Weight decay: decoupled for Adam (PyTorch's <c>AdamW(weight_decay=)</c>), an L2 term added to the gradient for SGD
    /// (<c>SGD(weight_decay=)</c>); 0 for none.
    /// </summary>
    public float WeightDecay { get; init; }

    /// <summary>The optimiser the recipe asks for, over <paramref name="net"/>'s parameters.</summary>
    public Optimizer CreateOptimizer(Module net) => Optimizer switch
    {
        OptimizerKind.Sgd => new Sgd(net.Parameters, LearningRate, Momentum, weightDecay: WeightDecay),
        OptimizerKind.Adam => new Adam(net.Parameters, LearningRate, weightDecay: WeightDecay, decoupledWeightDecay: WeightDecay > 0f),
        _ => throw new InvalidOperationException($"Unknown optimizer {Optimizer}."),
    };

    /// <summary>The learning-rate schedule the recipe asks for, over <see cref="Epochs"/>, or null for a constant rate.</summary>
    public LrSchedule? CreateSchedule(Optimizer optimizer) => Schedule switch
    {
        "none" => null,
        "cosine" => new CosineAnnealingLr(optimizer, Epochs),
        _ => throw new InvalidOperationException($"Unknown schedule '{Schedule}'."),
    };

    /// <summary>The course's MNIST recipe: SGD lr 0.01 momentum 0.5, batch 64, 10 epochs, NLL.</summary>
    public static Recipe CourseSgd { get; } = new(OptimizerKind.Sgd, 0.01f, 0.5f, 64, 10, LossKind.Nll);

    public override string ToString() => FormattableString.Invariant(
        $"{(Optimizer == OptimizerKind.Sgd ? $"sgd lr {LearningRate} momentum {Momentum}" : $"adam lr {LearningRate}")}, batch {BatchSize}, {Epochs} epochs, {(Loss == LossKind.Nll ? "nll" : "cross-entropy")}{(Schedule == "none" ? "" : ", " + Schedule + " schedule")}{(ClipGradNorm is { } clip ? $", gradient norm clipped to {clip}" : "")}{(WeightDecay > 0f ? $", weight decay {WeightDecay}" : "")}");
}
