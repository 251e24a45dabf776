namespace Dsl.Training;

/// <summary>The loss a classifier's output calls for.</summary>
public enum LossKind
{
    /// <summary>Negative log-likelihood (<see cref="Loss.Nll"/>), for networks that end in LogSoftmax.</summary>
    Nll,

    /// <summary>Cross-entropy (<see cref="Loss.CrossEntropy"/>), for networks that output raw logits.</summary>
    CrossEntropy,
}
