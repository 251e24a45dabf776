using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Xunit;

namespace Dsl.Tests.Optim;

/// <summary>
/// <see cref="Sgd"/> trajectories: the same gradient sequence written into <see cref="Parameter.Grad"/> before each
/// step, the parameter compared after every step with <c>torch.optim.SGD</c> (optimizers.json) and with a float64
/// transcription of the algorithm on PyTorch's SGD page (fresh random gradients, ten steps).
/// </summary>
public class SgdTests
{
    private const string File = "optimizers.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File, c => c.String("optimizer") == "sgd");

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Sgd_trajectory_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var p = new Parameter("p", c.Input("param0").ToTensor(Target));
        var opt = new Sgd(new[] { p }, c.Float("lr"), c.Float("momentum"), c.Float("dampening"), c.Float("weight_decay"), c.Bool("nesterov"));
        var grads = c.Input("grads");
        for (int t = 0; t < c.Int("steps"); t++)
        {
            Target.Upload(grads.Row(t), p.Grad);
            opt.Step();
            Tolerance.Reduction.AssertClose(c.Expected("params").Row(t), p.Value.ToArray(), $"{c} after step {t + 1}");
        }
    }

    [Theory]
    [InlineData(0.05f, 0f, 0f, 0f, false)]
    [InlineData(0.05f, 0.9f, 0f, 0f, false)]
    [InlineData(0.05f, 0.9f, 0.5f, 0f, false)]
    [InlineData(0.05f, 0.8f, 0f, 0.01f, true)]
    [InlineData(0.02f, 0.5f, 0.1f, 0.1f, false)]
    public void Sgd_matches_a_float64_transcription_of_the_pytorch_algorithm(float lr, float momentum, float dampening, float weightDecay, bool nesterov)
    {
        var rng = new Random(42);
        const int n = 9, steps = 10;
        float[] p0 = RandomInputs.Normal(rng, n);
        var p = new Parameter("p", Tensor.From(p0, Target, 3, 3));
        var opt = new Sgd(new[] { p }, lr, momentum, dampening, weightDecay, nesterov);
        double[] theta = RandomInputs.ToDoubles(p0);
        double[]? buf = null;
        for (int t = 0; t < steps; t++)
        {
            float[] g = RandomInputs.Normal(rng, n);
            Target.Upload(g, p.Grad);
            opt.Step();

            // https://pytorch.org/docs/1.13/generated/torch.optim.SGD.html
            var d = new double[n];
            for (int i = 0; i < n; i++)
            {
                d[i] = g[i] + weightDecay * theta[i];
            }
            if (momentum != 0)
            {
                buf = buf is null ? (double[])d.Clone() : buf.Select((b, i) => momentum * b + (1 - dampening) * d[i]).ToArray();
                d = nesterov ? d.Select((v, i) => v + momentum * buf[i]).ToArray() : (double[])buf.Clone();
            }
            for (int i = 0; i < n; i++)
            {
                theta[i] -= lr * d[i];
            }
            Tolerance.Reduction.AssertClose(theta, p.Value.ToArray(), $"step {t + 1}");
        }
    }

    [Fact]
    public void Sgd_uses_the_learning_rate_set_between_steps()
    {
        var p = new Parameter("p", Tensor.From(new float[] { 1f, -2f }, Target, 2));
        var opt = new Sgd(new[] { p }, lr: 0.1f);
        Target.Upload(new float[] { 0.5f, 0.25f }, p.Grad);
        opt.Step();
        opt.LearningRate = 0.01f;
        opt.Step();
        Tolerance.Elementwise.AssertClose(new[] { 1 - 0.11 * 0.5, -2 - 0.11 * 0.25 }, p.Value.ToArray(), "after two steps");
    }

    [Fact]
    public void Sgd_rejects_nesterov_without_momentum()
        => Assert.Throws<ArgumentException>(() => new Sgd(new[] { new Parameter("p", Tensor.Zeros(Target, 2)) }, 0.1f, nesterov: true));
}
