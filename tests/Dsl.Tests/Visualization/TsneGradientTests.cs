using Dsl.Visualization;
using Xunit;

namespace Dsl.Tests.Visualization;

/// <summary>
/// The gradient of KL(P || Q) against central finite differences of the cost written out here in double precision
/// (q_ij = w_ij / sum_{k != l} w_kl over all pairs), with and without early exaggeration (see <see cref="Objective"/>), on sizes that take the
/// scalar path only (12 points) and the SIMD path with a tail (41 points).
/// </summary>
public sealed class TsneGradientTests
{
    /// <summary>
    /// KL(e P || Q) = sum_ij e p_ij ln(e p_ij / q_ij) in double: the cost reported, as scikit-learn reports it during the
    /// exaggeration.
    /// </summary>
    private static double Cost(TsneAffinities p, double[] y, double exaggeration)
        => Attraction(p, y, exaggeration) + exaggeration * TotalP(p) * Math.Log(Z(p, y));

    /// <summary>
    /// What the exaggerated descent follows: sum_ij e p_ij ln(e p_ij / w_ij) + ln Z. Early exaggeration scales the
    /// attraction only (van der Maaten's and scikit-learn's gradient 4 sum_j (e p_ij - q_ij) w_ij (y_i - y_j)), so for
    /// e != 1 this, not KL(e P || Q), is the function that gradient belongs to; for e = 1 the two are the same.
    /// </summary>
    private static double Objective(TsneAffinities p, double[] y, double exaggeration)
        => Attraction(p, y, exaggeration) + Math.Log(Z(p, y));

    private static double Z(TsneAffinities p, double[] y)
    {
        double z = 0;
        for (int i = 0; i < p.Count; i++)
        {
            for (int j = 0; j < p.Count; j++)
            {
                z += i != j ? Kernel(y, i, j) : 0;
            }
        }
        return z;
    }

    private static double TotalP(TsneAffinities p) => p.Values.Sum(v => (double)v);

    private static double Attraction(TsneAffinities p, double[] y, double exaggeration)
    {
        double cost = 0;
        for (int i = 0; i < p.Count; i++)
        {
            for (int e = p.RowStart[i]; e < p.RowStart[i + 1]; e++)
            {
                double pij = exaggeration * p.Values[e];
                cost += pij > 0 ? pij * Math.Log(pij / Kernel(y, p.Columns[e], i)) : 0;
            }
        }
        return cost;
    }

    private static double Kernel(double[] y, int i, int j)
    {
        double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
        return 1 / (1 + dx * dx + dy * dy);
    }

    [Theory]
    [InlineData(12, 1.0)]
    [InlineData(12, 12.0)]
    [InlineData(41, 1.0)]
    [InlineData(41, 12.0)]
    public void The_gradient_matches_finite_differences_of_the_cost(int n, double exaggeration)
    {
        const int d = 6;
        var (features, _) = TsneData.Clusters(3, (n + 2) / 3, d, spread: 2, seed: n);
        features = features[..(n * d)];
        var p = TsneAffinities.Compute(features, n, d, perplexity: 3);
        var y = TsneData.Uniform(2 * n, 2, seed: 11).Select(v => (double)v).ToArray();
        var (x, yy) = (Enumerable.Range(0, n).Select(i => (float)y[2 * i]).ToArray(), Enumerable.Range(0, n).Select(i => (float)y[2 * i + 1]).ToArray());
        var (gx, gy) = (new float[n], new float[n]);
        var gradient = new TsneGradient(p, threads: 2);
        double reported = gradient.Compute(x, yy, gx, gy, exaggeration, computeError: true);
        Assert.Equal(Cost(p, y, exaggeration), reported, 1e-4 * Math.Max(1, Math.Abs(reported)));

        const double h = 1e-5;
        var numeric = new double[2 * n];
        for (int c = 0; c < 2 * n; c++)
        {
            double keep = y[c];
            y[c] = keep + h;
            double plus = Objective(p, y, exaggeration);
            y[c] = keep - h;
            double minus = Objective(p, y, exaggeration);
            y[c] = keep;
            numeric[c] = (plus - minus) / (2 * h);
        }
        double scale = numeric.Max(Math.Abs);
        Assert.True(scale > 1e-3, $"a gradient of {scale} checks nothing");
        for (int i = 0; i < n; i++)
        {
            Assert.True(Math.Abs(gx[i] - numeric[2 * i]) <= 1e-4 * scale, $"point {i} x: {gx[i]} against {numeric[2 * i]}");
            Assert.True(Math.Abs(gy[i] - numeric[2 * i + 1]) <= 1e-4 * scale, $"point {i} y: {gy[i]} against {numeric[2 * i + 1]}");
        }
    }

    [Fact]
    public void The_simd_repulsion_equals_the_sum_in_double()
    {
        const int n = 53; // three 16-wide steps and a tail of 5
        var x = TsneData.Uniform(n, 3, seed: 5);
        var y = TsneData.Uniform(n, 3, seed: 6);
        var (w, fx, fy) = TsneGradient.Repulsion(x[7], y[7], x, y);
        double ew = 0, efx = 0, efy = 0;
        for (int j = 0; j < n; j++)
        {
            double dx = (double)x[7] - x[j], dy = (double)y[7] - y[j], q = 1 / (1 + dx * dx + dy * dy);
            (ew, efx, efy) = (ew + q, efx + q * q * dx, efy + q * q * dy);
        }
        Assert.Equal(ew, w, 1e-5);
        Assert.Equal(efx, fx, 1e-5);
        Assert.Equal(efy, fy, 1e-5);
    }
}
