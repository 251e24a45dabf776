namespace Specs.Text;

/// <summary>Settings of the bag-of-words logistic regression; the defaults are the ones measured in the README note.</summary>
public sealed record BagOfWordsOptions
{
    /// <summary>Also use word pairs (bigrams) as features.</summary>
    public bool Bigrams { get; init; } = true;

    /// <summary>A feature must occur in at least this many training documents.</summary>
    public int MinDocumentFrequency { get; init; } = 2;

    /// <summary>L2 penalty (lambda / 2 * ||W||^2 per sample, as scikit-learn's SGD with <c>alpha</c>).</summary>
    public double L2 { get; init; } = 1e-5;

    /// <summary>SGD step size at the first epoch; it decays as 1 / (1 + epoch / 10).</summary>
    public double LearningRate { get; init; } = 0.5;

    /// <summary>Most epochs to train.</summary>
    public int MaxEpochs { get; init; } = 60;

    /// <summary>Stop after this many epochs without a better validation accuracy; the best epoch's weights are kept.</summary>
    public int Patience { get; init; } = 8;

    /// <summary>Decides the order of samples in every epoch.</summary>
    public int Seed { get; init; }
}
