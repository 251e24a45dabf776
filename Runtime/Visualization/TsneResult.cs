namespace Dsl.Visualization;

/// <summary>What <see cref="Tsne.Fit(float[], int, int, TsneOptions?)"/> found.</summary>
/// <param name="Embedding"><c>[Count, 2]</c>, row-major: point i is at (<c>Embedding[2i]</c>, <c>Embedding[2i + 1]</c>).</param>
/// <param name="Count">Points.</param>
/// <param name="KlDivergence">The cost KL(P || Q) of the embedding returned (scikit-learn's <c>kl_divergence_</c> is the cost one step earlier).</param>
/// <param name="Iterations">Iterations run, both stages (fewer than asked when a stopping check ended the run).</param>
/// <param name="LearningRate">The step size used (the 'auto' rule's value when none was given).</param>
public sealed record TsneResult(float[] Embedding, int Count, double KlDivergence, int Iterations, double LearningRate);
