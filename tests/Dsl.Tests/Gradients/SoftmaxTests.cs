using Dsl.Tests.Fixtures;
using Xunit;

namespace Dsl.Tests.Gradients;

/// <summary>
/// Softmax and LogSoftmax over the last dimension (forward and <c>SoftmaxBackward</c>) against PyTorch
/// (softmax.json) and central differences of a float64 forward.
/// </summary>
public class SoftmaxTests
{
    private const string File = "softmax.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Softmax_forward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var x = c.Input("x").ToTensor(Target);
        var y = Tensor.Full(Target, float.NaN, x.Shape);
        Target.Softmax(x, y, c.Bool("log"));
        Tolerance.Elementwise.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Softmax_backward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        bool log = c.Bool("log");
        var x = c.Input("x").ToTensor(Target);
        var y = Tensor.Zeros(Target, x.Shape);
        Target.Softmax(x, y, log);
        var dx = Tensor.Full(Target, float.NaN, x.Shape);
        Target.SoftmaxBackward(y, c.Input("dy").ToTensor(Target), dx, log, accumulate: false);
        Tolerance.Elementwise.AssertClose(c.Expected("dx").Data, dx.ToArray(), $"{c} dx");
    }

    [Theory]
    [InlineData(false, 3, 5)]
    [InlineData(true, 3, 5)]
    [InlineData(false, 2, 1)]
    [InlineData(true, 4, 12)]
    public void Softmax_backward_matches_finite_differences(bool log, int rows, int cols)
    {
        var rng = new Random(rows * 31 + cols + (log ? 1000 : 0));
        float[] x = RandomInputs.Normal(rng, rows * cols, 2.0);
        float[] dy = RandomInputs.Normal(rng, rows * cols);
        var xt = Tensor.From(x, Target, rows, cols);
        var y = Tensor.Zeros(Target, rows, cols);
        Target.Softmax(xt, y, log);
        var dx = Tensor.Zeros(Target, rows, cols);
        Target.SoftmaxBackward(y, Tensor.From(dy, Target, rows, cols), dx, log, accumulate: false);

        double[] xd = RandomInputs.ToDoubles(x);
        Func<double[], double[]> f = v => Reference(v, rows, cols, log);
        Tolerance.Elementwise.AssertClose(f(xd), y.ToArray(), "y vs float64 reference");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(f, xd, RandomInputs.ToDoubles(dy)), dx.ToArray(), "dx vs finite differences");
    }

    [Fact]
    public void Softmax_of_large_logits_stays_finite()
    {
        var x = Tensor.From(new float[] { 1000f, 999f, -1000f, 500f }, Target, 1, 4);
        var y = Tensor.Zeros(Target, 1, 4);
        Target.Softmax(x, y, log: true);
        double lse = 1000 + Math.Log(1 + Math.Exp(-1) + Math.Exp(-2000) + Math.Exp(-500));
        Tolerance.Elementwise.AssertClose(new[] { 1000 - lse, 999 - lse, -1000 - lse, 500 - lse }, y.ToArray(), "log-softmax of large logits");
    }

    internal static double[] Reference(double[] x, int rows, int cols, bool log)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < cols; j++)
            {
                max = Math.Max(max, x[r * cols + j]);
            }
            double sum = 0;
            for (int j = 0; j < cols; j++)
            {
                sum += Math.Exp(x[r * cols + j] - max);
            }
            for (int j = 0; j < cols; j++)
            {
                double z = x[r * cols + j] - max;
                y[r * cols + j] = log ? z - Math.Log(sum) : Math.Exp(z) / sum;
            }
        }
        return y;
    }
}
