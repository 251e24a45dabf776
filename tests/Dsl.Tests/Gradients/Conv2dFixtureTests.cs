using Dsl.Tests.Fixtures;
using Xunit;

namespace Dsl.Tests.Gradients;

/// <summary>
/// <c>Device.Conv2d</c> and <c>Conv2dBackward</c> against <c>nn.Conv2d</c> (conv2d.json: stride, symmetric and
/// asymmetric 'same' padding, dilation, groups, with and without bias) and against central differences of a
/// float64 direct convolution written here.
/// </summary>
public class Conv2dFixtureTests
{
    private const string File = "conv2d.json";

    private static readonly Dictionary<string, Conv2dGeometry> FiniteDifferenceGeometries = new()
    {
        ["stride_2_pad_1"] = new(2, 3, 6, 5, 4, 3, 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1),
        ["same_even_kernel_asymmetric_pad"] = new(2, 2, 5, 6, 3, 4, 2, PadTop: 1, PadLeft: 0, PadBottom: 2, PadRight: 1),
        ["dilation_2"] = new(1, 3, 7, 6, 2, 3, 3, PadTop: 2, PadLeft: 1, PadBottom: 2, PadRight: 1, DilationH: 2, DilationW: 2),
        ["groups_2"] = new(2, 4, 5, 5, 6, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, Groups: 2),
        ["rect_kernel_stride_2x1"] = new(2, 3, 7, 5, 2, 3, 2, StrideH: 2, StrideW: 1, PadTop: 1, PadBottom: 1),
    };

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    public static TheoryData<string> Geometries => new(FiniteDifferenceGeometries.Keys);

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Conv2d_forward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var g = Geometry(c);
        Assert.Equal(c.Expected("y").Shape, new[] { g.Batch, g.OutChannels, g.OutHeight, g.OutWidth });
        var y = Tensor.Full(Target, float.NaN, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        Target.Conv2d(c.Input("x").ToTensor(Target), c.Input("weight").ToTensor(Target), c.Bool("bias") ? c.Input("bias").ToTensor(Target) : null, y, g);
        Tolerance.Reduction.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Conv2d_backward_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var g = Geometry(c);
        bool hasBias = c.Bool("bias");
        var dx = Tensor.Full(Target, float.NaN, c.Input("x").Shape);
        var dw = Tensor.Zeros(Target, c.Input("weight").Shape);
        var db = hasBias ? Tensor.Zeros(Target, g.OutChannels) : null;
        Target.Conv2dBackward(c.Input("x").ToTensor(Target), c.Input("weight").ToTensor(Target), c.Input("dy").ToTensor(Target), dx, dw, db, g, accumulateDx: false);
        Tolerance.Reduction.AssertClose(c.Expected("dx").Data, dx.ToArray(), $"{c} dx");
        Tolerance.Reduction.AssertClose(c.Expected("dweight").Data, dw.ToArray(), $"{c} dweight");
        if (db is not null)
        {
            Tolerance.Reduction.AssertClose(c.Expected("dbias").Data, db.ToArray(), $"{c} dbias");
        }
    }

    [Fact]
    public void Conv2d_backward_adds_to_existing_gradients()
    {
        var c = FixtureFile.Load(File).Case("conv_3x3_stride_2_pad_1");
        var g = Geometry(c);
        var rng = new Random(8);
        float[] dx0 = RandomInputs.Normal(rng, (int)g.InputLength);
        float[] dw0 = RandomInputs.Normal(rng, (int)g.WeightLength);
        float[] db0 = RandomInputs.Normal(rng, g.OutChannels);
        var dx = Tensor.From(dx0, Target, c.Input("x").Shape);
        var dw = Tensor.From(dw0, Target, c.Input("weight").Shape);
        var db = Tensor.From(db0, Target, g.OutChannels);
        Target.Conv2dBackward(c.Input("x").ToTensor(Target), c.Input("weight").ToTensor(Target), c.Input("dy").ToTensor(Target), dx, dw, db, g, accumulateDx: true);
        Tolerance.Reduction.AssertClose(Sum(c.Expected("dx").Data, dx0), dx.ToArray(), "accumulated dx");
        Tolerance.Reduction.AssertClose(Sum(c.Expected("dweight").Data, dw0), dw.ToArray(), "accumulated dweight");
        Tolerance.Reduction.AssertClose(Sum(c.Expected("dbias").Data, db0), db.ToArray(), "accumulated dbias");
    }

    [Fact]
    public void Conv2d_backward_without_dx_still_computes_parameter_gradients()
    {
        var c = FixtureFile.Load(File).Case("conv_3x3");
        var g = Geometry(c);
        var dw = Tensor.Zeros(Target, c.Input("weight").Shape);
        var db = Tensor.Zeros(Target, g.OutChannels);
        Target.Conv2dBackward(c.Input("x").ToTensor(Target), c.Input("weight").ToTensor(Target), c.Input("dy").ToTensor(Target), null, dw, db, g, accumulateDx: false);
        Tolerance.Reduction.AssertClose(c.Expected("dweight").Data, dw.ToArray(), $"{c} dweight");
        Tolerance.Reduction.AssertClose(c.Expected("dbias").Data, db.ToArray(), $"{c} dbias");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Conv2d_gradients_match_finite_differences(string geometry)
    {
        var g = FiniteDifferenceGeometries[geometry];
        var rng = new Random(geometry.Length * 7919);
        float[] x = RandomInputs.Normal(rng, (int)g.InputLength);
        float[] w = RandomInputs.Normal(rng, (int)g.WeightLength, 0.5);
        float[] b = RandomInputs.Normal(rng, g.OutChannels);
        float[] dy = RandomInputs.Normal(rng, (int)g.OutputLength);
        int[] xShape = { g.Batch, g.InChannels, g.Height, g.Width };
        int[] wShape = { g.OutChannels, g.InChannels / g.Groups, g.KernelH, g.KernelW };
        int[] yShape = { g.Batch, g.OutChannels, g.OutHeight, g.OutWidth };

        var xt = Tensor.From(x, Target, xShape);
        var wt = Tensor.From(w, Target, wShape);
        var y = Tensor.Full(Target, float.NaN, yShape);
        Target.Conv2d(xt, wt, Tensor.From(b, Target, g.OutChannels), y, g);
        var dx = Tensor.Full(Target, float.NaN, xShape);
        var dw = Tensor.Zeros(Target, wShape);
        var db = Tensor.Zeros(Target, g.OutChannels);
        Target.Conv2dBackward(xt, wt, Tensor.From(dy, Target, yShape), dx, dw, db, g, accumulateDx: false);

        double[] xd = RandomInputs.ToDoubles(x), wd = RandomInputs.ToDoubles(w), bd = RandomInputs.ToDoubles(b), dyd = RandomInputs.ToDoubles(dy);
        Tolerance.Reduction.AssertClose(Reference(xd, wd, bd, g), y.ToArray(), $"{geometry} y vs float64 reference");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(v => Reference(v, wd, bd, g), xd, dyd), dx.ToArray(), $"{geometry} dx vs finite differences");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(v => Reference(xd, v, bd, g), wd, dyd), dw.ToArray(), $"{geometry} dweight vs finite differences");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(v => Reference(xd, wd, v, g), bd, dyd), db.ToArray(), $"{geometry} dbias vs finite differences");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64_reference_used_for_finite_differences_matches_pytorch(string name)
    {
        // Guards the oracle itself: a wrong reference would blame a correct kernel.
        var c = FixtureFile.Load(File).Case(name);
        var g = Geometry(c);
        double[] b = c.Bool("bias") ? c.Input("bias").ToDoubles() : new double[g.OutChannels];
        var y = Reference(c.Input("x").ToDoubles(), c.Input("weight").ToDoubles(), b, g);
        Tolerance.Reduction.AssertClose(c.Expected("y").Data, y.Select(v => (float)v).ToArray(), $"{c} float64 reference y");
    }

    internal static Conv2dGeometry Geometry(FixtureCase c) => new(
        c.Int("batch"), c.Int("in_channels"), c.Int("height"), c.Int("width"),
        c.Int("out_channels"), c.Int("kernel_h"), c.Int("kernel_w"),
        c.Int("stride_h"), c.Int("stride_w"),
        c.Int("pad_top"), c.Int("pad_left"), c.Int("pad_bottom"), c.Int("pad_right"),
        c.Int("dilation_h"), c.Int("dilation_w"), c.Int("groups"));

    private static double[] Sum(float[] a, float[] b) => a.Select((v, i) => (double)v + b[i]).ToArray();

    /// <summary>Direct cross-correlation in float64, straight from the definition on PyTorch's Conv2d page.</summary>
    private static double[] Reference(double[] x, double[] w, double[] b, Conv2dGeometry g)
    {
        int cinPerGroup = g.InChannels / g.Groups, coutPerGroup = g.OutChannels / g.Groups;
        int oh = g.OutHeight, ow = g.OutWidth;
        var y = new double[g.OutputLength];
        for (int n = 0; n < g.Batch; n++)
        {
            for (int o = 0; o < g.OutChannels; o++)
            {
                int group = o / coutPerGroup;
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        double s = b[o];
                        for (int ci = 0; ci < cinPerGroup; ci++)
                        {
                            int channel = group * cinPerGroup + ci;
                            for (int kh = 0; kh < g.KernelH; kh++)
                            {
                                int r = i * g.StrideH - g.PadTop + kh * g.DilationH;
                                if (r < 0 || r >= g.Height)
                                {
                                    continue;
                                }
                                for (int kw = 0; kw < g.KernelW; kw++)
                                {
                                    int col = j * g.StrideW - g.PadLeft + kw * g.DilationW;
                                    if (col < 0 || col >= g.Width)
                                    {
                                        continue;
                                    }
                                    s += x[((n * g.InChannels + channel) * g.Height + r) * g.Width + col]
                                        * w[((o * cinPerGroup + ci) * g.KernelH + kh) * g.KernelW + kw];
                                }
                            }
                        }
                        y[((n * g.OutChannels + o) * oh + i) * ow + j] = s;
                    }
                }
            }
        }
        return y;
    }
}
