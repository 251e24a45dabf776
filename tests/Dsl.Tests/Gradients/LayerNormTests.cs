using Dsl.Tests.Fixtures;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Gradients;

/// <summary>
/// <c>LayerNorm</c> and <c>LayerNormBackward</c> (<c>nn.LayerNorm(features)</c>, eps 1e-5, with and without the
/// elementwise affine) against PyTorch (layernorm.json) and against central differences of a float64 forward
/// written here; parameter gradients accumulate and dx accumulates when asked.
/// </summary>
public class LayerNormTests
{
    private const string File = "layernorm.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void LayerNorm_forward_and_saved_statistics_match_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var s = Run(c);
        Tolerance.Reduction.AssertClose(c.Expected("y").Data, s.Y.ToArray(), $"{c} y");
        Tolerance.Reduction.AssertClose(c.Expected("save_mean").Data, s.Mean.ToArray(), $"{c} save_mean");
        Tolerance.Reduction.AssertClose(c.Expected("save_invstd").Data, s.InvStd.ToArray(), $"{c} save_invstd");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LayerNorm_backward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var s = Run(c);
        int rows = c.Int("rows"), features = c.Int("features");
        var dx = Tensor.Full(Target, float.NaN, s.X.Shape);
        var dgamma = s.Gamma is null ? null : Tensor.Zeros(Target, features);
        var dbeta = s.Gamma is null ? null : Tensor.Zeros(Target, features);
        Target.LayerNormBackward(s.X, s.Gamma, s.Mean, s.InvStd, c.Input("dy").ToTensor(Target), dx, dgamma, dbeta, rows, features, accumulateDx: false);
        Tolerance.Reduction.AssertClose(c.Expected("dx").Data, dx.ToArray(), $"{c} dx");
        if (dgamma is not null)
        {
            Tolerance.Reduction.AssertClose(c.Expected("dgamma").Data, dgamma.ToArray(), $"{c} dgamma");
            Tolerance.Reduction.AssertClose(c.Expected("dbeta").Data, dbeta!.ToArray(), $"{c} dbeta");
        }
    }

    [Fact]
    public void LayerNorm_backward_adds_to_existing_gradients()
    {
        var c = FixtureFile.Load(File).Case("affine_6x10");
        var s = Run(c);
        int rows = c.Int("rows"), features = c.Int("features");
        var rng = new Random(31);
        float[] dx0 = RandomInputs.Normal(rng, rows * features), dg0 = RandomInputs.Normal(rng, features), db0 = RandomInputs.Normal(rng, features);
        var dx = Tensor.From(dx0, Target, rows, features);
        var dgamma = Tensor.From(dg0, Target, features);
        var dbeta = Tensor.From(db0, Target, features);
        Target.LayerNormBackward(s.X, s.Gamma, s.Mean, s.InvStd, c.Input("dy").ToTensor(Target), dx, dgamma, dbeta, rows, features, accumulateDx: true);
        Tolerance.Reduction.AssertClose(c.Expected("dx").Data.Select((v, i) => (double)v + dx0[i]).ToArray(), dx.ToArray(), "accumulated dx");
        Tolerance.Reduction.AssertClose(c.Expected("dgamma").Data.Select((v, i) => (double)v + dg0[i]).ToArray(), dgamma.ToArray(), "accumulated dgamma");
        Tolerance.Reduction.AssertClose(c.Expected("dbeta").Data.Select((v, i) => (double)v + db0[i]).ToArray(), dbeta.ToArray(), "accumulated dbeta");
    }

    [Theory]
    [InlineData(4, 9, true)]
    [InlineData(3, 20, false)]
    public void LayerNorm_gradients_match_finite_differences(int rows, int features, bool affine)
    {
        const double eps = 1e-5;
        var rng = new Random(37 + features);
        float[] x = RandomInputs.Normal(rng, rows * features, scale: 1.5);
        float[] gamma = affine ? RandomInputs.Uniform(rng, features, 0.5, 1.5) : Enumerable.Repeat(1f, features).ToArray();
        float[] beta = affine ? RandomInputs.Normal(rng, features, scale: 0.5) : new float[features];
        float[] dy = RandomInputs.Normal(rng, rows * features);
        var xt = Tensor.From(x, Target, rows, features);
        var gt = affine ? Tensor.From(gamma, Target, features) : null;
        var bt = affine ? Tensor.From(beta, Target, features) : null;
        var mean = Tensor.Zeros(Target, rows);
        var invStd = Tensor.Zeros(Target, rows);
        var y = Tensor.Zeros(Target, rows, features);
        Target.LayerNorm(xt, gt, bt, mean, invStd, y, rows, features, (float)eps);
        var dx = Tensor.Zeros(Target, rows, features);
        var dgamma = affine ? Tensor.Zeros(Target, features) : null;
        var dbeta = affine ? Tensor.Zeros(Target, features) : null;
        Target.LayerNormBackward(xt, gt, mean, invStd, Tensor.From(dy, Target, rows, features), dx, dgamma, dbeta, rows, features, accumulateDx: false);

        // The float64 forward as a function of (x, gamma, beta) laid end to end.
        double[] all = RandomInputs.ToDoubles(x).Concat(RandomInputs.ToDoubles(gamma)).Concat(RandomInputs.ToDoubles(beta)).ToArray();
        double[] Forward(double[] v)
        {
            var result = new double[rows * features];
            for (int r = 0; r < rows; r++)
            {
                double m = 0, var = 0;
                for (int j = 0; j < features; j++)
                {
                    m += v[r * features + j];
                }
                m /= features;
                for (int j = 0; j < features; j++)
                {
                    var += (v[r * features + j] - m) * (v[r * features + j] - m);
                }
                double inv = 1 / Math.Sqrt(var / features + eps);
                for (int j = 0; j < features; j++)
                {
                    result[r * features + j] = (v[r * features + j] - m) * inv * v[rows * features + j] + v[rows * features + features + j];
                }
            }
            return result;
        }
        Tolerance.Reduction.AssertClose(Forward(all), y.ToArray(), "y vs float64");
        double[] numeric = FiniteDifference.Gradient(Forward, all, RandomInputs.ToDoubles(dy));
        Tolerance.FiniteDifference.AssertClose(numeric.AsSpan(0, rows * features), dx.ToArray(), "dx vs finite differences");
        if (affine)
        {
            Tolerance.FiniteDifference.AssertClose(numeric.AsSpan(rows * features, features), dgamma!.ToArray(), "dgamma vs finite differences");
            Tolerance.FiniteDifference.AssertClose(numeric.AsSpan(rows * features + features, features), dbeta!.ToArray(), "dbeta vs finite differences");
        }
    }

    [Fact]
    public void LayerNorm_with_a_wrong_gamma_names_the_operand_and_the_expected_shape()
    {
        var x = Tensor.Zeros(Target, 2, 5);
        var e = Assert.Throws<ArgumentException>(() => Target.LayerNorm(x, Tensor.Zeros(Target, 4), null, Tensor.Zeros(Target, 2), Tensor.Zeros(Target, 2),
            Tensor.Zeros(Target, 2, 5), 2, 5, 1e-5f));
        Assert.Contains("LayerNorm: gamma should be [5] (5 elements)", e.Message);
    }

    private sealed record State(Tensor X, Tensor? Gamma, Tensor Y, Tensor Mean, Tensor InvStd);

    private State Run(FixtureCase c)
    {
        int rows = c.Int("rows"), features = c.Int("features");
        var x = c.Input("x").ToTensor(Target);
        var gamma = c.Bool("affine") ? c.Input("gamma").ToTensor(Target) : null;
        var beta = c.Bool("affine") ? c.Input("beta").ToTensor(Target) : null;
        var y = Tensor.Full(Target, float.NaN, rows, features);
        var mean = Tensor.Full(Target, float.NaN, rows);
        var invStd = Tensor.Full(Target, float.NaN, rows);
        Target.LayerNorm(x, gamma, beta, mean, invStd, y, rows, features, c.Float("eps"));
        return new State(x, gamma, y, mean, invStd);
    }
}

/// <summary>The LayerNorm suite on the ILGPU kernels (CPU accelerator).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuLayerNormTests(IlgpuCpuAcceleratorFixture fixture) : LayerNormTests
{
    protected override Device Target => fixture.Device;
}
