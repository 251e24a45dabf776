using Dsl.Tests.Fixtures;
using Xunit;

namespace Dsl.Tests.Gradients;

/// <summary>
/// <c>BatchNorm</c> and <c>BatchNormBackward</c> (<c>nn.BatchNorm2d</c>, momentum 0.1, eps 1e-5) in training mode
/// (batch statistics, saved mean and inverse deviation, running statistics updated with the unbiased variance) and
/// evaluation mode, against PyTorch (batchnorm.json) and central differences of a float64 forward.
/// </summary>
public class BatchNormFixtureTests
{
    private const string File = "batchnorm.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void BatchNorm_forward_and_running_statistics_match_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var s = Run(c);
        Tolerance.Reduction.AssertClose(c.Expected("y").Data, s.Y.ToArray(), $"{c} y");
        Tolerance.Reduction.AssertClose(c.Expected("running_mean").Data, s.RunningMean.ToArray(), $"{c} running_mean");
        Tolerance.Reduction.AssertClose(c.Expected("running_var").Data, s.RunningVar.ToArray(), $"{c} running_var");
        Tolerance.Reduction.AssertClose(c.Expected("save_mean").Data, s.SaveMean.ToArray(), $"{c} save_mean");
        Tolerance.Reduction.AssertClose(c.Expected("save_invstd").Data, s.SaveInvStd.ToArray(), $"{c} save_invstd");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BatchNorm_backward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var s = Run(c);
        int n = c.Int("batch"), ch = c.Int("channels"), spatial = c.Int("height") * c.Int("width");
        var dx = Tensor.Full(Target, float.NaN, s.X.Shape);
        var dgamma = Tensor.Zeros(Target, ch);
        var dbeta = Tensor.Zeros(Target, ch);
        Target.BatchNormBackward(s.X, s.Gamma, s.SaveMean, s.SaveInvStd, c.Input("dy").ToTensor(Target), dx, dgamma, dbeta, n, ch, spatial, c.Bool("training"), accumulateDx: false);
        Tolerance.Reduction.AssertClose(c.Expected("dx").Data, dx.ToArray(), $"{c} dx");
        Tolerance.Reduction.AssertClose(c.Expected("dgamma").Data, dgamma.ToArray(), $"{c} dgamma");
        Tolerance.Reduction.AssertClose(c.Expected("dbeta").Data, dbeta.ToArray(), $"{c} dbeta");
    }

    [Fact]
    public void BatchNorm_backward_adds_to_existing_gradients()
    {
        var c = FixtureFile.Load(File).Case("train_4x3x3x3");
        var s = Run(c);
        int n = c.Int("batch"), ch = c.Int("channels"), spatial = c.Int("height") * c.Int("width");
        var rng = new Random(12);
        float[] dx0 = RandomInputs.Normal(rng, (int)s.X.Length), dg0 = RandomInputs.Normal(rng, ch), db0 = RandomInputs.Normal(rng, ch);
        var dx = Tensor.From(dx0, Target, s.X.Shape);
        var dgamma = Tensor.From(dg0, Target, ch);
        var dbeta = Tensor.From(db0, Target, ch);
        Target.BatchNormBackward(s.X, s.Gamma, s.SaveMean, s.SaveInvStd, c.Input("dy").ToTensor(Target), dx, dgamma, dbeta, n, ch, spatial, training: true, accumulateDx: true);
        Tolerance.Reduction.AssertClose(Sum(c.Expected("dx").Data, dx0), dx.ToArray(), "accumulated dx");
        Tolerance.Reduction.AssertClose(Sum(c.Expected("dgamma").Data, dg0), dgamma.ToArray(), "accumulated dgamma");
        Tolerance.Reduction.AssertClose(Sum(c.Expected("dbeta").Data, db0), dbeta.ToArray(), "accumulated dbeta");
    }

    [Theory]
    [InlineData(true, 3, 2, 4)]
    [InlineData(true, 6, 3, 1)]
    [InlineData(false, 2, 3, 5)]
    public void BatchNorm_gradients_match_finite_differences(bool training, int n, int ch, int spatial)
    {
        const float eps = 1e-5f;
        var rng = new Random(n * 100 + ch * 10 + spatial + (training ? 1 : 0));
        float[] x = RandomInputs.Normal(rng, n * ch * spatial, 1.5);
        float[] gamma = RandomInputs.Uniform(rng, ch, 0.5, 1.5);
        float[] beta = RandomInputs.Normal(rng, ch);
        float[] rm = RandomInputs.Normal(rng, ch, 0.3);
        float[] rv = RandomInputs.Uniform(rng, ch, 0.5, 2.0);
        float[] dy = RandomInputs.Normal(rng, n * ch * spatial);

        var xt = Tensor.From(x, Target, n, ch, spatial);
        var gt = Tensor.From(gamma, Target, ch);
        var saveMean = Tensor.Zeros(Target, ch);
        var saveInvStd = Tensor.Zeros(Target, ch);
        var y = Tensor.Full(Target, float.NaN, n, ch, spatial);
        Target.BatchNorm(xt, gt, Tensor.From(beta, Target, ch), Tensor.From(rm, Target, ch), Tensor.From(rv, Target, ch), saveMean, saveInvStd, y, n, ch, spatial, training, 0.1f, eps);
        var dx = Tensor.Full(Target, float.NaN, n, ch, spatial);
        var dgamma = Tensor.Zeros(Target, ch);
        var dbeta = Tensor.Zeros(Target, ch);
        Target.BatchNormBackward(xt, gt, saveMean, saveInvStd, Tensor.From(dy, Target, n, ch, spatial), dx, dgamma, dbeta, n, ch, spatial, training, accumulateDx: false);

        double[] xd = RandomInputs.ToDoubles(x), gd = RandomInputs.ToDoubles(gamma), bd = RandomInputs.ToDoubles(beta), dyd = RandomInputs.ToDoubles(dy);
        double[] rmd = RandomInputs.ToDoubles(rm), rvd = RandomInputs.ToDoubles(rv);
        Func<double[], double[], double[], double[]> f = (xv, gv, bv) => Reference(xv, gv, bv, rmd, rvd, n, ch, spatial, training, eps);
        Tolerance.Reduction.AssertClose(f(xd, gd, bd), y.ToArray(), "y vs float64 reference");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(v => f(v, gd, bd), xd, dyd), dx.ToArray(), "dx vs finite differences");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(v => f(xd, v, bd), gd, dyd), dgamma.ToArray(), "dgamma vs finite differences");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(v => f(xd, gd, v), bd, dyd), dbeta.ToArray(), "dbeta vs finite differences");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64_reference_used_for_finite_differences_matches_pytorch(string name)
    {
        // Guards the oracle itself: a wrong reference would blame a correct kernel.
        var c = FixtureFile.Load(File).Case(name);
        var y = Reference(c.Input("x").ToDoubles(), c.Input("gamma").ToDoubles(), c.Input("beta").ToDoubles(),
            c.Input("running_mean").ToDoubles(), c.Input("running_var").ToDoubles(),
            c.Int("batch"), c.Int("channels"), c.Int("height") * c.Int("width"), c.Bool("training"), c.Double("eps"));
        Tolerance.Reduction.AssertClose(c.Expected("y").Data, y.Select(v => (float)v).ToArray(), $"{c} float64 reference y");
    }

    private sealed record State(Tensor X, Tensor Gamma, Tensor Y, Tensor RunningMean, Tensor RunningVar, Tensor SaveMean, Tensor SaveInvStd);

    private State Run(FixtureCase c)
    {
        int n = c.Int("batch"), ch = c.Int("channels"), spatial = c.Int("height") * c.Int("width");
        var x = c.Input("x").ToTensor(Target);
        var gamma = c.Input("gamma").ToTensor(Target);
        var rm = c.Input("running_mean").ToTensor(Target);
        var rv = c.Input("running_var").ToTensor(Target);
        var saveMean = Tensor.Full(Target, float.NaN, ch);
        var saveInvStd = Tensor.Full(Target, float.NaN, ch);
        var y = Tensor.Full(Target, float.NaN, x.Shape);
        Target.BatchNorm(x, gamma, c.Input("beta").ToTensor(Target), rm, rv, saveMean, saveInvStd, y, n, ch, spatial,
            c.Bool("training"), c.Float("momentum"), c.Float("eps"));
        return new State(x, gamma, y, rm, rv, saveMean, saveInvStd);
    }

    private static double[] Sum(float[] a, float[] b) => a.Select((v, i) => (double)v + b[i]).ToArray();

    /// <summary>y = gamma (x - mean) / sqrt(var + eps) + beta per channel; batch mean and biased variance in training.</summary>
    private static double[] Reference(double[] x, double[] gamma, double[] beta, double[] runningMean, double[] runningVar,
        int n, int ch, int spatial, bool training, double eps)
    {
        var y = new double[x.Length];
        for (int c = 0; c < ch; c++)
        {
            double mean = runningMean[c], variance = runningVar[c];
            if (training)
            {
                double sum = 0, sq = 0;
                for (int b = 0; b < n; b++)
                {
                    for (int s = 0; s < spatial; s++)
                    {
                        sum += x[(b * ch + c) * spatial + s];
                    }
                }
                mean = sum / (n * spatial);
                for (int b = 0; b < n; b++)
                {
                    for (int s = 0; s < spatial; s++)
                    {
                        double d = x[(b * ch + c) * spatial + s] - mean;
                        sq += d * d;
                    }
                }
                variance = sq / (n * spatial);
            }
            double inv = 1 / Math.Sqrt(variance + eps);
            for (int b = 0; b < n; b++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    int i = (b * ch + c) * spatial + s;
                    y[i] = gamma[c] * (x[i] - mean) * inv + beta[c];
                }
            }
        }
        return y;
    }
}
