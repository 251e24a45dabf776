namespace Dsl.Visualization;

/// <summary>
/// t-distributed stochastic neighbour embedding of the rows of a features matrix into 2-D, as scikit-learn implements
/// it (<c>sklearn.manifold.TSNE</c> 1.2): P from perplexity-calibrated Gaussians over each point's 3 * perplexity
/// nearest neighbours (<see cref="TsneAffinities"/>), Student-t Q, gradient descent with early exaggeration, momentum
/// and per-coordinate gains, and the same stopping checks every 50 iterations. The gradient is exact over all pairs
/// (<see cref="TsneGradient"/>), which is what the few thousand points of a plot want. Deterministic: the seed only
/// matters for <see cref="TsneInit.Random"/>, and the thread count does not change the result.
/// </summary>
/// <remarks>
/// Van der Maaten and Hinton, "Visualizing Data using t-SNE", JMLR 9 (2008);
/// https://scikit-learn.org/1.2/modules/generated/sklearn.manifold.TSNE.html
/// </remarks>
public static class Tsne
{
    /// <summary>The embedding's dimension.</summary>
    public const int Components = 2;

    /// <summary>Iterations between two checks of the cost and the gradient's norm (scikit-learn's).</summary>
    public const int CheckEvery = 50;

    /// <summary>The smallest per-coordinate gain.</summary>
    public const float MinGain = 0.01f;

    /// <summary>
    /// Embeds the rows of <paramref name="features"/> (<c>[n, d]</c>, row-major) in 2-D. The result's embedding is
    /// <c>[n, 2]</c>, row-major.
    /// </summary>
    public static TsneResult Fit(float[] features, int n, int d, TsneOptions? options = null)
    {
        options ??= new TsneOptions();
        Knn.Validate(features, n, d);
        options.Validate(n);
        var p = TsneAffinities.Compute(features, n, d, options.Perplexity, options.Threads);
        var (x, y) = options.Init switch
        {
            TsneInit.Pca => Pca(features, n, d),
            TsneInit.Random => Gaussian(n, options.Seed),
            _ => throw new ArgumentOutOfRangeException(nameof(options), $"Unknown initialisation {options.Init}."),
        };
        var state = new Descent(p, x, y, options);
        double learningRate = options.LearningRateFor(n);
        // Stage 1: P exaggerated, low momentum, so clusters form before they settle.
        int last = state.Run(0, options.ExplorationIterations, options.ExplorationMomentum, options.EarlyExaggeration,
            options.ExplorationIterations, learningRate);
        // Stage 2, one past the last stage-1 iteration, with fresh momentum and gains (as scikit-learn).
        if (options.Iterations > last + 1)
        {
            last = state.Run(last + 1, options.Iterations, options.Momentum, 1, options.IterationsWithoutProgress, learningRate);
        }
        // The costs the descent checks belong to the positions before each step; report the cost of the ones returned.
        double finalCost = state.Cost();
        var embedding = new float[n * Components];
        for (int i = 0; i < n; i++)
        {
            embedding[2 * i] = x[i];
            embedding[2 * i + 1] = y[i];
        }
        return new TsneResult(embedding, n, finalCost, last + 1, learningRate);
    }

    /// <summary>Embeds a <c>[N, D]</c> tensor's rows.</summary>
    public static TsneResult Fit(Tensor features, TsneOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        var shape = features.Shape;
        if (shape.Length != 2)
        {
            throw new ArgumentException($"t-SNE takes features [N, D], got a tensor of shape [{string.Join(", ", shape)}].", nameof(features));
        }
        return Fit(features.ToArray(), shape[0], shape[1], options);
    }

    /// <summary>The cost KL(P || Q) of an embedding <c>[n, 2]</c> of <paramref name="features"/>, P at <paramref name="perplexity"/>.</summary>
    public static double KlDivergence(float[] features, int n, int d, float[] embedding, double perplexity = 30, int threads = 0)
    {
        var p = TsneAffinities.Compute(features, n, d, perplexity, threads);
        if (embedding is null || embedding.Length != n * Components)
        {
            throw new ArgumentException($"The embedding of {n} points must hold {n * Components} values, got {embedding?.Length}.", nameof(embedding));
        }
        var (x, y) = Split(embedding, n);
        return new TsneGradient(p, threads).Cost(x, y);
    }

    private static (float[] X, float[] Y) Split(float[] embedding, int n)
    {
        var (x, y) = (new float[n], new float[n]);
        for (int i = 0; i < n; i++)
        {
            x[i] = embedding[2 * i];
            y[i] = embedding[2 * i + 1];
        }
        return (x, y);
    }

    /// <summary>Gradient descent with momentum and gains, scikit-learn's <c>_gradient_descent</c>.</summary>
    private sealed class Descent(TsneAffinities p, float[] x, float[] y, TsneOptions options)
    {
        private readonly TsneGradient _gradient = new(p, options.Threads);
        private readonly float[] _gx = new float[p.Count], _gy = new float[p.Count];
        private readonly float[] _ux = new float[p.Count], _uy = new float[p.Count];
        private readonly float[] _gainX = new float[p.Count], _gainY = new float[p.Count];

        /// <summary>The cost (no exaggeration) of the current positions.</summary>
        public double Cost() => _gradient.Cost(x, y);

        /// <summary>Iterations [<paramref name="first"/>, <paramref name="end"/>); returns the last iteration run.</summary>
        public int Run(int first, int end, double momentum, double exaggeration, int withoutProgress, double learningRate)
        {
            Array.Clear(_ux);
            Array.Clear(_uy);
            Array.Fill(_gainX, 1f);
            Array.Fill(_gainY, 1f);
            double best = double.MaxValue;
            int bestIteration = first, i = first;
            for (; i < end; i++)
            {
                bool check = (i + 1) % CheckEvery == 0;
                double error = _gradient.Compute(x, y, _gx, _gy, exaggeration, check);
                double norm = Step(x, _gx, _ux, _gainX, momentum, learningRate) + Step(y, _gy, _uy, _gainY, momentum, learningRate);
                if (check)
                {
                    if (error < best)
                    {
                        (best, bestIteration) = (error, i);
                    }
                    else if (i - bestIteration > withoutProgress)
                    {
                        break;
                    }
                    if (Math.Sqrt(norm) <= options.MinGradNorm)
                    {
                        break;
                    }
                }
            }
            return Math.Min(i, Math.Max(end - 1, first));
        }

        /// <summary>One coordinate's update; returns the squared norm of its gain-scaled gradient.</summary>
        private static double Step(float[] position, float[] gradient, float[] update, float[] gains, double momentum, double learningRate)
        {
            double norm = 0;
            float m = (float)momentum, lr = (float)learningRate;
            for (int i = 0; i < position.Length; i++)
            {
                // A gain grows while the gradient keeps pointing against the last step's direction, shrinks otherwise.
                float gain = update[i] * gradient[i] < 0 ? gains[i] + 0.2f : gains[i] * 0.8f;
                gains[i] = Math.Max(gain, MinGain);
                float g = gradient[i] * gains[i];
                norm += (double)g * g;
                update[i] = m * update[i] - lr * g;
                position[i] += update[i];
            }
            return norm;
        }
    }

    /// <summary>Seeded N(0, 1e-4^2) coordinates (Box-Muller).</summary>
    private static (float[] X, float[] Y) Gaussian(int n, int seed)
    {
        var rng = new Random(seed);
        var (x, y) = (new float[n], new float[n]);
        for (int i = 0; i < n; i++)
        {
            double r = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())), angle = 2 * Math.PI * rng.NextDouble();
            x[i] = (float)(1e-4 * r * Math.Cos(angle));
            y[i] = (float)(1e-4 * r * Math.Sin(angle));
        }
        return (x, y);
    }

    /// <summary>
    /// The projections on the first two principal components (subspace iteration on the covariance, in double), scaled
    /// as scikit-learn does so that the first has standard deviation 1e-4. Each component's sign makes its largest
    /// loading positive.
    /// </summary>
    private static (float[] X, float[] Y) Pca(float[] features, int n, int d)
    {
        var mean = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < d; c++)
            {
                mean[c] += features[i * d + c];
            }
        }
        for (int c = 0; c < d; c++)
        {
            mean[c] /= n;
        }
        var covariance = new double[d * d];
        var row = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < d; c++)
            {
                row[c] = features[i * d + c] - mean[c];
            }
            for (int a = 0; a < d; a++)
            {
                double ra = row[a];
                for (int b = a; b < d; b++)
                {
                    covariance[a * d + b] += ra * row[b];
                }
            }
        }
        for (int a = 0; a < d; a++)
        {
            for (int b = 0; b < a; b++)
            {
                covariance[a * d + b] = covariance[b * d + a];
            }
        }
        var components = TopEigenvectors(covariance, d, Math.Min(Components, d));
        var (x, y) = (new float[n], new float[n]);
        var projected = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < components.Length; k++)
            {
                double s = 0;
                for (int c = 0; c < d; c++)
                {
                    s += (features[i * d + c] - mean[c]) * components[k][c];
                }
                projected[2 * i + k] = s;
            }
        }
        double std = 0;
        for (int i = 0; i < n; i++)
        {
            std += projected[2 * i] * projected[2 * i];
        }
        std = Math.Sqrt(std / n); // the projections have mean zero
        if (!(std > 0))
        {
            throw new ArgumentException("The features do not vary (every row is the same): t-SNE has nothing to embed.");
        }
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)(projected[2 * i] / std * 1e-4);
            y[i] = (float)(projected[2 * i + 1] / std * 1e-4);
        }
        return (x, y);
    }

    /// <summary>The <paramref name="count"/> leading eigenvectors of a symmetric positive semi-definite matrix, by subspace iteration.</summary>
    private static double[][] TopEigenvectors(double[] matrix, int d, int count)
    {
        var rng = new Random(12345);
        var v = new double[count][];
        for (int k = 0; k < count; k++)
        {
            v[k] = new double[d];
            for (int c = 0; c < d; c++)
            {
                v[k][c] = rng.NextDouble() - 0.5;
            }
        }
        Orthonormalize(v);
        var next = new double[count][];
        for (int k = 0; k < count; k++)
        {
            next[k] = new double[d];
        }
        for (int iteration = 0; iteration < 1000; iteration++)
        {
            for (int k = 0; k < count; k++)
            {
                for (int a = 0; a < d; a++)
                {
                    double s = 0;
                    for (int b = 0; b < d; b++)
                    {
                        s += matrix[a * d + b] * v[k][b];
                    }
                    next[k][a] = s;
                }
            }
            Orthonormalize(next);
            double change = 0;
            for (int k = 0; k < count; k++)
            {
                for (int c = 0; c < d; c++)
                {
                    change = Math.Max(change, Math.Abs(Math.Abs(next[k][c]) - Math.Abs(v[k][c])));
                }
            }
            (v, next) = (next, v);
            if (change < 1e-12)
            {
                break;
            }
        }
        foreach (var vector in v)
        {
            int largest = 0;
            for (int c = 1; c < d; c++)
            {
                largest = Math.Abs(vector[c]) > Math.Abs(vector[largest]) ? c : largest;
            }
            if (vector[largest] < 0)
            {
                for (int c = 0; c < d; c++)
                {
                    vector[c] = -vector[c];
                }
            }
        }
        return v;
    }

    /// <summary>Gram-Schmidt; a vector that vanishes (a rank-deficient matrix) is left at zero.</summary>
    private static void Orthonormalize(double[][] vectors)
    {
        for (int k = 0; k < vectors.Length; k++)
        {
            for (int m = 0; m < k; m++)
            {
                double dot = 0;
                for (int c = 0; c < vectors[k].Length; c++)
                {
                    dot += vectors[k][c] * vectors[m][c];
                }
                for (int c = 0; c < vectors[k].Length; c++)
                {
                    vectors[k][c] -= dot * vectors[m][c];
                }
            }
            double norm = Math.Sqrt(vectors[k].Sum(t => t * t));
            for (int c = 0; c < vectors[k].Length; c++)
            {
                vectors[k][c] = norm > 0 ? vectors[k][c] / norm : 0;
            }
        }
    }
}
