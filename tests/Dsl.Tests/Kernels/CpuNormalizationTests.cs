using Dsl.Devices.Cpu;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

// Batch norm against a double-precision reference written from nn.BatchNorm2d's definition. Gradients: the loss is
// L = sum(R .* bn(x; gamma, beta)) for a random projection R, the analytic backward runs with dy = R, and dL/dx, dL/dgamma
// and dL/dbeta come from central finite differences (step 1e-4) of the double reference, where in training the batch
// statistics move with x. Tolerance atol 1e-4 + rtol 1e-3: float reductions over a channel plus an O(h^2) difference error.
public class CpuNormalizationTests
{
    private const float Eps = 1e-5f;
    private const float Momentum = 0.1f;

    private readonly CpuDevice _device = new(2);

    public static TheoryData<int, int, int> Shapes() => new()
    {
        // batch, channels, spatial
        { 4, 3, 5 },
        { 2, 3, 17 }, // segments longer than a SIMD vector, with a tail
        { 6, 2, 1 },  // one value per sample and channel (BatchNorm1d-like)
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BatchNorm_training_normalises_with_batch_statistics_and_saves_them(int n, int c, int s)
    {
        var random = new Random(n * 100 + c * 10 + s);
        var p = Parameters.Random(random, n, c, s);
        var (y, saveMean, saveInvStd, _, _) = Run(p, training: true);

        var (expected, mean, invStd) = Reference(p.X, p.Gamma, p.Beta, n, c, s, training: true, p.RunningMean, p.RunningVar);
        AssertClose(expected, y, 1e-5, 1e-5, "y");
        AssertClose(mean, saveMean, 1e-6, 1e-6, "saveMean");
        AssertClose(invStd, saveInvStd, 1e-6, 1e-5, "saveInvStd");
    }

    [Fact]
    public void BatchNorm_training_updates_running_statistics_with_unbiased_variance()
    {
        // x [N=2, C=2, S=2]. Channel 0 holds 1,2 | 3,4: mean 2.5, biased variance 1.25, unbiased 5/3.
        // Channel 1 holds 0,0 | 0,8: mean 2, biased variance 12, unbiased 16.
        var x = Tensor.From(new float[] { 1, 2, 0, 0, 3, 4, 0, 8 }, _device, 2, 2, 2);
        var runningMean = Tensor.From(new float[] { 0.5f, -1f }, _device, 2);
        var runningVar = Tensor.From(new float[] { 2f, 1f }, _device, 2);
        var saveMean = Tensor.Zeros(_device, 2);
        var saveInvStd = Tensor.Zeros(_device, 2);

        _device.BatchNorm(x, Tensor.Full(_device, 1f, 2), Tensor.Zeros(_device, 2), runningMean, runningVar,
            saveMean, saveInvStd, Tensor.Zeros(_device, 8), 2, 2, 2, training: true, Momentum, Eps);

        // running = 0.9 * running + 0.1 * batch statistic
        Assert.Equal(new[] { 0.9f * 0.5f + 0.1f * 2.5f, 0.9f * -1f + 0.1f * 2f }, runningMean.ToArray(), new Within(1e-6f));
        Assert.Equal(new[] { 0.9f * 2f + 0.1f * (5f / 3f), 0.9f * 1f + 0.1f * 16f }, runningVar.ToArray(), new Within(1e-6f));
        Assert.Equal(new[] { 2.5f, 2f }, saveMean.ToArray(), new Within(1e-6f));
        Assert.Equal(new[] { 1f / MathF.Sqrt(1.25f + Eps), 1f / MathF.Sqrt(12f + Eps) }, saveInvStd.ToArray(), new Within(1e-6f));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BatchNorm_evaluation_uses_running_statistics_and_leaves_them_unchanged(int n, int c, int s)
    {
        var random = new Random(n + c + s);
        var p = Parameters.Random(random, n, c, s);
        var (y, saveMean, saveInvStd, runningMean, runningVar) = Run(p, training: false);

        var (expected, mean, invStd) = Reference(p.X, p.Gamma, p.Beta, n, c, s, training: false, p.RunningMean, p.RunningVar);
        AssertClose(expected, y, 1e-5, 1e-5, "y");
        AssertClose(mean, saveMean, 0, 0, "saveMean");
        AssertClose(invStd, saveInvStd, 1e-6, 1e-6, "saveInvStd");
        Assert.Equal(p.RunningMeanF, runningMean);
        Assert.Equal(p.RunningVarF, runningVar);
    }

    [Theory]
    [InlineData(4, 3, 5, true, false)]
    [InlineData(4, 3, 5, true, true)]
    [InlineData(2, 3, 17, true, false)]
    [InlineData(6, 2, 1, true, true)]
    [InlineData(4, 3, 5, false, false)]
    [InlineData(2, 3, 17, false, true)]
    public void BatchNorm_backward_matches_finite_differences(int n, int c, int s, bool training, bool accumulateDx)
    {
        var random = new Random(n * 1000 + c * 100 + s * 10 + (training ? 1 : 0));
        var p = Parameters.Random(random, n, c, s);
        var (_, saveMean, saveInvStd, _, _) = Run(p, training);
        var r = Uniform(random, n * c * s);
        var dx0 = Uniform(random, n * c * s);
        var dgamma0 = Uniform(random, c);
        var dbeta0 = Uniform(random, c);
        var dx = Tensor.From(dx0, _device, n * c * s);
        var dgamma = Tensor.From(dgamma0, _device, c);
        var dbeta = Tensor.From(dbeta0, _device, c);

        _device.BatchNormBackward(Tensor.From(p.XF, _device, n * c * s), Tensor.From(p.GammaF, _device, c),
            Tensor.From(saveMean, _device, c), Tensor.From(saveInvStd, _device, c), Tensor.From(r, _device, n * c * s),
            dx, dgamma, dbeta, n, c, s, training, accumulateDx);

        var rd = Widen(r);
        double Loss() => Dot(Reference(p.X, p.Gamma, p.Beta, n, c, s, training, p.RunningMean, p.RunningVar).Y, rd);
        const double h = 1e-4;
        var gx = CentralDifferences(p.X, Loss, h);
        var gGamma = CentralDifferences(p.Gamma, Loss, h);
        var gBeta = CentralDifferences(p.Beta, Loss, h);
        AssertClose(accumulateDx ? Plus(gx, dx0) : gx, dx.ToArray(), 1e-4, 1e-3, $"dx (training {training}, accumulate {accumulateDx})");
        AssertClose(Plus(gGamma, dgamma0), dgamma.ToArray(), 1e-4, 1e-3, "dgamma");
        AssertClose(Plus(gBeta, dbeta0), dbeta.ToArray(), 1e-4, 1e-3, "dbeta");
    }

    [Fact]
    public void BatchNorm_training_with_one_value_per_channel_is_rejected_as_in_pytorch()
    {
        var e = Assert.Throws<ArgumentException>(() => _device.BatchNorm(Tensor.Zeros(_device, 3), Tensor.Zeros(_device, 3),
            Tensor.Zeros(_device, 3), Tensor.Zeros(_device, 3), Tensor.Zeros(_device, 3), Tensor.Zeros(_device, 3),
            Tensor.Zeros(_device, 3), Tensor.Zeros(_device, 3), 1, 3, 1, training: true, Momentum, Eps));
        Assert.Contains("more than one value per channel", e.Message);
    }

    // ------------------------------------------------------------------ helpers and reference

    private (float[] Y, float[] SaveMean, float[] SaveInvStd, float[] RunningMean, float[] RunningVar) Run(Parameters p, bool training)
    {
        int total = p.N * p.C * p.S;
        var y = Tensor.Full(_device, float.NaN, total);
        var saveMean = Tensor.Full(_device, float.NaN, p.C);
        var saveInvStd = Tensor.Full(_device, float.NaN, p.C);
        var runningMean = Tensor.From(p.RunningMeanF, _device, p.C);
        var runningVar = Tensor.From(p.RunningVarF, _device, p.C);
        _device.BatchNorm(Tensor.From(p.XF, _device, total), Tensor.From(p.GammaF, _device, p.C), Tensor.From(p.BetaF, _device, p.C),
            runningMean, runningVar, saveMean, saveInvStd, y, p.N, p.C, p.S, training, Momentum, Eps);
        return (y.ToArray(), saveMean.ToArray(), saveInvStd.ToArray(), runningMean.ToArray(), runningVar.ToArray());
    }

    /// <summary>y = (x - mean) / sqrt(var + eps) * gamma + beta per channel; batch mean and biased variance in training.</summary>
    private static (double[] Y, double[] Mean, double[] InvStd) Reference(double[] x, double[] gamma, double[] beta, int n, int c, int s,
        bool training, double[] runningMean, double[] runningVar)
    {
        var y = new double[x.Length];
        var means = new double[c];
        var invStds = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            double mean = runningMean[ch], variance = runningVar[ch];
            if (training)
            {
                double sum = 0;
                for (int b = 0; b < n; b++)
                {
                    for (int i = 0; i < s; i++)
                    {
                        sum += x[(b * c + ch) * s + i];
                    }
                }
                mean = sum / (n * s);
                double sq = 0;
                for (int b = 0; b < n; b++)
                {
                    for (int i = 0; i < s; i++)
                    {
                        double d = x[(b * c + ch) * s + i] - mean;
                        sq += d * d;
                    }
                }
                variance = sq / (n * s);
            }
            double invStd = 1.0 / Math.Sqrt(variance + Eps);
            means[ch] = mean;
            invStds[ch] = invStd;
            for (int b = 0; b < n; b++)
            {
                for (int i = 0; i < s; i++)
                {
                    int k = (b * c + ch) * s + i;
                    y[k] = (x[k] - mean) * invStd * gamma[ch] + beta[ch];
                }
            }
        }
        return (y, means, invStds);
    }

    /// <summary>One problem: float values for the kernel and the same values in double for the reference.</summary>
    private sealed record Parameters(int N, int C, int S, float[] XF, float[] GammaF, float[] BetaF, float[] RunningMeanF, float[] RunningVarF)
    {
        public double[] X { get; } = Widen(XF);
        public double[] Gamma { get; } = Widen(GammaF);
        public double[] Beta { get; } = Widen(BetaF);
        public double[] RunningMean { get; } = Widen(RunningMeanF);
        public double[] RunningVar { get; } = Widen(RunningVarF);

        // Inputs off-centre and not unit-scaled, so mean and variance both matter.
        public static Parameters Random(Random random, int n, int c, int s) => new(n, c, s,
            Uniform(random, n * c * s, -1.5f, 2.5f),
            Uniform(random, c, 0.5f, 1.5f),
            Uniform(random, c, -0.5f, 0.5f),
            Uniform(random, c, -0.5f, 0.5f),
            Uniform(random, c, 0.5f, 2f));
    }

    private sealed class Within(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;

        public int GetHashCode(float v) => 0;
    }
}
