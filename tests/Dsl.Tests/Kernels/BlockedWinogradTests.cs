using System.Runtime.Intrinsics;
using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;
using Dsl.Tests.Fixtures;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// Winograd in the blocked channel layout (<see cref="BlockedWinograd"/>) against the double-precision reference and
/// against <see cref="WinogradConv"/>, whose transforms and sums it performs in the same order: equal bit for bit
/// forward (bias, ReLU, no bias, the residual with and without ReLU) and for the input gradient (written and
/// accumulated), whatever the thread count. Shapes: channel counts that are not whole blocks of 16 (1, 3, 17, 33; an odd
/// number of output blocks leaves a single block after the pairs), images that are not whole tiles, a 1x1 image, the
/// paddings 0, 1 and 2, several chunks of tiles per sample, batch 1 to 5.
/// </summary>
public sealed class BlockedWinogradTests
{
    public static TheoryData<int, int, int, int, int, int> Shapes() => new()
    {
        { 1, 3, 1, 1, 5, 1 },      // a 1x1 image: one tile, only the centre tap sees data
        { 2, 5, 5, 7, 6, 1 },      // neither side a whole tile
        { 3, 1, 9, 17, 7, 1 },     // one input channel
        { 1, 16, 8, 8, 16, 1 },    // ResNet-20's last stage, batch 1
        { 2, 3, 6, 32, 9, 0 },     // no padding: 4x30 output
        { 2, 7, 11, 12, 1, 2 },    // padding 2, one output channel
        { 2, 33, 13, 10, 40, 1 },  // three input blocks, three output blocks (a pair and a single)
        { 2, 17, 30, 29, 35, 1 },  // 64 tiles a sample: several chunks, and tile calls of unequal width
        { 5, 16, 28, 28, 16, 1 },  // ResNet-20's first stage
        { 3, 32, 14, 14, 32, 1 },  // its second
    };

    private static Conv2dGeometry Geometry(int batch, int inC, int h, int w, int outC, int pad) =>
        new(batch, inC, h, w, outC, 3, 3, 1, 1, pad, pad, pad, pad);

    private static readonly string Wide = nameof(GemmKernel.Vector512);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_is_winograds_bit_for_bit_and_matches_the_double_reference(int batch, int inC, int h, int w, int outC, int pad)
    {
        var g = Geometry(batch, inC, h, w, outC, pad);
        if (!Vector512.IsHardwareAccelerated)
        {
            Assert.False(ConvPlan.Supports(ConvAlgorithm.BlockedWinograd, g));
            return;
        }
        Assert.True(ConvPlan.Supports(ConvAlgorithm.BlockedWinograd, g));
        var random = new Random(batch * 1000 + inC * 100 + h * 10 + w + outC + pad);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        var b = Uniform(random, outC);
        float[] y = ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.BlockedWinograd, Wide, g, x, wt, b);
        AssertClose(CpuConvTests.Reference(g, Widen(x), Widen(wt), Widen(b)), y, 1e-4, 1e-4, $"blocked winograd of {g}");
        Assert.Equal(ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.Winograd, Wide, g, x, wt, b), y);
        foreach (int threads in new[] { 1, 3 })
        {
            Assert.Equal(y, ConvDirectTests.Run(new CpuDevice(threads), ConvAlgorithm.BlockedWinograd, Wide, g, x, wt, b));
        }
        float[] relu = ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.BlockedWinograd, Wide, g, x, wt, b, relu: true);
        Assert.Equal(ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.Winograd, Wide, g, x, wt, b, relu: true), relu);
        Assert.Contains(relu, v => v == 0f);
        float[] noBias = ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.BlockedWinograd, Wide, g, x, wt, null);
        Assert.Equal(ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.Winograd, Wide, g, x, wt, null), noBias);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_residual_is_added_as_winograd_adds_it(int batch, int inC, int h, int w, int outC, int pad)
    {
        var g = Geometry(batch, inC, h, w, outC, pad);
        if (!Vector512.IsHardwareAccelerated)
        {
            return;
        }
        var random = new Random(batch * 999 + inC * 101 + h * 11 + w + outC + pad);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        var b = Uniform(random, outC);
        var residual = Uniform(random, (int)g.OutputLength);
        foreach (bool relu in new[] { true, false })
        {
            float[] blocked = WithResidual(ConvAlgorithm.BlockedWinograd, g, x, wt, b, residual, relu);
            Assert.Equal(WithResidual(ConvAlgorithm.Winograd, g, x, wt, b, residual, relu), blocked);
            var plain = CpuConvTests.Reference(g, Widen(x), Widen(wt), Widen(b));
            var expected = new double[plain.Length];
            for (int i = 0; i < plain.Length; i++)
            {
                expected[i] = relu ? Math.Max(plain[i] + residual[i], 0) : plain[i] + residual[i];
            }
            AssertClose(expected, blocked, 1e-4, 1e-4, $"blocked winograd + residual (relu {relu}) of {g}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Input_gradient_is_winograds_bit_for_bit_written_and_accumulated(int batch, int inC, int h, int w, int outC, int pad)
    {
        var g = Geometry(batch, inC, h, w, outC, pad);
        if (!Vector512.IsHardwareAccelerated)
        {
            return;
        }
        var random = new Random(batch * 1003 + inC * 97 + h * 13 + w + outC + pad);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        var dy = Uniform(random, (int)g.OutputLength);
        var dx0 = Uniform(random, (int)g.InputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);
        var reference = NaiveReference.Conv2dBackward(x, wt, dy, g).Dx;
        foreach (bool accumulate in new[] { false, true })
        {
            var blocked = CpuConvBackward(g, ConvAlgorithm.BlockedWinograd, Wide, 2, x, wt, dy, dx0, dw0, accumulate);
            // Up to 35 x 9 products a sum: Winograd's rounding grows with the channels summed (WinogradConvTests measures it).
            AssertClose(accumulate ? Plus(reference, dx0) : reference, blocked.Dx, 3e-4, 1e-4, $"dx of blocked winograd (accumulate {accumulate}) of {g}");
            var winograd = CpuConvBackward(g, ConvAlgorithm.Winograd, Wide, 2, x, wt, dy, dx0, dw0, accumulate);
            Assert.Equal(winograd.Dx, blocked.Dx);
            Assert.Equal(winograd.Dw, blocked.Dw);
            Assert.Equal(blocked.Dx, CpuConvBackward(g, ConvAlgorithm.BlockedWinograd, Wide, 1, x, wt, dy, dx0, dw0, accumulate).Dx);
        }
    }

    public static TheoryData<string> PyTorchCases => FixtureFile.CaseNames("conv2d.json");

    /// <summary>Every case of conv2d.json (nn.Conv2d's outputs and gradients) the kernel takes (3x3, stride 1, one group), forced onto it.</summary>
    [Theory]
    [MemberData(nameof(PyTorchCases))]
    public void Forward_and_input_gradient_match_pytorch(string name)
    {
        var c = FixtureFile.Load("conv2d.json").Case(name);
        var g = Gradients.Conv2dFixtureTests.Geometry(c);
        if (!ConvPlan.Supports(ConvAlgorithm.BlockedWinograd, g))
        {
            Assert.False(Vector512.IsHardwareAccelerated && ConvPlan.Supports(ConvAlgorithm.Winograd, g), $"{c}: Winograd's geometries are this kernel's");
            return;
        }
        AssertForcedMatchesPyTorch(c, g, ConvAlgorithm.BlockedWinograd);
    }

    private static float[] WithResidual(ConvAlgorithm algorithm, in Conv2dGeometry g, float[] x, float[] wt, float[] b, float[] residual, bool relu)
    {
        var d = new CpuDevice(2) { ConvAlgorithmOverride = algorithm };
        var y = Tensor.Full(d, float.NaN, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        d.Conv2d(Tensor.From(x, d, g.Batch, g.InChannels, g.Height, g.Width), Tensor.From(wt, d, g.OutChannels, g.InChannels, 3, 3),
            Tensor.From(b, d, g.OutChannels), y, g, relu, Tensor.From(residual, d, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth));
        return y.ToArray();
    }
}
