using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// <see cref="Device.Conv2d"/> with a residual (the convolution closing a residual block, its shortcut's sum and the ReLU
/// in one call) against the unfused sequence it replaces, the convolution then <see cref="Device.AddRelu"/> (or
/// <see cref="Device.Add"/> without ReLU): the same operations in the same order, so equal bit for bit. Winograd adds the
/// residual in its output transform (every store path: whole quads, partial tiles, the scalar tail, 1 and 2 threads);
/// the other algorithms take the device's unfused default. The residual holds negative and positive values, so the ReLU
/// after the sum clamps values the convolution alone would not.
/// </summary>
public sealed class ConvResidualTests
{
    [Theory]
    [MemberData(nameof(WinogradConvTests.Shapes), MemberType = typeof(WinogradConvTests))]
    public void Winograd_adds_the_residual_as_it_stores_bit_for_bit_with_conv_then_add_relu(string kernel, int batch, int inC, int h, int w, int outC, int pad)
    {
        var g = new Conv2dGeometry(batch, inC, h, w, outC, 3, 3, 1, 1, pad, pad, pad, pad);
        Assert.True(ConvPlan.Supports(ConvAlgorithm.Winograd, g));
        foreach (int threads in new[] { 1, 2 })
        {
            AgreeWithUnfused(new CpuDevice(threads), ConvAlgorithm.Winograd, kernel, g, seed: batch * 100 + inC + h + w + outC + pad);
        }
    }

    [Theory]
    [InlineData(nameof(ConvAlgorithm.Im2ColGemm), "3x3-stride2")]
    [InlineData(nameof(ConvAlgorithm.Im2ColGemm), "1x1")]
    [InlineData(nameof(ConvAlgorithm.Direct3x3), "3x3-direct")]
    public void Other_algorithms_add_the_residual_after_the_convolution_bit_for_bit(string algorithm, string shape)
    {
        var g = ConvReluEpilogueTests.Shape(shape);
        AgreeWithUnfused(new CpuDevice(2), Enum.Parse<ConvAlgorithm>(algorithm), nameof(GemmKernel.Vector256), g, seed: 7);
    }

    [Fact]
    public void A_residual_of_another_shape_is_refused_by_name()
    {
        var g = new Conv2dGeometry(2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1);
        var d = Device.Cpu;
        var x = Tensor.Full(d, 1f, 2, 3, 6, 6);
        var w = Tensor.Full(d, 1f, 4, 3, 3, 3);
        var y = Tensor.Full(d, 0f, 2, 4, 6, 6);
        var residual = Tensor.Full(d, 0f, 2, 4, 6, 5);
        var e = Assert.ThrowsAny<ArgumentException>(() => d.Conv2d(x, w, null, y, g, relu: true, residual: residual));
        Assert.Contains("residual", e.Message, StringComparison.Ordinal);
    }

    private static void AgreeWithUnfused(CpuDevice d, ConvAlgorithm algorithm, string kernel, in Conv2dGeometry g, int seed)
    {
        var random = new Random(seed);
        var x = Tensor.From(Uniform(random, (int)g.InputLength), d, g.Batch, g.InChannels, g.Height, g.Width);
        var w = Tensor.From(Uniform(random, (int)g.WeightLength), d, g.OutChannels, g.InChannels / g.Groups, g.KernelH, g.KernelW);
        var b = Tensor.From(Uniform(random, g.OutChannels), d, g.OutChannels);
        var residual = Tensor.From(Uniform(random, (int)g.OutputLength), d, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        d.ConvAlgorithmOverride = algorithm;
        CpuGemm.KernelOverride = Enum.Parse<GemmKernel>(kernel);
        try
        {
            foreach (bool relu in new[] { true, false })
            {
                var conv = Tensor.Full(d, float.NaN, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
                var expected = Tensor.Full(d, float.NaN, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
                d.Conv2d(x, w, b, conv, g);
                if (relu)
                {
                    d.AddRelu(conv, residual, expected);
                }
                else
                {
                    d.Add(conv, residual, expected);
                }
                var fused = Tensor.Full(d, float.NaN, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
                d.Conv2d(x, w, b, fused, g, relu, residual);
                Assert.Equal(expected.ToArray(), fused.ToArray());
            }
        }
        finally
        {
            CpuGemm.KernelOverride = null;
        }
    }
}
