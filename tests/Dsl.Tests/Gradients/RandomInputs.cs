namespace Dsl.Tests.Gradients;

/// <summary>
/// Seeded random test inputs, generated as float32 (what the kernels take) so the double-precision references see
/// exactly the same numbers. Never zeros; optionally kept away from a kink at 0, or pairwise distinct for max pooling.
/// </summary>
public static class RandomInputs
{
    /// <summary>Normal(0, scale^2) values.</summary>
    public static float[] Normal(Random rng, int count, double scale = 1.0)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - rng.NextDouble();
            double u2 = rng.NextDouble();
            v[i] = (float)(scale * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return v;
    }

    /// <summary>Uniform(low, high) values.</summary>
    public static float[] Uniform(Random rng, int count, double low, double high)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            v[i] = (float)(low + (high - low) * rng.NextDouble());
        }
        return v;
    }

    /// <summary>Normal values with |v| &gt;= <paramref name="margin"/>, so central differences never straddle a kink at 0.</summary>
    public static float[] AwayFromZero(Random rng, int count, double scale = 1.0, double margin = 0.05)
    {
        var v = Normal(rng, count, scale);
        for (int i = 0; i < count; i++)
        {
            if (Math.Abs(v[i]) < margin)
            {
                v[i] = v[i] >= 0 ? (float)(v[i] + 2 * margin) : (float)(v[i] - 2 * margin);
            }
        }
        return v;
    }

    /// <summary>A shuffled ramp over [-spread/2, spread/2): values at least spread/count apart (no ties).</summary>
    public static float[] Distinct(Random rng, int count, double spread = 4.0)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            v[i] = (float)((i + 0.3 * rng.NextDouble()) / count * spread - spread / 2);
        }
        rng.Shuffle(v);
        return v;
    }

    /// <summary>Labels uniformly in [0, classes).</summary>
    public static long[] Labels(Random rng, int count, int classes)
    {
        var v = new long[count];
        for (int i = 0; i < count; i++)
        {
            v[i] = rng.Next(classes);
        }
        return v;
    }

    /// <summary>Widens to double.</summary>
    public static double[] ToDoubles(float[] v) => v.Select(x => (double)x).ToArray();
}
