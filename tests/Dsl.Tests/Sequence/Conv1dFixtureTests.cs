using Dsl.Tests.Fixtures;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Sequence;

/// <summary>
/// <see cref="Device.Conv1d"/>, <see cref="Device.MaxPool1d"/> and <see cref="Device.AvgPool1d"/> with their gradients
/// against PyTorch (conv1d.json): the 1-D geometries mapped onto the 2-D kernels with H = 1.
/// </summary>
public class Conv1dFixtureTests
{
    private const string File = "conv1d.json";

    public static TheoryData<string> ConvCases => FixtureFile.CaseNames(File, c => c.String("op") == "conv1d");

    public static TheoryData<string> PoolCases => FixtureFile.CaseNames(File, c => c.String("op") != "conv1d");

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv1d_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var g = new Conv1dGeometry(c.Int("batch"), c.Int("in_channels"), c.Int("length"), c.Int("out_channels"), c.Int("kernel"),
            c.Int("stride"), c.Int("padding"), c.Int("dilation"), c.Int("groups"));
        bool bias = c.Bool("bias");
        var x = c.Input("x").ToTensor(Target);
        var w = c.Input("weight").ToTensor(Target);
        var b = bias ? c.Input("bias").ToTensor(Target) : null;
        var y = Tensor.Full(Target, float.NaN, g.Batch, g.OutChannels, g.OutLength);
        Target.Conv1d(x, w, b, y, g);
        Tolerance.Reduction.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y");
        var dx = Tensor.Full(Target, float.NaN, x.Shape);
        var dw = Tensor.Zeros(Target, w.Shape);
        var db = bias ? Tensor.Zeros(Target, g.OutChannels) : null;
        Target.Conv1dBackward(x, w, c.Input("dy").ToTensor(Target), dx, dw, db, g, accumulateDx: false);
        Tolerance.Reduction.AssertClose(c.Expected("dx").Data, dx.ToArray(), $"{c} dx");
        Tolerance.Reduction.AssertClose(c.Expected("dweight").Data, dw.ToArray(), $"{c} dweight");
        if (bias)
        {
            Tolerance.Reduction.AssertClose(c.Expected("dbias").Data, db!.ToArray(), $"{c} dbias");
        }
    }

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void Pool1d_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var g = new Pool1dGeometry(c.Int("batch"), c.Int("channels"), c.Int("length"), c.Int("kernel"), c.Int("stride"), c.Int("padding"));
        var x = c.Input("x").ToTensor(Target);
        var y = Tensor.Full(Target, float.NaN, g.Batch, g.Channels, g.OutLength);
        var dx = Tensor.Full(Target, float.NaN, x.Shape);
        var dy = c.Input("dy").ToTensor(Target);
        if (c.String("op") == "max_pool1d")
        {
            var argmax = Target.Allocate(DType.Int32, g.Batch, g.Channels, g.OutLength);
            Target.MaxPool1d(x, y, argmax, g);
            Target.MaxPool1dBackward(dy, argmax, dx, g, accumulate: false);
        }
        else
        {
            Target.AvgPool1d(x, y, g, countIncludePad: true);
            Target.AvgPool1dBackward(dy, dx, g, countIncludePad: true, accumulate: false);
        }
        Tolerance.Reduction.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y");
        Tolerance.Reduction.AssertClose(c.Expected("dx").Data, dx.ToArray(), $"{c} dx");
    }

    [Fact]
    public void Conv1d_with_a_wrong_weight_names_the_1d_shape()
    {
        var g = new Conv1dGeometry(2, 4, 9, 6, 3);
        var e = Assert.Throws<ArgumentException>(() => Target.Conv1d(Tensor.Zeros(Target, 2, 4, 9), Tensor.Zeros(Target, 6, 4, 2), null, Tensor.Zeros(Target, 2, 6, 7), g));
        Assert.Contains("weight should be [6,4,3]", e.Message);
    }
}

/// <summary>The 1-D convolution and pooling fixtures on the ILGPU kernels (CPU accelerator).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuConv1dFixtureTests(IlgpuCpuAcceleratorFixture fixture) : Conv1dFixtureTests
{
    protected override Device Target => fixture.Device;
}
