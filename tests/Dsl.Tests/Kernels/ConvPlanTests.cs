using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;
using Xunit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The forward plan's geometry -> algorithm table for each GEMM kernel width (ConvPlan.Choose): the 256-bit lines come
/// from an AVX2 machine's <c>bench conv</c>, the 512-bit ones from an AVX-512 machine's, where the 256-bit direct kernels
/// lost to the 512-bit im2col + GEMM on every layer measured.
/// </summary>
public sealed class ConvPlanTests
{
    private static Conv2dGeometry Same3x3(int n, int c, int hw, int oc) => new(n, c, hw, hw, oc, 3, 3, 1, 1, 1, 1, 1, 1);

    public static TheoryData<string, Conv2dGeometry, ConvAlgorithm, ConvAlgorithm> Table => new()
    {
        // name, geometry, 256-bit (and scalar) choice, 512-bit choice
        { "resnet20 s1 3x3, batch 64", Same3x3(64, 16, 28, 16), ConvAlgorithm.Winograd, ConvAlgorithm.Winograd },
        { "resnet20 s3 3x3, batch 64", Same3x3(64, 64, 7, 64), ConvAlgorithm.Winograd, ConvAlgorithm.Winograd },
        { "densenet b2 3x3 (12 out), batch 64", Same3x3(64, 48, 14, 12), ConvAlgorithm.Winograd, ConvAlgorithm.Winograd },
        { "resnet20 s1 3x3, batch 1 (49 tiles)", Same3x3(1, 16, 28, 16), ConvAlgorithm.Winograd, ConvAlgorithm.Winograd },
        { "resnet20 s2 3x3, batch 2 (32 tiles)", Same3x3(2, 32, 14, 32), ConvAlgorithm.Winograd, ConvAlgorithm.Im2ColGemm },
        { "resnet20 s2 3x3, batch 1 (16 tiles)", Same3x3(1, 32, 14, 32), ConvAlgorithm.Direct3x3, ConvAlgorithm.Im2ColGemm },
        { "resnet20 s3 3x3, batch 1 (4 tiles)", Same3x3(1, 64, 7, 64), ConvAlgorithm.Direct3x3, ConvAlgorithm.Im2ColGemm },
        { "3x3 of 8 input channels", Same3x3(64, 8, 28, 16), ConvAlgorithm.Direct3x3, ConvAlgorithm.Im2ColGemm },
        { "3x3 of 8 output channels", Same3x3(64, 16, 28, 8), ConvAlgorithm.Direct3x3, ConvAlgorithm.Im2ColGemm },
        { "1-channel 3x3 stem", Same3x3(64, 1, 28, 24), ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Im2ColGemm },
        { "unpadded 3x3", new(64, 16, 28, 28, 16, 3, 3, 1, 1, 0, 0, 0, 0), ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Im2ColGemm },
        { "grouped 3x3", new(64, 16, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, Groups: 2), ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Im2ColGemm },
        { "resnet20 s2 down (3x3 stride 2)", new(64, 16, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1), ConvAlgorithm.DirectKxK, ConvAlgorithm.Blocked },
        { "resnet20 s3 down, batch 4", new(4, 32, 14, 14, 64, 3, 3, 2, 2, 1, 1, 1, 1), ConvAlgorithm.DirectKxK, ConvAlgorithm.Blocked },
        { "resnet20 s3 down, batch 1", new(1, 32, 14, 14, 64, 3, 3, 2, 2, 1, 1, 1, 1), ConvAlgorithm.DirectKxK, ConvAlgorithm.Im2ColGemm },
        { "two-conv conv2 (32-channel 5x5)", new(64, 32, 14, 14, 64, 5, 5, 1, 1, 2, 2, 2, 2), ConvAlgorithm.DirectKxK, ConvAlgorithm.Blocked },
        { "dilated 5x5", new(64, 32, 14, 14, 64, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2), ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Im2ColGemm },
        { "3x3 stride 2 of 8 input channels", new(64, 8, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1), ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Im2ColGemm },
        { "mnist-net conv1 (1-channel 5x5)", new(64, 1, 28, 28, 10, 5, 5), ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Im2ColGemm },
        { "lenet5 conv2 (6-channel 5x5)", new(64, 6, 14, 14, 16, 5, 5), ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Im2ColGemm },
        { "resnet20 s2 proj (1x1 stride 2)", new(64, 16, 28, 28, 32, 1, 1, 2, 2), ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Im2ColGemm },
        { "densenet b1 1x1", new(64, 60, 28, 28, 48, 1, 1), ConvAlgorithm.Im2ColGemm, ConvAlgorithm.Im2ColGemm },
        { "conv1d", new(4, 16, 1, 28, 32, 1, 3), ConvAlgorithm.DirectConv1d, ConvAlgorithm.DirectConv1d },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void The_plan_draws_its_lines_per_kernel_width(string name, Conv2dGeometry g, ConvAlgorithm narrow, ConvAlgorithm wide)
    {
        Assert.True(ConvPlan.Supports(narrow, g), name);
        Assert.Equal(narrow, ConvPlan.Choose(g, GemmKernel.Vector256));
        Assert.Equal(narrow, ConvPlan.Choose(g, GemmKernel.Scalar));
        // The blocked kernel needs AVX-512 (BlockedConv.Applies); without it the 512-bit plan falls back to im2col + GEMM.
        var wideHere = wide == ConvAlgorithm.Blocked && !ConvPlan.Supports(ConvAlgorithm.Blocked, g) ? ConvAlgorithm.Im2ColGemm : wide;
        Assert.True(ConvPlan.Supports(wideHere, g), name);
        Assert.Equal(wideHere, ConvPlan.Choose(g, GemmKernel.Vector512));
    }

    [Fact]
    public void The_plan_never_takes_a_256_bit_direct_kernel_with_512_bit_kernels()
    {
        foreach (int n in new[] { 1, 2, 64 })
        {
            foreach (int c in new[] { 1, 3, 8, 16, 48, 64 })
            {
                foreach (int hw in new[] { 5, 7, 14, 28 })
                {
                    foreach (int k in new[] { 1, 3, 5 })
                    {
                        foreach (int s in new[] { 1, 2 })
                        {
                            var g = new Conv2dGeometry(n, c, hw, hw, 16, k, k, s, s, k / 2, k / 2, k / 2, k / 2);
                            Assert.DoesNotContain(ConvPlan.Choose(g, GemmKernel.Vector512), new[] { ConvAlgorithm.Direct3x3, ConvAlgorithm.DirectKxK });
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void An_unknown_kernel_width_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ConvPlan.Choose(Same3x3(64, 16, 28, 16), (GemmKernel)99));
    }

    [Theory]
    [InlineData(nameof(GemmKernel.Vector256), ConvAlgorithm.Direct3x3)]
    [InlineData(nameof(GemmKernel.Vector512), ConvAlgorithm.Im2ColGemm)]
    public void The_device_plans_with_the_kernel_width_of_the_calling_thread(string kernel, ConvAlgorithm expected)
    {
        CpuGemm.KernelOverride = Enum.Parse<GemmKernel>(kernel);
        try
        {
            Assert.Equal(expected, CpuDevice.ChosenConvAlgorithm(Same3x3(64, 8, 28, 16)));
        }
        finally
        {
            CpuGemm.KernelOverride = null;
        }
    }
}
