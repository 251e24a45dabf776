using Dsl.Visualization;
using Xunit;

namespace Dsl.Tests.Visualization;

/// <summary>
/// P: each point's Gaussian, rebuilt here from the precision the search found and the neighbours' distances, has the
/// entropy ln(perplexity); the neighbours are the true nearest ones; P is symmetric and sums to 1.
/// </summary>
public sealed class TsneAffinitiesTests
{
    [Theory]
    [InlineData(5.0)]
    [InlineData(30.0)]
    public void Each_points_gaussian_has_the_entropy_of_the_perplexity(double perplexity)
    {
        const int n = 150, d = 12;
        var (points, _) = TsneData.Clusters(3, n / 3, d, spread: 4, seed: 7);
        var p = TsneAffinities.Compute(points, n, d, perplexity);
        int k = p.Neighbors.K;
        Assert.Equal(Math.Min(n - 1, (int)(3 * perplexity + 1)), k);
        double target = Math.Log(perplexity);
        for (int i = 0; i < n; i++)
        {
            // Independent of the search's own bookkeeping: H = -sum p ln p of exp(-beta d^2), normalised.
            var distances = Enumerable.Range(0, k).Select(m => (double)p.Neighbors.SquaredDistances[i * k + m]).ToArray();
            var weights = distances.Select(s => Math.Exp(-p.Betas[i] * s)).ToArray();
            double sum = weights.Sum();
            double entropy = -weights.Select(w => w / sum).Where(q => q > 0).Sum(q => q * Math.Log(q));
            Assert.True(Math.Abs(entropy - target) < 1e-4, $"point {i}: entropy {entropy} against ln({perplexity}) = {target}");
        }
        // The precisions differ from point to point: a dense cluster core needs a sharper Gaussian than its fringe.
        Assert.True(p.Betas.Max() > 1.5 * p.Betas.Min(), $"betas {p.Betas.Min()}..{p.Betas.Max()}");
    }

    [Fact]
    public void The_neighbours_are_the_nearest_points_and_p_is_symmetric_and_sums_to_one()
    {
        const int n = 60, d = 7;
        var points = TsneData.Uniform(n * d, 1, seed: 3);
        var p = TsneAffinities.Compute(points, n, d, perplexity: 4);
        int k = p.Neighbors.K;
        for (int i = 0; i < n; i++)
        {
            var order = Enumerable.Range(0, n).Where(j => j != i)
                .OrderBy(j => Enumerable.Range(0, d).Sum(c => Math.Pow((double)points[i * d + c] - points[j * d + c], 2))).Take(k).ToArray();
            Assert.Equal(order, p.Neighbors.Row(i).ToArray());
        }
        var dense = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int e = p.RowStart[i]; e < p.RowStart[i + 1]; e++)
            {
                Assert.True(e == p.RowStart[i] || p.Columns[e] > p.Columns[e - 1], "columns ascend within a row");
                dense[i, p.Columns[e]] = p.Values[e];
            }
        }
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(0, dense[i, i]);
            for (int j = 0; j < n; j++)
            {
                Assert.Equal(dense[i, j], dense[j, i]);
                total += dense[i, j];
            }
        }
        Assert.Equal(1.0, total, 5);
    }

    [Fact]
    public void A_perplexity_of_n_or_more_is_refused()
    {
        var points = TsneData.Uniform(10 * 3, 1, seed: 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TsneAffinities.Compute(points, 10, 3, perplexity: 10));
        Assert.Contains("less than the number of points (10)", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => TsneAffinities.Compute(points, 10, 4, perplexity: 3));
    }
}
