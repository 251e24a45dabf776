namespace Dsl.Tests.Gradients;

/// <summary>
/// Central finite differences in double precision: the independent check of every analytic backward. A vector
/// function f is reduced to the scalar sum(dy * f(x)) so the result is the vector-Jacobian product a backward computes.
/// </summary>
public static class FiniteDifference
{
    /// <summary>The default step; with float64 central differences the truncation and rounding errors stay near 1e-10.</summary>
    public const double Step = 1e-6;

    /// <summary>d/dx of sum_j dy[j] * f(x)[j], perturbing each x[i] by +-<paramref name="h"/> (x is restored).</summary>
    public static double[] Gradient(Func<double[], double[]> f, double[] x, double[] dy, double h = Step)
        => Gradient(v => Dot(dy, f(v)), x, h);

    /// <summary>d f / d x of a scalar function by central differences.</summary>
    public static double[] Gradient(Func<double[], double> f, double[] x, double h = Step)
    {
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double keep = x[i];
            x[i] = keep + h;
            double plus = f(x);
            x[i] = keep - h;
            double minus = f(x);
            x[i] = keep;
            g[i] = (plus - minus) / (2 * h);
        }
        return g;
    }

    /// <summary>sum_i a[i] * b[i].</summary>
    public static double Dot(double[] a, double[] b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Dot of {a.Length} and {b.Length} values.");
        }
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }
        return s;
    }
}
