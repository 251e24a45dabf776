using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Xunit;

namespace Dsl.Tests.Optim;

/// <summary>
/// <see cref="Adam"/> (and AdamW through <c>decoupledWeightDecay</c>) trajectories against <c>torch.optim.Adam</c> /
/// <c>torch.optim.AdamW</c> (optimizers.json, the same gradients written into <see cref="Parameter.Grad"/>) and against a
/// float64 transcription of the algorithms on PyTorch's pages (fresh random gradients, ten steps).
/// </summary>
public class AdamTests
{
    private const string File = "optimizers.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File, c => c.String("optimizer") is "adam" or "adamw");

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Adam_trajectory_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var p = new Parameter("p", c.Input("param0").ToTensor(Target));
        var opt = new Adam(new[] { p }, c.Float("lr"), c.Float("beta1"), c.Float("beta2"), c.Float("eps"), c.Float("weight_decay"),
            decoupledWeightDecay: c.String("optimizer") == "adamw");
        var grads = c.Input("grads");
        for (int t = 0; t < c.Int("steps"); t++)
        {
            Target.Upload(grads.Row(t), p.Grad);
            opt.Step();
            Tolerance.Reduction.AssertClose(c.Expected("params").Row(t), p.Value.ToArray(), $"{c} after step {t + 1}");
        }
    }

    [Theory]
    [InlineData(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false)]
    [InlineData(0.05f, 0.8f, 0.99f, 1e-6f, 0.1f, false)]
    [InlineData(0.05f, 0.9f, 0.999f, 1e-8f, 0.1f, true)]
    [InlineData(0.01f, 0.5f, 0.9f, 1e-3f, 0.01f, true)]
    public void Adam_matches_a_float64_transcription_of_the_pytorch_algorithm(float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled)
    {
        var rng = new Random(43);
        const int n = 8, steps = 10;
        float[] p0 = RandomInputs.Normal(rng, n);
        var p = new Parameter("p", Tensor.From(p0, Target, 2, 4));
        var opt = new Adam(new[] { p }, lr, beta1, beta2, eps, weightDecay, decoupled);
        double[] theta = RandomInputs.ToDoubles(p0);
        var m = new double[n];
        var v = new double[n];
        for (int t = 1; t <= steps; t++)
        {
            float[] g = RandomInputs.Normal(rng, n);
            Target.Upload(g, p.Grad);
            opt.Step();

            // https://pytorch.org/docs/1.13/generated/torch.optim.Adam.html and .../torch.optim.AdamW.html
            for (int i = 0; i < n; i++)
            {
                double gi = g[i];
                if (decoupled)
                {
                    theta[i] *= 1 - (double)lr * weightDecay;
                }
                else
                {
                    gi += weightDecay * theta[i];
                }
                m[i] = beta1 * m[i] + (1 - (double)beta1) * gi;
                v[i] = beta2 * v[i] + (1 - (double)beta2) * gi * gi;
                double mHat = m[i] / (1 - Math.Pow(beta1, t));
                double vHat = v[i] / (1 - Math.Pow(beta2, t));
                theta[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
            Tolerance.Reduction.AssertClose(theta, p.Value.ToArray(), $"step {t}");
        }
    }

    [Fact]
    public void Adam_first_step_moves_each_parameter_by_about_the_learning_rate()
    {
        // With bias correction the first update is lr * g / (|g| + eps): a sign step of size lr, whatever the gradient's scale.
        var p = new Parameter("p", Tensor.From(new float[] { 1f, 1f, 1f }, Target, 3));
        var opt = new Adam(new[] { p }, lr: 0.1f);
        Target.Upload(new float[] { 1e-3f, -50f, 7f }, p.Grad);
        opt.Step();
        Tolerance.Elementwise.AssertClose(new[] { 0.9, 1.1, 0.9 }, p.Value.ToArray(), "after one step");
    }
}
