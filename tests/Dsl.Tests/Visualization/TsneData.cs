namespace Dsl.Tests.Visualization;

/// <summary>Seeded synthetic data sets for the t-SNE tests: Gaussian clusters in D dimensions, labelled by cluster.</summary>
internal static class TsneData
{
    /// <summary>
    /// <paramref name="clusters"/> x <paramref name="perCluster"/> points in <paramref name="d"/>-D: centres drawn from
    /// N(0, <paramref name="spread"/>^2) per coordinate, points from N(centre, 1); labels are the cluster indices.
    /// </summary>
    public static (float[] Points, int[] Labels) Clusters(int clusters, int perCluster, int d, double spread, int seed)
    {
        var rng = new Random(seed);
        var centres = new double[clusters * d];
        for (int i = 0; i < centres.Length; i++)
        {
            centres[i] = spread * Normal(rng);
        }
        int n = clusters * perCluster;
        var points = new float[n * d];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            // Interleaved, so no test can pass by relying on the order of the points.
            int c = i % clusters;
            labels[i] = c;
            for (int k = 0; k < d; k++)
            {
                points[i * d + k] = (float)(centres[c * d + k] + Normal(rng));
            }
        }
        return (points, labels);
    }

    public static float[] Uniform(int count, double scale, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(scale * (2 * rng.NextDouble() - 1))).ToArray();
    }

    public static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
