using System.Globalization;
using System.Text;
using Xunit.Sdk;

namespace Dsl.Tests.Fixtures;

/// <summary>
/// An elementwise closeness test |actual - expected| &lt;= Absolute + Relative * |expected|, as <c>torch.allclose</c>;
/// failures list the worst elements with their indices so a wrong kernel is easy to locate.
/// </summary>
public readonly record struct Tolerance(double Absolute, double Relative)
{
    /// <summary>Elementwise kernels against a float64 reference rounded to float32: a few float32 ulps.</summary>
    public static Tolerance Elementwise => new(1e-6, 1e-5);

    /// <summary>Reductions over up to a few hundred float32 terms (GEMM, convolution, softmax sums).</summary>
    public static Tolerance Reduction => new(1e-5, 1e-4);

    /// <summary>Analytic float32 gradients against central differences of a float64 forward.</summary>
    public static Tolerance FiniteDifference => new(2e-5, 2e-4);

    /// <summary>Asserts <paramref name="actual"/> matches <paramref name="expected"/>, naming <paramref name="what"/> on failure.</summary>
    public void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        var e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++)
        {
            e[i] = expected[i];
        }
        AssertClose(e, actual, what);
    }

    /// <summary>Asserts <paramref name="actual"/> matches a double-precision <paramref name="expected"/>.</summary>
    public void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what)
    {
        if (expected.Length != actual.Length)
        {
            throw new XunitException($"{what}: expected {expected.Length} values but got {actual.Length}.");
        }
        var bad = new List<(int Index, double Expected, double Actual, double Error)>();
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            double allowed = Absolute + Relative * Math.Abs(expected[i]);
            if (!(err <= allowed))
            {
                bad.Add((i, expected[i], actual[i], err));
            }
            if (!double.IsNaN(err))
            {
                worst = Math.Max(worst, err);
            }
        }
        if (bad.Count == 0)
        {
            return;
        }
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{what}: {bad.Count} of {expected.Length} values outside atol {Absolute:g3} + rtol {Relative:g3}; largest error {worst:g4}.");
        foreach (var b in bad.OrderByDescending(b => double.IsNaN(b.Error) ? double.MaxValue : b.Error).Take(8))
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n  [{b.Index}] expected {b.Expected:R} got {b.Actual:R} (error {b.Error:g4})");
        }
        throw new XunitException(sb.ToString());
    }

    /// <summary>Asserts one scalar.</summary>
    public void AssertClose(double expected, float actual, string what)
        => AssertClose(new[] { expected }, new[] { actual }, what);
}
