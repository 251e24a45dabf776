namespace Dsl.Visualization;

/// <summary>How <see cref="Tsne"/> starts the embedding.</summary>
public enum TsneInit
{
    /// <summary>The first two principal components, scaled so the first has standard deviation 1e-4 (scikit-learn's default).</summary>
    Pca,

    /// <summary>Seeded Gaussian noise of standard deviation 1e-4.</summary>
    Random,
}

/// <summary>
/// t-SNE's settings, with scikit-learn's defaults (<c>sklearn.manifold.TSNE</c>, version 1.2: perplexity 30, early
/// exaggeration 12 for 250 iterations at momentum 0.5, then momentum 0.8 up to 1,000 iterations, learning rate 'auto',
/// PCA initialisation). The output is always 2-D.
/// </summary>
public sealed record TsneOptions
{
    /// <summary>The effective number of neighbours each point's Gaussian covers; less than the number of points.</summary>
    public double Perplexity { get; init; } = 30;

    /// <summary>The factor P is multiplied by in the first <see cref="ExplorationIterations"/> iterations.</summary>
    public double EarlyExaggeration { get; init; } = 12;

    /// <summary>Iterations with early exaggeration and momentum 0.5.</summary>
    public int ExplorationIterations { get; init; } = 250;

    /// <summary>All iterations, the exploration included (scikit-learn's <c>n_iter</c>).</summary>
    public int Iterations { get; init; } = 1000;

    /// <summary>The step size; null for scikit-learn's 'auto', <c>max(N / EarlyExaggeration / 4, 50)</c>.</summary>
    public double? LearningRate { get; init; }

    /// <summary>Momentum during the exploration.</summary>
    public double ExplorationMomentum { get; init; } = 0.5;

    /// <summary>Momentum afterwards.</summary>
    public double Momentum { get; init; } = 0.8;

    /// <summary>The starting embedding.</summary>
    public TsneInit Init { get; init; } = TsneInit.Pca;

    /// <summary>Seeds the random initialisation (and nothing else: the rest is deterministic).</summary>
    public int Seed { get; init; }

    /// <summary>Threads for the neighbour search and the gradient; 0 for all cores. The result does not depend on it.</summary>
    public int Threads { get; init; }

    /// <summary>Stop once the KL divergence, checked every 50 iterations, has not improved for this many iterations.</summary>
    public int IterationsWithoutProgress { get; init; } = 300;

    /// <summary>Stop once the gradient's norm, checked every 50 iterations, is this small.</summary>
    public double MinGradNorm { get; init; } = 1e-7;

    /// <summary>The learning rate used for <paramref name="count"/> points.</summary>
    public double LearningRateFor(int count) => LearningRate ?? Math.Max(count / EarlyExaggeration / 4, 50);

    internal void Validate(int count)
    {
        if (!(EarlyExaggeration >= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(EarlyExaggeration), $"The early exaggeration must be 1 or more, got {EarlyExaggeration}.");
        }
        if (Iterations < 1 || ExplorationIterations < 0 || ExplorationIterations > Iterations)
        {
            throw new ArgumentOutOfRangeException(nameof(Iterations), $"Need 0 <= exploration iterations ({ExplorationIterations}) <= iterations ({Iterations}) and at least one iteration.");
        }
        if (!(LearningRateFor(count) > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), $"The learning rate must be positive, got {LearningRate}.");
        }
        if (Threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), $"Threads must be 0 (all cores) or more, got {Threads}.");
        }
    }
}
