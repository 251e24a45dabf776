using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Gemm;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

// The one-pass batch-norm kernels at both vector widths (the 512-bit loops, the 256-bit fallback, their scalar tails) and
// several thread counts, with and without the fused ReLU, against a double-precision reference: the forward against
// nn.BatchNorm2d's definition (then max(0, .)), the backward against central finite differences of that reference's
// L = sum(R .* relu(bn(x))), the mask taken where the reference output is positive. Segments are long enough for the
// 512-bit loop, the 256-bit step after it and a scalar tail (49 = 3*16 + 1, 27 = 16 + 8 + 3).
public class CpuBatchNormWidthTests
{
    private const float Eps = 1e-5f;

    public static TheoryData<string, int, int, int, int> Cases() => new()
    {
        // kernel, threads, batch, channels, spatial
        { "Vector512", 1, 3, 4, 49 },
        { "Vector256", 1, 3, 4, 49 },
        { "Vector512", 2, 2, 5, 27 },
        { "Vector256", 3, 2, 5, 27 },
        { "Vector512", 3, 4, 3, 7 },
        { "Vector256", 2, 5, 2, 64 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_with_and_without_relu_matches_the_reference(string kernel, int threads, int n, int c, int s)
    {
        var random = new Random(n * 1000 + c * 100 + s + threads);
        var x = Uniform(random, n * c * s, -1.5f, 2.5f);
        var gamma = Uniform(random, c, 0.5f, 1.5f);
        var beta = Uniform(random, c, -0.5f, 0.5f);
        foreach (bool relu in new[] { false, true })
        {
            var (y, mean, invStd, runningVar) = Forward(kernel, threads, x, gamma, beta, n, c, s, relu);
            var (expected, rMean, rInvStd, rVar) = Reference(Widen(x), Widen(gamma), Widen(beta), n, c, s, relu);
            AssertClose(expected, y, 1e-5, 1e-5, $"y (relu {relu})");
            AssertClose(rMean, mean, 1e-6, 1e-6, "saveMean");
            AssertClose(rInvStd, invStd, 1e-6, 1e-5, "saveInvStd");
            // running variance 0.9 * 1 + 0.1 * unbiased batch variance
            AssertClose(Array.ConvertAll(rVar, v => 0.9 + 0.1 * v * n * s / (n * s - 1)), runningVar, 1e-6, 1e-5, "runningVar");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Residual_is_added_before_the_relu_bit_for_bit_with_batch_norm_then_add(string kernel, int threads, int n, int c, int s)
    {
        // Each width's loop and the scalar tail: the fused pass against the batch norm, then Add or AddRelu, on one device.
        var random = new Random(n * 31 + c * 17 + s + threads);
        var x = Uniform(random, n * c * s, -1.5f, 2.5f);
        var r = Uniform(random, n * c * s);
        var gamma = Uniform(random, c, 0.5f, 1.5f);
        var beta = Uniform(random, c, -0.5f, 0.5f);
        var d = new CpuDevice(threads);
        CpuGemm.KernelOverride = Enum.Parse<GemmKernel>(kernel);
        try
        {
            foreach (bool relu in new[] { false, true })
            {
                int[] Run(bool fused)
                {
                    var y = Tensor.Full(d, float.NaN, x.Length);
                    var (mean, invStd) = (Tensor.Full(d, float.NaN, c), Tensor.Full(d, float.NaN, c));
                    var (xt, rt) = (Tensor.From(x, d, x.Length), Tensor.From(r, d, r.Length));
                    var (gt, bt) = (Tensor.From(gamma, d, c), Tensor.From(beta, d, c));
                    if (fused)
                    {
                        d.BatchNorm(xt, gt, bt, Tensor.Zeros(d, c), Tensor.Full(d, 1f, c), mean, invStd, y, n, c, s, training: true, momentum: 0.1f, Eps, relu, rt);
                    }
                    else
                    {
                        var bn = Tensor.Full(d, float.NaN, x.Length);
                        d.BatchNorm(xt, gt, bt, Tensor.Zeros(d, c), Tensor.Full(d, 1f, c), mean, invStd, bn, n, c, s, training: true, momentum: 0.1f, Eps);
                        if (relu)
                        {
                            d.AddRelu(bn, rt, y);
                        }
                        else
                        {
                            d.Add(bn, rt, y);
                        }
                    }
                    return Array.ConvertAll(y.ToArray(), BitConverter.SingleToInt32Bits);
                }
                Assert.Equal(Run(fused: false), Run(fused: true));
            }
        }
        finally
        {
            CpuGemm.KernelOverride = null;
        }
    }

    [Theory]
    [InlineData("Vector512")]
    [InlineData("Vector256")]
    public void Segments_split_over_threads_give_the_bits_of_one_thread(string kernel)
    {
        // 5 samples x 7 channels of 6,000 floats: 35 segments, at least 5 a part, so 2 and 3 threads cut the batch inside a
        // sample (at segments 17 and 11, 23). The per-segment sums are combined in sample order whoever made them, so
        // every output is the one-thread bits; the two-thread one is also checked against the reference.
        int n = 5, c = 7, s = 6000;
        var random = new Random(11);
        var x = Uniform(random, n * c * s, -1.5f, 2.5f);
        var gamma = Uniform(random, c, 0.5f, 1.5f);
        var beta = Uniform(random, c, -0.5f, 0.5f);
        var dy = Uniform(random, n * c * s);
        var dx0 = Uniform(random, n * c * s);
        var (expected, _, _, _) = Reference(Widen(x), Widen(gamma), Widen(beta), n, c, s, relu: true);
        int[] Bits(float[] v) => Array.ConvertAll(v, BitConverter.SingleToInt32Bits);
        int[][]? single = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            float[] y = [], mean = [], invStd = [], runningVar = [], dx = [], dgamma = [], dbeta = [];
            // Each on a thread of its own, so the kernels' per-thread scratch starts afresh: what a part leaves unwritten
            // is not the previous run's values.
            var run = new Thread(() =>
            {
                (y, mean, invStd, runningVar) = Forward(kernel, threads, x, gamma, beta, n, c, s, relu: true);
                (dx, dgamma, dbeta) = Backward(kernel, threads, x, gamma, mean, invStd, dy, y, dx0, n, c, s, accumulate: true);
            });
            run.Start();
            run.Join();
            var bits = new[] { Bits(y), Bits(mean), Bits(invStd), Bits(runningVar), Bits(dx), Bits(dgamma), Bits(dbeta) };
            if (threads == 2)
            {
                AssertClose(expected, y, 1e-5, 1e-5, "y on two threads");
            }
            single ??= bits;
            for (int k = 0; k < bits.Length; k++)
            {
                Assert.True(single[k].SequenceEqual(bits[k]), $"output {k} on {threads} threads differs from one thread's");
            }
        }
    }

    [Fact]
    public void Variance_of_an_offset_channel_has_no_cancellation()
    {
        // Values 1000 + small deviations: E[x^2] - E[x]^2 in float would lose every digit of the variance.
        int n = 3, c = 1, s = 37;
        var random = new Random(5);
        var x = Array.ConvertAll(Uniform(random, n * c * s, -0.01f, 0.01f), v => 1000f + v);
        var (_, _, invStd, _) = Forward("Vector512", 1, x, new[] { 1f }, new[] { 0f }, n, c, s, relu: false);
        var (_, _, rInvStd, _) = Reference(Widen(x), new[] { 1.0 }, new[] { 0.0 }, n, c, s, relu: false);
        AssertClose(rInvStd, invStd, 0, 1e-3, "saveInvStd");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_with_and_without_relu_matches_finite_differences(string kernel, int threads, int n, int c, int s)
    {
        var random = new Random(n * 7 + c * 5 + s * 3 + threads);
        var x = Uniform(random, n * c * s, -1.5f, 2.5f);
        var gamma = Uniform(random, c, 0.5f, 1.5f);
        var beta = Uniform(random, c, -0.5f, 0.5f);
        var r = Uniform(random, n * c * s);
        foreach (bool relu in new[] { false, true })
        {
            foreach (bool accumulate in new[] { false, true })
            {
                var (y, mean, invStd, _) = Forward(kernel, threads, x, gamma, beta, n, c, s, relu);
                var dx0 = Uniform(random, n * c * s);
                var (dx, dgamma, dbeta) = Backward(kernel, threads, x, gamma, mean, invStd, r, relu ? y : null, dx0, n, c, s, accumulate);

                var xd = Widen(x);
                var gd = Widen(gamma);
                var bd = Widen(beta);
                var rd = Widen(r);
                double Loss() => Dot(Reference(xd, gd, bd, n, c, s, relu).Y, rd);
                const double h = 1e-4;
                var gx = CentralDifferences(xd, Loss, h);
                var gGamma = CentralDifferences(gd, Loss, h);
                var gBeta = CentralDifferences(bd, Loss, h);
                string what = $"(relu {relu}, accumulate {accumulate})";
                AssertClose(accumulate ? Plus(gx, dx0) : gx, dx, 2e-4, 2e-3, "dx " + what);
                AssertClose(gGamma, dgamma, 2e-4, 2e-3, "dgamma " + what);
                AssertClose(gBeta, dbeta, 2e-4, 2e-3, "dbeta " + what);
            }
        }
    }

    private static (float[] Y, float[] Mean, float[] InvStd, float[] RunningVar) Forward(string kernel, int threads, float[] x, float[] gamma,
        float[] beta, int n, int c, int s, bool relu)
    {
        var d = new CpuDevice(threads);
        var y = Tensor.Full(d, float.NaN, x.Length);
        var mean = Tensor.Full(d, float.NaN, c);
        var invStd = Tensor.Full(d, float.NaN, c);
        var runningVar = Tensor.Full(d, 1f, c);
        CpuGemm.KernelOverride = Enum.Parse<GemmKernel>(kernel);
        try
        {
            d.BatchNorm(Tensor.From(x, d, x.Length), Tensor.From(gamma, d, c), Tensor.From(beta, d, c), Tensor.Zeros(d, c), runningVar,
                mean, invStd, y, n, c, s, training: true, momentum: 0.1f, Eps, relu);
        }
        finally
        {
            CpuGemm.KernelOverride = null;
        }
        return (y.ToArray(), mean.ToArray(), invStd.ToArray(), runningVar.ToArray());
    }

    private static (float[] Dx, float[] DGamma, float[] DBeta) Backward(string kernel, int threads, float[] x, float[] gamma, float[] mean,
        float[] invStd, float[] dy, float[]? reluOutput, float[] dx0, int n, int c, int s, bool accumulate)
    {
        var d = new CpuDevice(threads);
        var dx = Tensor.From(dx0, d, x.Length);
        var dgamma = Tensor.Zeros(d, c);
        var dbeta = Tensor.Zeros(d, c);
        CpuGemm.KernelOverride = Enum.Parse<GemmKernel>(kernel);
        try
        {
            d.BatchNormBackward(Tensor.From(x, d, x.Length), Tensor.From(gamma, d, c), Tensor.From(mean, d, c), Tensor.From(invStd, d, c),
                Tensor.From(dy, d, dy.Length), dx, dgamma, dbeta, n, c, s, training: true, accumulate,
                reluOutput is null ? null : Tensor.From(reluOutput, d, reluOutput.Length));
        }
        finally
        {
            CpuGemm.KernelOverride = null;
        }
        return (dx.ToArray(), dgamma.ToArray(), dbeta.ToArray());
    }

    /// <summary>Training-mode batch norm in double (biased variance), then max(0, .) with <paramref name="relu"/>; also the variances.</summary>
    private static (double[] Y, double[] Mean, double[] InvStd, double[] Var) Reference(double[] x, double[] gamma, double[] beta, int n, int c, int s, bool relu)
    {
        var y = new double[x.Length];
        var means = new double[c];
        var invStds = new double[c];
        var vars = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            double sum = 0;
            for (int b = 0; b < n; b++)
            {
                for (int i = 0; i < s; i++)
                {
                    sum += x[(b * c + ch) * s + i];
                }
            }
            double mean = sum / (n * s), sq = 0;
            for (int b = 0; b < n; b++)
            {
                for (int i = 0; i < s; i++)
                {
                    double dv = x[(b * c + ch) * s + i] - mean;
                    sq += dv * dv;
                }
            }
            double variance = sq / (n * s), invStd = 1.0 / Math.Sqrt(variance + Eps);
            (means[ch], invStds[ch], vars[ch]) = (mean, invStd, variance);
            for (int b = 0; b < n; b++)
            {
                for (int i = 0; i < s; i++)
                {
                    int k = (b * c + ch) * s + i;
                    double v = (x[k] - mean) * invStd * gamma[ch] + beta[ch];
                    y[k] = relu ? Math.Max(0, v) : v;
                }
            }
        }
        return (y, means, invStds, vars);
    }
}
