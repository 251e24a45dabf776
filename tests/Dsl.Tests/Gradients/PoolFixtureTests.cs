using Dsl.Tests.Fixtures;
using Xunit;

namespace Dsl.Tests.Gradients;

/// <summary>
/// <c>MaxPool2d</c>, <c>AvgPool2d</c> (count_include_pad both ways) and <c>AdaptiveAvgPool2d</c>, forward and backward,
/// against PyTorch (pool.json; max-pool inputs have no near-ties) and central differences of float64 references.
/// </summary>
public class PoolFixtureTests
{
    private const string File = "pool.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    public static TheoryData<string, bool> WindowedFiniteDifferenceCases => new()
    {
        { "max", true },
        { "avg", true },
        { "avg", false },
    };

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pool_forward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var x = c.Input("x").ToTensor(Target);
        var y = Tensor.Full(Target, float.NaN, c.Expected("y").Shape);
        Forward(c, x, y);
        Tolerance.Elementwise.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pool_backward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var dx = Tensor.Full(Target, float.NaN, c.Input("x").Shape);
        Backward(c, dx, accumulate: false);
        Tolerance.Elementwise.AssertClose(c.Expected("dx").Data, dx.ToArray(), $"{c} dx");
    }

    [Theory]
    [InlineData("max_3x3_stride_2_pad_1")]
    [InlineData("avg_3x3_stride_2_pad_1_exclude_pad")]
    [InlineData("adaptive_avg_5x5_to_3x3")]
    public void Pool_backward_accumulates_when_asked(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        float[] prior = RandomInputs.Normal(new Random(9), c.Input("x").Length);
        var dx = Tensor.From(prior, Target, c.Input("x").Shape);
        Backward(c, dx, accumulate: true);
        Tolerance.Elementwise.AssertClose(c.Expected("dx").Data.Select((v, i) => (double)v + prior[i]).ToArray(), dx.ToArray(), $"{c} accumulated dx");
    }

    [Fact]
    public void MaxPool2d_padding_never_wins_over_negative_inputs()
    {
        var g = new Pool2dGeometry(1, 2, 4, 4, 3, 3, 2, 2, 1, 1);
        float[] x = RandomInputs.Uniform(new Random(10), (int)g.InputLength, -3, -1);
        var y = Tensor.Full(Target, float.NaN, 1, 2, g.OutHeight, g.OutWidth);
        var argmax = Target.Allocate(DType.Int32, 1, 2, g.OutHeight, g.OutWidth);
        Target.MaxPool2d(Tensor.From(x, Target, 1, 2, 4, 4), y, argmax, g);
        Tolerance.Elementwise.AssertClose(WindowReference(RandomInputs.ToDoubles(x), g, "max", true), y.ToArray(), "max pool of negative inputs");
    }

    [Theory]
    [MemberData(nameof(WindowedFiniteDifferenceCases))]
    public void Windowed_pool_gradients_match_finite_differences(string op, bool countIncludePad)
    {
        var g = new Pool2dGeometry(2, 2, 7, 6, 3, 2, 2, 1, 1, 1);
        var rng = new Random(op.Length * 13 + (countIncludePad ? 1 : 0));
        float[] x = op == "max" ? RandomInputs.Distinct(rng, (int)g.InputLength) : RandomInputs.Normal(rng, (int)g.InputLength);
        float[] dy = RandomInputs.Normal(rng, (int)g.OutputLength);
        int[] xShape = { g.Batch, g.Channels, g.Height, g.Width };
        int[] yShape = { g.Batch, g.Channels, g.OutHeight, g.OutWidth };
        var xt = Tensor.From(x, Target, xShape);
        var y = Tensor.Full(Target, float.NaN, yShape);
        var dx = Tensor.Full(Target, float.NaN, xShape);
        var dyt = Tensor.From(dy, Target, yShape);
        if (op == "max")
        {
            var argmax = Target.Allocate(DType.Int32, yShape);
            Target.MaxPool2d(xt, y, argmax, g);
            Target.MaxPool2dBackward(dyt, argmax, dx, g, accumulate: false);
        }
        else
        {
            Target.AvgPool2d(xt, y, g, countIncludePad);
            Target.AvgPool2dBackward(dyt, dx, g, countIncludePad, accumulate: false);
        }
        double[] xd = RandomInputs.ToDoubles(x);
        Func<double[], double[]> f = v => WindowReference(v, g, op, countIncludePad);
        Tolerance.Elementwise.AssertClose(f(xd), y.ToArray(), $"{op} y vs float64 reference");
        // Distinct max-pool inputs are >= 4/168 apart, far more than the 1e-6 step: no window changes its winner.
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(f, xd, RandomInputs.ToDoubles(dy)), dx.ToArray(), $"{op} dx vs finite differences");
    }

    [Theory]
    [InlineData(5, 5, 3, 3)]
    [InlineData(7, 5, 3, 2)]
    [InlineData(4, 6, 1, 1)]
    [InlineData(3, 3, 3, 3)]
    public void AdaptiveAvgPool2d_gradients_match_finite_differences(int h, int w, int oh, int ow)
    {
        const int n = 2, ch = 2;
        var rng = new Random(h * 1000 + w * 100 + oh * 10 + ow);
        float[] x = RandomInputs.Normal(rng, n * ch * h * w);
        float[] dy = RandomInputs.Normal(rng, n * ch * oh * ow);
        var xt = Tensor.From(x, Target, n, ch, h, w);
        var y = Tensor.Full(Target, float.NaN, n, ch, oh, ow);
        Target.AdaptiveAvgPool2d(xt, y, n, ch, h, w, oh, ow);
        var dx = Tensor.Full(Target, float.NaN, n, ch, h, w);
        Target.AdaptiveAvgPool2dBackward(Tensor.From(dy, Target, n, ch, oh, ow), dx, n, ch, h, w, oh, ow, accumulate: false);
        double[] xd = RandomInputs.ToDoubles(x);
        Func<double[], double[]> f = v => AdaptiveReference(v, n, ch, h, w, oh, ow);
        Tolerance.Elementwise.AssertClose(f(xd), y.ToArray(), "y vs float64 reference");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(f, xd, RandomInputs.ToDoubles(dy)), dx.ToArray(), "dx vs finite differences");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64_reference_used_for_finite_differences_matches_pytorch(string name)
    {
        // Guards the oracle itself: a wrong reference would blame a correct kernel.
        var c = FixtureFile.Load(File).Case(name);
        double[] x = c.Input("x").ToDoubles();
        double[] y = c.String("op") == "adaptive_avg"
            ? AdaptiveReference(x, c.Int("batch"), c.Int("channels"), c.Int("height"), c.Int("width"), c.Int("out_height"), c.Int("out_width"))
            : WindowReference(x, Geometry(c), c.String("op"), c.Bool("count_include_pad"));
        Tolerance.Elementwise.AssertClose(c.Expected("y").Data, y.Select(v => (float)v).ToArray(), $"{c} float64 reference y");
    }

    private void Forward(FixtureCase c, Tensor x, Tensor y)
    {
        switch (c.String("op"))
        {
            case "max":
                Target.MaxPool2d(x, y, Target.Allocate(DType.Int32, y.Shape), Geometry(c));
                break;
            case "avg":
                Target.AvgPool2d(x, y, Geometry(c), c.Bool("count_include_pad"));
                break;
            case "adaptive_avg":
                Target.AdaptiveAvgPool2d(x, y, c.Int("batch"), c.Int("channels"), c.Int("height"), c.Int("width"), c.Int("out_height"), c.Int("out_width"));
                break;
            default:
                throw new InvalidDataException($"{c}: unknown pooling op '{c.String("op")}'.");
        }
    }

    private void Backward(FixtureCase c, Tensor dx, bool accumulate)
    {
        var x = c.Input("x").ToTensor(Target);
        var dy = c.Input("dy").ToTensor(Target);
        switch (c.String("op"))
        {
            case "max":
                var y = Tensor.Zeros(Target, dy.Shape);
                var argmax = Target.Allocate(DType.Int32, dy.Shape);
                Target.MaxPool2d(x, y, argmax, Geometry(c));
                Target.MaxPool2dBackward(dy, argmax, dx, Geometry(c), accumulate);
                break;
            case "avg":
                Target.AvgPool2dBackward(dy, dx, Geometry(c), c.Bool("count_include_pad"), accumulate);
                break;
            case "adaptive_avg":
                Target.AdaptiveAvgPool2dBackward(dy, dx, c.Int("batch"), c.Int("channels"), c.Int("height"), c.Int("width"), c.Int("out_height"), c.Int("out_width"), accumulate);
                break;
            default:
                throw new InvalidDataException($"{c}: unknown pooling op '{c.String("op")}'.");
        }
    }

    private static Pool2dGeometry Geometry(FixtureCase c) => new(
        c.Int("batch"), c.Int("channels"), c.Int("height"), c.Int("width"),
        c.Int("kernel_h"), c.Int("kernel_w"), c.Int("stride_h"), c.Int("stride_w"), c.Int("pad_h"), c.Int("pad_w"));

    /// <summary>
    /// Max or average over each window in float64. Padding never wins a max; the average divides by the whole window
    /// (count_include_pad) or by the number of real inputs it covers.
    /// </summary>
    private static double[] WindowReference(double[] x, Pool2dGeometry g, string op, bool countIncludePad)
    {
        int oh = g.OutHeight, ow = g.OutWidth;
        var y = new double[g.OutputLength];
        for (int plane = 0; plane < g.Batch * g.Channels; plane++)
        {
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    double max = double.NegativeInfinity, sum = 0;
                    int count = 0;
                    for (int kh = 0; kh < g.KernelH; kh++)
                    {
                        int r = i * g.StrideH - g.PadH + kh;
                        for (int kw = 0; kw < g.KernelW; kw++)
                        {
                            int col = j * g.StrideW - g.PadW + kw;
                            if (r < 0 || r >= g.Height || col < 0 || col >= g.Width)
                            {
                                continue;
                            }
                            double v = x[(plane * g.Height + r) * g.Width + col];
                            max = Math.Max(max, v);
                            sum += v;
                            count++;
                        }
                    }
                    y[(plane * oh + i) * ow + j] = op == "max" ? max : sum / (countIncludePad ? g.KernelH * g.KernelW : count);
                }
            }
        }
        return y;
    }

    /// <summary>Adaptive average pooling in float64: cell i covers floor(i*H/OH) .. ceil((i+1)*H/OH)-1.</summary>
    private static double[] AdaptiveReference(double[] x, int n, int ch, int h, int w, int oh, int ow)
    {
        var y = new double[n * ch * oh * ow];
        for (int plane = 0; plane < n * ch; plane++)
        {
            for (int i = 0; i < oh; i++)
            {
                int r0 = i * h / oh, r1 = ((i + 1) * h + oh - 1) / oh;
                for (int j = 0; j < ow; j++)
                {
                    int c0 = j * w / ow, c1 = ((j + 1) * w + ow - 1) / ow;
                    double sum = 0;
                    for (int r = r0; r < r1; r++)
                    {
                        for (int col = c0; col < c1; col++)
                        {
                            sum += x[(plane * h + r) * w + col];
                        }
                    }
                    y[(plane * oh + i) * ow + j] = sum / ((r1 - r0) * (c1 - c0));
                }
            }
        }
        return y;
    }
}
