using Dsl.Tests.Fixtures;
using Xunit;

namespace Dsl.Tests.Gradients;

/// <summary>
/// <c>Activation</c> and <c>ActivationBackward</c> for every <see cref="ActivationKind"/>, against PyTorch
/// (activations.json; inputs kept away from the kink at 0) and against central differences of a float64 forward
/// written here from the PyTorch definitions (not from <see cref="ActivationMath"/>).
/// </summary>
public class ActivationTests
{
    private const string File = "activations.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    public static TheoryData<ActivationKind, float> Kinds => new()
    {
        { ActivationKind.Relu, 0f },
        { ActivationKind.Tanh, 0f },
        { ActivationKind.Sigmoid, 0f },
        { ActivationKind.LeakyRelu, 0.01f },
        { ActivationKind.LeakyRelu, 0.2f },
        { ActivationKind.Elu, 1.0f },
        { ActivationKind.Elu, 0.5f },
        { ActivationKind.Gelu, 0f },
    };

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Activation_forward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var (kind, alpha) = KindOf(c);
        var x = c.Input("x").ToTensor(Target);
        var y = Tensor.Full(Target, float.NaN, x.Shape);
        Target.Activation(kind, alpha, x, y);
        Tolerance.Elementwise.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Activation_backward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var (kind, alpha) = KindOf(c);
        var x = c.Input("x").ToTensor(Target);
        var y = Tensor.Zeros(Target, x.Shape);
        Target.Activation(kind, alpha, x, y);
        var dx = Tensor.Full(Target, float.NaN, x.Shape);
        Target.ActivationBackward(kind, alpha, x, y, c.Input("dy").ToTensor(Target), dx, accumulate: false);
        Tolerance.Elementwise.AssertClose(c.Expected("dx").Data, dx.ToArray(), $"{c} dx");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Activation_backward_matches_finite_differences(ActivationKind kind, float alpha)
    {
        var rng = new Random(17 + (int)kind);
        const int n = 40;
        // Gelu's float64 reference uses erf's Taylor series, accurate for |x| < 3.5: keep inputs inside.
        float[] x = RandomInputs.AwayFromZero(rng, n, scale: 1.5).Select(v => Math.Clamp(v, -3.4f, 3.4f)).ToArray();
        float[] dy = RandomInputs.Normal(rng, n);
        var xt = Tensor.From(x, Target, n);
        var y = Tensor.Zeros(Target, n);
        Target.Activation(kind, alpha, xt, y);
        var dx = Tensor.Zeros(Target, n);
        Target.ActivationBackward(kind, alpha, xt, y, Tensor.From(dy, Target, n), dx, accumulate: false);

        double[] xd = RandomInputs.ToDoubles(x);
        Func<double[], double[]> f = v => v.Select(e => Reference(kind, alpha, e)).ToArray();
        Tolerance.Elementwise.AssertClose(f(xd), y.ToArray(), $"{kind}({alpha}) y vs float64 reference");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(f, xd, RandomInputs.ToDoubles(dy)), dx.ToArray(), $"{kind}({alpha}) dx vs finite differences");
    }

    [Fact]
    public void Activation_backward_accumulates_when_asked()
    {
        var c = FixtureFile.Load(File).Case("tanh");
        var x = c.Input("x").ToTensor(Target);
        var y = Tensor.Zeros(Target, x.Shape);
        Target.Activation(ActivationKind.Tanh, 0f, x, y);
        float[] prior = RandomInputs.Normal(new Random(5), (int)x.Length);
        var dx = Tensor.From(prior, Target, x.Shape);
        Target.ActivationBackward(ActivationKind.Tanh, 0f, x, y, c.Input("dy").ToTensor(Target), dx, accumulate: true);
        var expected = c.Expected("dx").Data.Select((v, i) => (double)v + prior[i]).ToArray();
        Tolerance.Elementwise.AssertClose(expected, dx.ToArray(), "accumulated tanh dx");
    }

    private static (ActivationKind Kind, float Alpha) KindOf(FixtureCase c)
        => (Enum.Parse<ActivationKind>(c.String("kind")), c.Float("alpha"));

    /// <summary>PyTorch's definitions in float64.</summary>
    private static double Reference(ActivationKind kind, double alpha, double x) => kind switch
    {
        ActivationKind.Relu => Math.Max(x, 0),
        ActivationKind.Tanh => Math.Tanh(x),
        ActivationKind.Sigmoid => 1 / (1 + Math.Exp(-x)),
        ActivationKind.LeakyRelu => x > 0 ? x : alpha * x,
        ActivationKind.Elu => x > 0 ? x : alpha * (Math.Exp(x) - 1),
        ActivationKind.Gelu => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>erf by its Taylor series; float64 cancellation stays below 1e-12 for |x| &lt; 2.5 (Gelu's x/sqrt 2).</summary>
    private static double Erf(double x)
    {
        double term = x, sum = x;
        for (int k = 1; k < 200 && Math.Abs(term) > 1e-17; k++)
        {
            term *= -x * x / k;
            sum += term / (2 * k + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}
