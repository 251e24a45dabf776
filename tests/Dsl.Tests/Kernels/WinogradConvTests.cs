using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;
using Xunit;
using Xunit.Abstractions;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The Winograd F(4x4, 3x3) convolution (<see cref="WinogradConv"/>) against the double-precision reference of
/// <see cref="CpuConvTests"/>: odd shapes (sizes that are not whole tiles, 1x1 images, batch 1, 1 and 3 channels, the
/// paddings 0, 1 and 2), bias, ReLU, the input gradient with and without accumulation, on the scalar and 256-bit paths;
/// the same sums whatever the thread count; its rounding error measured at 16, 64 and 256 input channels; and the
/// transformed weights kept between calls only while the weights are unchanged.
/// </summary>
public sealed class WinogradConvTests(ITestOutputHelper output)
{
    public static TheoryData<string, int, int, int, int, int, int> Shapes()
    {
        var data = new TheoryData<string, int, int, int, int, int, int>();
        var kernels = new List<string> { nameof(GemmKernel.Scalar), nameof(GemmKernel.Vector256) };
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            kernels.Add(nameof(GemmKernel.Vector512));
        }
        foreach (string kernel in kernels)
        {
            data.Add(kernel, 1, 3, 1, 1, 5, 1);     // a 1x1 image: one tile, only the centre tap sees data
            data.Add(kernel, 2, 5, 5, 7, 6, 1);     // neither side a whole tile
            data.Add(kernel, 3, 1, 9, 17, 7, 1);    // one input channel, a partial last group of 8 tiles
            data.Add(kernel, 1, 16, 8, 8, 16, 1);   // ResNet-20's last stage, batch 1
            data.Add(kernel, 2, 3, 6, 32, 9, 0);    // no padding: 4x30 output
            data.Add(kernel, 2, 7, 11, 12, 1, 2);   // padding 2, one output channel
            data.Add(kernel, 5, 20, 13, 10, 11, 1); // several chunks of tiles per thread
            data.Add(kernel, 3, 17, 15, 21, 13, 1); // 72 tiles: a 48-tile block, a 16-tile and an 8-tile tail
            data.Add(kernel, 1, 5, 13, 9, 6, 1);    // 12 tiles: one 512-bit transform of a full and a partial group
            data.Add(kernel, 2, 19, 9, 10, 21, 1);  // 18 tiles: a 16-tile transform and a 2-tile group; 19 and 21 channels
            data.Add(kernel, 2, 16, 16, 16, 16, 1); // 4 whole tiles a row (the 512-bit output transform's rows of 16 floats)
            data.Add(kernel, 3, 5, 12, 16, 7, 1);   // 12 tiles a sample: groups of 16 tiles straddle samples
        }
        return data;
    }

    private static Conv2dGeometry Geometry(int batch, int inC, int h, int w, int outC, int pad) =>
        new(batch, inC, h, w, outC, 3, 3, 1, 1, pad, pad, pad, pad);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Winograd_matches_the_double_reference_with_bias_and_relu(string kernel, int batch, int inC, int h, int w, int outC, int pad)
    {
        var g = Geometry(batch, inC, h, w, outC, pad);
        Assert.True(ConvPlan.Supports(ConvAlgorithm.Winograd, g));
        var random = new Random(batch * 1000 + inC * 100 + h * 10 + w + outC + pad);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        var b = Uniform(random, outC);
        var expected = CpuConvTests.Reference(g, Widen(x), Widen(wt), Widen(b));
        // Sums of at most 9*20 products of values below 1; 1e-4 is over 10x the rounding measured at C = 16 (below).
        float[] y = ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.Winograd, kernel, g, x, wt, b);
        AssertClose(expected, y, 1e-4, 1e-4, $"winograd ({kernel}) of {g}");
        float[] relu = ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.Winograd, kernel, g, x, wt, b, relu: true);
        Assert.Equal(Array.ConvertAll(y, v => MathF.Max(v, 0f)), relu);
        float[] plain = ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.Winograd, kernel, g, x, wt, null);
        AssertClose(CpuConvTests.Reference(g, Widen(x), Widen(wt), null), plain, 1e-4, 1e-4, $"winograd ({kernel}) of {g} without bias");
        float[] oneThread = ConvDirectTests.Run(new CpuDevice(1), ConvAlgorithm.Winograd, kernel, g, x, wt, b);
        Assert.Equal(oneThread, y);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Winograd_input_gradient_matches_the_im2col_path_and_accumulates(string kernel, int batch, int inC, int h, int w, int outC, int pad)
    {
        var g = Geometry(batch, inC, h, w, outC, pad);
        var random = new Random(batch * 999 + inC * 99 + h * 9 + w + outC + pad);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        var dy = Uniform(random, (int)g.OutputLength);
        var dx0 = Uniform(random, (int)g.InputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);

        (float[] Dx, float[] Dw) Backward(ConvAlgorithm algorithm, bool accumulate, int threads) =>
            ConvFamilyTestKit.CpuConvBackward(g, algorithm, kernel, threads, x, wt, dy, dx0, dw0, accumulate);

        foreach (bool accumulate in new[] { false, true })
        {
            var winograd = Backward(ConvAlgorithm.Winograd, accumulate, 2);
            var im2col = Backward(ConvAlgorithm.Im2ColGemm, accumulate, 2);
            // The im2col path is checked against finite differences of the double reference in CpuConvTests.
            AssertClose(Array.ConvertAll(im2col.Dx, v => (double)v), winograd.Dx, 1e-4, 1e-4, $"dx ({kernel}, accumulate {accumulate}) of {g}");
            Assert.Equal(im2col.Dw, winograd.Dw);
            Assert.Equal(Backward(ConvAlgorithm.Winograd, accumulate, 1).Dx, winograd.Dx);
        }
    }

    /// <summary>
    /// Rounding error of F(4x4, 3x3) against the float64 reference for inputs and weights uniform in [-1, 1) on 16x16
    /// images, relative to the largest |output| (15, 33 and 58). Measured with the 256-bit kernels on an AVX2 machine:
    /// max absolute error 4.8e-5, 1.4e-4 and 6.3e-4, relative 3.2e-6, 4.3e-6 and 1.1e-5 at C = 16, 64 and 256; the direct
    /// kernel's on the same data: relative 4.2e-7, 7.7e-7 and 1.8e-6 (Winograd's is 6-8x larger). The bounds are 4x the
    /// Winograd figures, so a wrong transform (errors of order 1) fails while rounding noise does not.
    /// </summary>
    [Theory]
    [InlineData(16, 1.3e-5)]
    [InlineData(64, 1.7e-5)]
    [InlineData(256, 4.3e-5)]
    public void Winograd_rounding_error_is_bounded_relative_to_the_output(int channels, double bound)
    {
        var g = new Conv2dGeometry(2, channels, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1);
        var random = new Random(channels);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        var expected = CpuConvTests.Reference(g, Widen(x), Widen(wt), null);
        double scale = expected.Max(Math.Abs);
        foreach (var algorithm in new[] { ConvAlgorithm.Winograd, ConvAlgorithm.Direct3x3 })
        {
            float[] y = ConvDirectTests.Run(new CpuDevice(2), algorithm, nameof(GemmKernel.Vector256), g, x, wt, null);
            double maxAbs = 0;
            for (int i = 0; i < y.Length; i++)
            {
                maxAbs = Math.Max(maxAbs, Math.Abs(y[i] - expected[i]));
            }
            output.WriteLine($"{algorithm} C={channels}: max |y| {scale:G4}, max abs error {maxAbs:G3}, relative {maxAbs / scale:G3}");
            Assert.True(maxAbs / scale <= bound, $"{algorithm} at C={channels}: relative error {maxAbs / scale:G3} above {bound:G3}");
        }
    }

    [Fact]
    public void The_plan_takes_winograd_for_3x3_same_layers_of_16_channels_or_more_and_enough_tiles_with_256_bit_kernels()
    {
        Assert.Equal(ConvAlgorithm.Winograd, ConvPlan.Choose(new Conv2dGeometry(64, 16, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.Winograd, ConvPlan.Choose(new Conv2dGeometry(64, 48, 14, 14, 12, 3, 3, 1, 1, 1, 1, 1, 1), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.Winograd, ConvPlan.Choose(new Conv2dGeometry(1, 16, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.Direct3x3, ConvPlan.Choose(new Conv2dGeometry(1, 64, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1), GemmKernel.Vector256)); // 4 tiles
        Assert.Equal(ConvAlgorithm.Direct3x3, ConvPlan.Choose(new Conv2dGeometry(64, 8, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.Direct3x3, ConvPlan.Choose(new Conv2dGeometry(64, 16, 28, 28, 8, 3, 3, 1, 1, 1, 1, 1, 1), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvPlan.Choose(new Conv2dGeometry(64, 16, 28, 28, 16, 3, 3, 1, 1, 0, 0, 0, 0), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.DirectKxK, ConvPlan.Choose(new Conv2dGeometry(64, 16, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1), GemmKernel.Vector256)); // stride 2: not Winograd's
    }

    /// <summary>
    /// The 512-bit products run each sum as the same chain of fused multiply-adds as the 256-bit kernel, and the 512-bit
    /// input and output transforms the same operations per lane (only more tiles per instruction), so both widths give the
    /// same bits, forward and input gradient, on shapes with every tail (an odd group count, a partial second group).
    /// </summary>
    [Theory]
    [InlineData(1, 16, 8, 8, 16, 1)]
    [InlineData(3, 17, 15, 21, 13, 1)]
    [InlineData(4, 33, 19, 23, 20, 2)]
    [InlineData(2, 24, 30, 14, 7, 0)]
    [InlineData(1, 5, 13, 9, 6, 1)]
    [InlineData(3, 19, 7, 9, 21, 2)]
    [InlineData(2, 16, 16, 16, 16, 1)] // 4 tiles a row: quads of whole tiles, each row of a quad loaded and stored as one vector
    [InlineData(3, 5, 12, 16, 7, 1)]   // 12 tiles a sample: 16-lane groups straddle samples, quads do not
    [InlineData(2, 6, 8, 32, 5, 1)]    // 8 tiles a row
    [InlineData(2, 5, 14, 15, 7, 1)]   // quads whose last tile is partial (stored tile by tile from the quads' lane order)
    [InlineData(3, 6, 9, 30, 4, 2)]    // padding 2: quads reading past both sides of the image
    [InlineData(1, 4, 5, 63, 3, 0)]    // no padding, 16 tiles a row, the last partial
    [InlineData(2, 7, 16, 24, 9, 1)]   // 6 tiles a row: some runs of 4 straddle tile rows (stored tile by tile)
    public void Winograd_512_bit_products_and_transforms_match_the_256_bit_kernels_bit_for_bit(int batch, int inC, int h, int w, int outC, int pad)
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            return; // the 512-bit kernel cannot run here; the Shapes theories cover the other widths
        }
        var g = Geometry(batch, inC, h, w, outC, pad);
        var random = new Random(batch + inC + h + w + outC + pad);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        var b = Uniform(random, outC);
        var dy = Uniform(random, (int)g.OutputLength);
        var dx0 = Uniform(random, (int)g.InputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);
        foreach (int threads in new[] { 1, 2 })
        {
            float[] narrow = ConvDirectTests.Run(new CpuDevice(threads), ConvAlgorithm.Winograd, nameof(GemmKernel.Vector256), g, x, wt, b, relu: true);
            float[] wide = ConvDirectTests.Run(new CpuDevice(threads), ConvAlgorithm.Winograd, nameof(GemmKernel.Vector512), g, x, wt, b, relu: true);
            Assert.Equal(narrow, wide);
            var narrowDx = ConvFamilyTestKit.CpuConvBackward(g, ConvAlgorithm.Winograd, nameof(GemmKernel.Vector256), threads, x, wt, dy, dx0, dw0, true).Dx;
            var wideDx = ConvFamilyTestKit.CpuConvBackward(g, ConvAlgorithm.Winograd, nameof(GemmKernel.Vector512), threads, x, wt, dy, dx0, dw0, true).Dx;
            Assert.Equal(narrowDx, wideDx);
        }
        AssertClose(CpuConvTests.Reference(g, Widen(x), Widen(wt), Widen(b)),
            ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.Winograd, nameof(GemmKernel.Vector512), g, x, wt, b), 1e-4, 1e-4, $"winograd (Vector512) of {g}");
    }

    [Fact]
    public void The_transformed_weights_are_kept_while_the_weights_are_unchanged_and_recomputed_when_one_changes()
    {
        var g = Geometry(2, 5, 9, 10, 6, 1);
        var random = new Random(77);
        var x = Uniform(random, (int)g.InputLength);
        var w1 = Uniform(random, (int)g.WeightLength);
        var w2 = (float[])w1.Clone();
        w2[^1] += 0.5f; // only the last element differs: the comparison must read the whole tensor
        var b = Uniform(random, g.OutChannels);
        var dy = Uniform(random, (int)g.OutputLength);
        var d = new CpuDevice(2) { ConvAlgorithmOverride = ConvAlgorithm.Winograd };
        var xt = Tensor.From(x, d, g.Batch, g.InChannels, g.Height, g.Width);
        var wt = Tensor.From(w1, d, g.OutChannels, g.InChannels, 3, 3);
        var bt = Tensor.From(b, d, g.OutChannels);
        var dyt = Tensor.From(dy, d, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        var y = Tensor.Zeros(d, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        var dx = Tensor.Zeros(d, g.Batch, g.InChannels, g.Height, g.Width);
        var dw = Tensor.Zeros(d, g.OutChannels, g.InChannels, 3, 3);

        float[] Forward()
        {
            d.Conv2d(xt, wt, bt, y, g);
            return y.ToArray();
        }

        float[] InputGradient()
        {
            d.Conv2dBackward(xt, wt, dyt, dx, dw, null, g, accumulateDx: false);
            return dx.ToArray();
        }

        // What a device without a cache computes (a fresh one transforms on its first call).
        float[] FreshForward(float[] w) =>
            ConvReluEpilogueTests.Run(new CpuDevice(2) { ConvAlgorithmOverride = ConvAlgorithm.Winograd }, g, x, w, b, relu: false);
        float[] FreshInputGradient(float[] w) =>
            CpuConvBackward(g, ConvAlgorithm.Winograd, CpuGemm.CurrentKernel.ToString(), 2, x, w, dy,
                new float[g.InputLength], new float[g.WeightLength], false).Dx;

        float[] first = Forward();
        Assert.Equal(1, d.WinogradWeightTransforms);
        Assert.Equal(first, Forward());
        Assert.Equal(1, d.WinogradWeightTransforms);
        Assert.Equal(FreshForward(w1), first);
        AssertClose(CpuConvTests.Reference(g, Widen(x), Widen(w1), Widen(b)), first, 1e-4, 1e-4, "cached winograd");

        d.Upload(w2, wt); // the same tensor, written in place
        float[] second = Forward();
        Assert.Equal(2, d.WinogradWeightTransforms);
        Assert.Equal(FreshForward(w2), second);
        Assert.NotEqual(first, second);
        AssertClose(CpuConvTests.Reference(g, Widen(x), Widen(w2), Widen(b)), second, 1e-4, 1e-4, "winograd after a weight change");

        // The input gradient's flipped transform is an entry of its own, kept and refreshed the same way.
        float[] dx2 = InputGradient();
        Assert.Equal(3, d.WinogradWeightTransforms);
        Assert.Equal(dx2, InputGradient());
        Assert.Equal(3, d.WinogradWeightTransforms);
        Assert.Equal(FreshInputGradient(w2), dx2);
        Assert.Equal(second, Forward());
        Assert.Equal(3, d.WinogradWeightTransforms);
        d.Upload(w1, wt);
        Assert.Equal(FreshInputGradient(w1), InputGradient());
        Assert.Equal(4, d.WinogradWeightTransforms);
        Assert.Equal(first, Forward());
        Assert.Equal(5, d.WinogradWeightTransforms);
    }

    [Fact]
    public void A_forced_winograd_refuses_a_strided_or_grouped_geometry_by_name()
    {
        var g = new Conv2dGeometry(1, 2, 5, 5, 2, 3, 3, 2, 2, 1, 1, 1, 1);
        Assert.False(ConvPlan.Supports(ConvAlgorithm.Winograd, g));
        Assert.False(ConvPlan.Supports(ConvAlgorithm.Winograd, new Conv2dGeometry(1, 2, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1, 1, Groups: 2)));
        Assert.False(ConvPlan.Supports(ConvAlgorithm.Winograd, new Conv2dGeometry(1, 2, 9, 9, 2, 5, 5, 1, 1, 2, 2, 2, 2)));
        var e = Assert.Throws<ArgumentException>(() => ConvDirectTests.Run(new CpuDevice(1), ConvAlgorithm.Winograd, nameof(GemmKernel.Vector256), g,
            new float[g.InputLength], new float[g.WeightLength], null));
        Assert.Contains("Winograd", e.Message);
    }
}
