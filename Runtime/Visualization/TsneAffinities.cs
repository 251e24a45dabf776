using Dsl.Devices.Cpu;

namespace Dsl.Visualization;

/// <summary>
/// t-SNE's input similarities P, as scikit-learn's Barnes-Hut t-SNE computes them: each point's Gaussian conditional
/// p(j|i) over its <c>min(N - 1, floor(3 * perplexity + 1))</c> nearest neighbours, its precision <c>beta_i = 1 / (2
/// sigma_i^2)</c> found by binary search so that the entropy of p(.|i) is <c>ln(perplexity)</c>, then symmetrised
/// <c>P = (P_cond + P_cond^T) / sum</c> into a sparse matrix (each row's columns ascending). With <c>3 * perplexity + 1
/// &gt;= N - 1</c> every pair is kept, which is the exact method's P.
/// </summary>
/// <remarks>Van der Maaten and Hinton, "Visualizing Data using t-SNE", JMLR 2008; van der Maaten, "Accelerating t-SNE
/// using Tree-Based Algorithms", JMLR 2014 (the neighbour-restricted P).</remarks>
public sealed class TsneAffinities
{
    /// <summary>The binary search stops once the entropy is this close to its target (scikit-learn's tolerance).</summary>
    public const double EntropyTolerance = 1e-5;

    /// <summary>The binary search's step limit (scikit-learn's).</summary>
    public const int SearchSteps = 100;

    private TsneAffinities(int count, KnnGraph neighbors, double[] betas, double[] entropies, int[] rowStart, int[] columns, float[] values)
    {
        Count = count;
        Neighbors = neighbors;
        Betas = betas;
        Entropies = entropies;
        RowStart = rowStart;
        Columns = columns;
        Values = values;
    }

    /// <summary>Points.</summary>
    public int Count { get; }

    /// <summary>Each point's neighbours in feature space and their squared distances, which p(.|i) is defined over.</summary>
    public KnnGraph Neighbors { get; }

    /// <summary>Per point, the precision <c>beta_i</c> of its Gaussian: p(j|i) is proportional to <c>exp(-beta_i d_ij^2)</c>.</summary>
    public double[] Betas { get; }

    /// <summary>Per point, the entropy (natural log) of p(.|i) the search ended at; its target is <c>ln(perplexity)</c>.</summary>
    public double[] Entropies { get; }

    /// <summary>CSR row offsets of the symmetric P: row i's entries are <c>[RowStart[i], RowStart[i + 1])</c>.</summary>
    public int[] RowStart { get; }

    /// <summary>CSR column of each entry, ascending within a row.</summary>
    public int[] Columns { get; }

    /// <summary>CSR value p_ij of each entry; all values sum to 1.</summary>
    public float[] Values { get; }

    /// <summary>P of the rows of <paramref name="features"/> (<c>[n, d]</c>, row-major) at <paramref name="perplexity"/>.</summary>
    public static TsneAffinities Compute(float[] features, int n, int d, double perplexity, int threads = 0)
    {
        Knn.Validate(features, n, d);
        if (!(perplexity > 0) || perplexity >= n)
        {
            // scikit-learn's rule: a perplexity of N or more cannot be reached with N - 1 neighbours.
            throw new ArgumentOutOfRangeException(nameof(perplexity), $"The perplexity must be positive and less than the number of points ({n}), got {perplexity}.");
        }
        int k = Math.Min(n - 1, (int)(3.0 * perplexity + 1));
        var neighbors = Knn.Neighbors(features, n, d, k, threads);
        var conditional = new double[n * k];
        var betas = new double[n];
        var entropies = new double[n];
        var job = new CalibrationJob(neighbors.SquaredDistances, k, Math.Log(perplexity), conditional, betas, entropies);
        ForkJoin.Run(n, Knn.Parts(n, threads), ref job);
        var (rowStart, columns, values) = Symmetrize(n, k, neighbors.Indices, conditional);
        return new TsneAffinities(n, neighbors, betas, entropies, rowStart, columns, values);
    }

    /// <summary>
    /// The entropy of p(.|i) at precision <paramref name="beta"/> over squared distances <paramref name="distances"/>,
    /// written into <paramref name="p"/> (normalised): <c>H = ln(sum) + beta * sum(d^2 p)</c>, as scikit-learn computes it.
    /// </summary>
    internal static double Conditional(ReadOnlySpan<float> distances, double beta, Span<double> p)
    {
        double sum = 0;
        for (int j = 0; j < distances.Length; j++)
        {
            p[j] = Math.Exp(-distances[j] * beta);
            sum += p[j];
        }
        if (sum == 0)
        {
            sum = 1e-8; // scikit-learn's EPSILON_DBL: every neighbour underflowed
        }
        double weighted = 0;
        for (int j = 0; j < distances.Length; j++)
        {
            p[j] /= sum;
            weighted += distances[j] * p[j];
        }
        return Math.Log(sum) + beta * weighted;
    }

    private readonly struct CalibrationJob(float[] distances, int k, double target, double[] conditional, double[] betas, double[] entropies) : IRangeJob
    {
        public void Run(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                var d = distances.AsSpan(i * k, k);
                var p = conditional.AsSpan(i * k, k);
                double beta = 1, low = double.NegativeInfinity, high = double.PositiveInfinity, entropy = 0;
                for (int step = 0; step < SearchSteps; step++)
                {
                    entropy = Conditional(d, beta, p);
                    double gap = entropy - target;
                    if (Math.Abs(gap) <= EntropyTolerance)
                    {
                        break;
                    }
                    if (gap > 0)
                    {
                        // Too flat: sharpen.
                        low = beta;
                        beta = double.IsPositiveInfinity(high) ? beta * 2 : (beta + high) / 2;
                    }
                    else
                    {
                        high = beta;
                        beta = double.IsNegativeInfinity(low) ? beta / 2 : (beta + low) / 2;
                    }
                }
                betas[i] = beta;
                entropies[i] = entropy;
            }
        }
    }

    /// <summary><c>P = (C + C^T) / sum(C + C^T)</c> of the conditional rows C, as CSR with ascending columns.</summary>
    private static (int[] RowStart, int[] Columns, float[] Values) Symmetrize(int n, int k, int[] indices, double[] conditional)
    {
        // Each stored p(j|i) lands in row i (column j) and row j (column i); duplicates are summed after sorting.
        var counts = new int[n + 1];
        for (int e = 0; e < indices.Length; e++)
        {
            counts[e / k + 1]++;
            counts[indices[e] + 1]++;
        }
        for (int i = 0; i < n; i++)
        {
            counts[i + 1] += counts[i];
        }
        var fill = counts[..n];
        var rawColumns = new int[counts[n]];
        var rawValues = new double[counts[n]];
        for (int e = 0; e < indices.Length; e++)
        {
            int i = e / k, j = indices[e];
            rawColumns[fill[i]] = j;
            rawValues[fill[i]++] = conditional[e];
            rawColumns[fill[j]] = i;
            rawValues[fill[j]++] = conditional[e];
        }
        var rowStart = new int[n + 1];
        var columns = new List<int>(rawColumns.Length);
        var sums = new List<double>(rawColumns.Length);
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            rowStart[i] = columns.Count;
            Array.Sort(rawColumns, rawValues, counts[i], counts[i + 1] - counts[i]);
            for (int e = counts[i]; e < counts[i + 1]; e++)
            {
                if (columns.Count > rowStart[i] && columns[^1] == rawColumns[e])
                {
                    sums[^1] += rawValues[e];
                }
                else
                {
                    columns.Add(rawColumns[e]);
                    sums.Add(rawValues[e]);
                }
                total += rawValues[e];
            }
        }
        rowStart[n] = columns.Count;
        total = Math.Max(total, double.Epsilon);
        var values = new float[sums.Count];
        for (int e = 0; e < values.Length; e++)
        {
            values[e] = (float)(sums[e] / total);
        }
        return (rowStart, columns.ToArray(), values);
    }
}
