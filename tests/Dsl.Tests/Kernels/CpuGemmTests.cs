using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Gemm;
using Xunit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// CpuGemm against a double-precision triple loop on random operands. Sizes are chosen to hit every
/// tail: rows that are not a multiple of any strip height (1, 7, 17, 33, 65, 129), columns that leave
/// partial 32- and 16-wide panels, k beyond one 384-deep block (385, 800), and long k for the dot path (split into several chunks at n = 300);
/// the batch-64 Linear shapes take the half-width (at most 16 columns) kernel, exactly 16 columns included (n = 16, 48).
/// Tolerance: |C - ref| <= 1e-5 * (|alpha| * sum_p |op(A)_ip * op(B)_pj| + |beta * C0|) + 1e-6,
/// float32 accumulation error over k terms, scaled by the magnitudes actually summed.
/// </summary>
public class CpuGemmTests
{
    private const double RelativeTolerance = 1e-5;

    public static TheoryData<int, int, int> Sizes => new()
    {
        { 1, 1, 1 },
        { 7, 17, 33 },
        { 17, 33, 7 },
        { 33, 65, 17 },
        { 65, 7, 129 },
        { 129, 65, 385 },
        { 13, 50, 800 },
        { 25, 130, 10 },
        { 10, 25, 3000 },
        { 64, 50, 320 },
        { 12, 32, 384 },
        { 20, 61, 1000 },
        { 20, 300, 1000 },
        { 64, 10, 100 },
        { 64, 16, 48 },
        { 100, 48, 64 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void All_transpose_combinations_match_double_reference(int m, int n, int k)
    {
        foreach (bool transA in new[] { false, true })
        {
            foreach (bool transB in new[] { false, true })
            {
                Check(transA, transB, m, n, k, 0.75f, 0f, threads: 1);
                Check(transA, transB, m, n, k, -1.25f, 0.5f, threads: 2);
            }
        }
    }

    [Fact]
    public void Beta_zero_ignores_nan_in_c()
    {
        foreach (var (m, n, k, tb) in new[] { (17, 33, 65, false), (10, 25, 2000, true), (129, 70, 400, false) })
        {
            var random = new Random(7);
            float[] a = RandomArray(random, m * k), b = RandomArray(random, k * n);
            float[] c = Enumerable.Repeat(float.NaN, m * n).ToArray();
            CpuGemm.Multiply(false, tb, m, n, k, 1f, a, b, 0f, c);
            AssertClose(Reference(false, tb, m, n, k, 1f, a, b, 0f, new float[m * n]), c, "beta=0 with NaN in C");
        }
    }

    [Fact]
    public void Beta_one_accumulates_onto_c()
    {
        var random = new Random(11);
        const int m = 33, n = 47, k = 500;
        float[] a = RandomArray(random, m * k), b = RandomArray(random, k * n), c0 = RandomArray(random, m * n);
        float[] c = (float[])c0.Clone();
        CpuGemm.Multiply(false, false, m, n, k, 1f, a, b, 1f, c);
        AssertClose(Reference(false, false, m, n, k, 1f, a, b, 1f, c0), c, "beta=1");
    }

    [Fact]
    public void Large_square_product_with_threads_matches_reference()
    {
        Check(false, false, 200, 300, 400, 1f, 0f, threads: 2);
        Check(true, true, 300, 200, 100, 1f, 0.25f, threads: 2);
    }

    [Fact]
    public void Accumulating_weight_gradient_split_by_rows_matches_reference()
    {
        // The batch-64 MLP's fc1 weight gradient, dW += dY^T x, which two threads split by rows of dW.
        Check(true, false, 256, 784, 64, 1f, 1f, threads: 2);
    }

    [Theory]
    [InlineData("Vector256")]
    [InlineData("Scalar")]
    public void Fallback_kernels_match_double_reference(string kind)
    {
        CpuGemm.KernelOverride = Enum.Parse<GemmKernel>(kind);
        try
        {
            foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 17, 33), (33, 65, 385), (13, 50, 800) })
            {
                foreach (bool transA in new[] { false, true })
                {
                    foreach (bool transB in new[] { false, true })
                    {
                        Check(transA, transB, m, n, k, 0.5f, -0.75f, threads: 1);
                    }
                }
            }
        }
        finally
        {
            CpuGemm.KernelOverride = null;
        }
    }

    [Fact]
    public void Degenerate_sizes_scale_or_leave_c()
    {
        float[] c = [1f, 2f, 3f, 4f];
        CpuGemm.Multiply(false, false, 2, 2, 0, 1f, [], [], 0.5f, c);
        Assert.Equal(new[] { 0.5f, 1f, 1.5f, 2f }, c);

        float[] nan = [float.NaN, float.NaN];
        CpuGemm.Multiply(true, false, 1, 2, 0, 1f, [], [], 0f, nan);
        Assert.Equal(new[] { 0f, 0f }, nan);

        CpuGemm.Multiply(false, false, 0, 3, 5, 1f, [], new float[15], 0f, []);
        CpuGemm.Multiply(false, true, 3, 0, 5, 1f, new float[15], [], 0f, []);
    }

    [Fact]
    public void Too_short_spans_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => CpuGemm.Multiply(false, false, 2, 2, 2, 1f, new float[3], new float[4], 0f, new float[4]));
        Assert.Throws<ArgumentException>(() => CpuGemm.Multiply(false, false, 2, 2, 2, 1f, new float[4], new float[4], 0f, new float[3]));
    }

    private static void Check(bool transA, bool transB, int m, int n, int k, float alpha, float beta, int threads)
    {
        var random = new Random(HashCode.Combine(m, n, k, transA, transB, threads));
        float[] a = RandomArray(random, m * k);
        float[] b = RandomArray(random, k * n);
        float[] c0 = RandomArray(random, m * n);
        float[] c = (float[])c0.Clone();
        // Exactly sized slices of larger arrays: any read or write past the view shows up as a changed guard.
        float[] cBig = new float[m * n + 8];
        Array.Fill(cBig, 42f);
        c.CopyTo(cBig, 4);
        CpuGemm.Multiply(transA, transB, m, n, k, alpha, a, b, beta, cBig.AsSpan(4, m * n), threads);
        Assert.All(cBig[..4].Concat(cBig[^4..]), g => Assert.Equal(42f, g));
        AssertClose(Reference(transA, transB, m, n, k, alpha, a, b, beta, c0), cBig[4..^4],
            $"m={m} n={n} k={k} transA={transA} transB={transB} alpha={alpha} beta={beta} threads={threads}");
    }

    /// <summary>Returns (expected, bound) per element: the double-precision result and its tolerance.</summary>
    private static (double Value, double Bound)[] Reference(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, float[] b, float beta, float[] c0)
    {
        var result = new (double, double)[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double term = (double)(transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                    sum += term;
                    magnitude += Math.Abs(term);
                }
                double old = beta == 0f ? 0 : (double)beta * c0[i * n + j];
                result[i * n + j] = (alpha * sum + old, RelativeTolerance * (Math.Abs(alpha) * magnitude + Math.Abs(old)) + 1e-6);
            }
        }
        return result;
    }

    private static void AssertClose((double Value, double Bound)[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i].Value);
            if (!(error <= expected[i].Bound))
            {
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i].Value} (error {error:g3} > {expected[i].Bound:g3})");
            }
        }
    }

    private static float[] RandomArray(Random random, int length)
    {
        var data = new float[length];
        for (int i = 0; i < length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return data;
    }
}
