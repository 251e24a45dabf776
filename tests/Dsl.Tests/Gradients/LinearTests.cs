using Dsl.Tests.Fixtures;
using Xunit;

namespace Dsl.Tests.Gradients;

/// <summary>
/// <c>Linear</c> as the generated code runs it: y = x W^T + b through <c>Gemm(false, true, ...)</c> and <c>AddBias</c>;
/// backward dx = dy W, dW = dy^T x, db = <c>BiasGrad</c>. Checked against PyTorch (linear.json) and against central
/// differences of a double-precision forward. Subclass and override <see cref="Target"/> to run the suite on another device.
/// </summary>
public class LinearTests
{
    private const string File = "linear.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Linear_forward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var (n, inF, outF) = Dims(c);
        var y = Garbage(n, outF);
        Forward(c.Input("x").ToTensor(Target), c.Input("weight").ToTensor(Target), c.Input("bias").ToTensor(Target), y, n, inF, outF);
        Tolerance.Reduction.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Linear_backward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var (n, inF, outF) = Dims(c);
        var dx = Garbage(n, inF);
        var dw = Garbage(outF, inF);
        var db = Garbage(outF);
        Backward(c.Input("x").ToTensor(Target), c.Input("weight").ToTensor(Target), c.Input("dy").ToTensor(Target), dx, dw, db, n, inF, outF, accumulate: false);
        Tolerance.Reduction.AssertClose(c.Expected("dx").Data, dx.ToArray(), $"{c} dx");
        Tolerance.Reduction.AssertClose(c.Expected("dweight").Data, dw.ToArray(), $"{c} dweight");
        Tolerance.Reduction.AssertClose(c.Expected("dbias").Data, db.ToArray(), $"{c} dbias");
    }

    [Fact]
    public void Linear_parameter_gradients_accumulate_onto_existing_ones()
    {
        var c = FixtureFile.Load(File).Case("linear_4x7_to_5");
        var (n, inF, outF) = Dims(c);
        var rng = new Random(11);
        float[] w0 = RandomInputs.Normal(rng, outF * inF);
        float[] b0 = RandomInputs.Normal(rng, outF);
        var dx = Garbage(n, inF);
        var dw = Tensor.From(w0, Target, outF, inF);
        var db = Tensor.From(b0, Target, outF);
        Backward(c.Input("x").ToTensor(Target), c.Input("weight").ToTensor(Target), c.Input("dy").ToTensor(Target), dx, dw, db, n, inF, outF, accumulate: true);
        var expectedW = c.Expected("dweight").Data.Select((v, i) => (double)v + w0[i]).ToArray();
        var expectedB = c.Expected("dbias").Data.Select((v, i) => (double)v + b0[i]).ToArray();
        Tolerance.Reduction.AssertClose(expectedW, dw.ToArray(), "accumulated dweight");
        Tolerance.Reduction.AssertClose(expectedB, db.ToArray(), "accumulated dbias");
    }

    [Theory]
    [InlineData(3, 6, 4)]
    [InlineData(5, 1, 3)]
    [InlineData(2, 9, 1)]
    public void Linear_gradients_match_finite_differences(int n, int inF, int outF)
    {
        var rng = new Random(100 * n + 10 * inF + outF);
        float[] x = RandomInputs.Normal(rng, n * inF);
        float[] w = RandomInputs.Normal(rng, outF * inF, 0.5);
        float[] b = RandomInputs.Normal(rng, outF);
        float[] dy = RandomInputs.Normal(rng, n * outF);
        double[] xd = RandomInputs.ToDoubles(x), wd = RandomInputs.ToDoubles(w), bd = RandomInputs.ToDoubles(b), dyd = RandomInputs.ToDoubles(dy);

        var y = Garbage(n, outF);
        var dx = Garbage(n, inF);
        var dw = Garbage(outF, inF);
        var db = Garbage(outF);
        var xt = Tensor.From(x, Target, n, inF);
        var wt = Tensor.From(w, Target, outF, inF);
        Forward(xt, wt, Tensor.From(b, Target, outF), y, n, inF, outF);
        Backward(xt, wt, Tensor.From(dy, Target, n, outF), dx, dw, db, n, inF, outF, accumulate: false);

        Tolerance.Reduction.AssertClose(Reference(xd, wd, bd, n, inF, outF), y.ToArray(), "y vs float64 reference");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(v => Reference(v, wd, bd, n, inF, outF), xd, dyd), dx.ToArray(), "dx vs finite differences");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(v => Reference(xd, v, bd, n, inF, outF), wd, dyd), dw.ToArray(), "dweight vs finite differences");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(v => Reference(xd, wd, v, n, inF, outF), bd, dyd), db.ToArray(), "dbias vs finite differences");
    }

    /// <summary>y[N,Out] = x[N,In] W[Out,In]^T + b.</summary>
    internal static void Forward(Tensor x, Tensor w, Tensor b, Tensor y, int n, int inF, int outF)
    {
        var d = x.Device;
        d.Gemm(false, true, n, outF, inF, 1f, x, w, 0f, y);
        d.AddBias(y, b, 1);
    }

    /// <summary>dx = dy W; dW (+)= dy^T x; db (+)= column sums of dy.</summary>
    internal static void Backward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, int n, int inF, int outF, bool accumulate)
    {
        var d = x.Device;
        d.Gemm(false, false, n, inF, outF, 1f, dy, w, 0f, dx);
        d.Gemm(true, false, outF, inF, n, 1f, dy, x, accumulate ? 1f : 0f, dw);
        d.BiasGrad(dy, db, 1, accumulate);
    }

    private static double[] Reference(double[] x, double[] w, double[] b, int n, int inF, int outF)
    {
        var y = new double[n * outF];
        for (int r = 0; r < n; r++)
        {
            for (int o = 0; o < outF; o++)
            {
                double s = b[o];
                for (int i = 0; i < inF; i++)
                {
                    s += x[r * inF + i] * w[o * inF + i];
                }
                y[r * outF + o] = s;
            }
        }
        return y;
    }

    private static (int N, int In, int Out) Dims(FixtureCase c)
    {
        var x = c.Input("x").Shape;
        return (x[0], x[1], c.Input("weight").Shape[0]);
    }

    /// <summary>An output buffer pre-filled with NaN, so a kernel that reads instead of overwriting fails.</summary>
    private Tensor Garbage(params int[] shape) => Tensor.Full(Target, float.NaN, shape);
}
