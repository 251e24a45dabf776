using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The direct kernel of any size and stride 1 or 2 (<see cref="DirectConvKxK"/>) against the double-precision references
/// (<see cref="CpuConvTests.Reference"/> forward, <see cref="NaiveReference.Conv2dBackward"/> for dx) on odd shapes:
/// stride-2 3x3 and 1x1 layers, 5x5 and 7x7 kernels on 1-3 channels, asymmetric padding, rows that are not whole
/// chunks, images smaller than the stride, output channels that are not whole blocks of 4, batch 1. The scalar and
/// 256-bit paths must agree bit for bit, and the sums must not depend on the thread count.
/// </summary>
public sealed class ConvDirectKxKTests
{
    private static readonly Dictionary<string, Conv2dGeometry> s_shapes = new()
    {
        ["3x3 s2 p1 odd"] = new(1, 3, 9, 11, 5, 3, 3, 2, 2, 1, 1, 1, 1),
        ["3x3 s2 p1 resnet-like"] = new(2, 16, 14, 14, 9, 3, 3, 2, 2, 1, 1, 1, 1),
        ["3x3 s2 p1 one channel"] = new(2, 1, 7, 13, 6, 3, 3, 2, 2, 1, 1, 1, 1),
        ["3x3 s2 p1 one row"] = new(1, 2, 1, 5, 3, 3, 3, 2, 2, 1, 1, 1, 1),
        ["1x1 s2"] = new(2, 5, 9, 7, 6, 1, 1, 2, 2),
        ["1x1 s2 wide"] = new(1, 32, 14, 14, 17, 1, 1, 2, 2),
        ["1x1 s1"] = new(1, 3, 5, 11, 9, 1, 1),
        ["5x5 mnist 1"] = new(2, 1, 28, 28, 10, 5, 5),
        ["5x5 mnist 2"] = new(1, 10, 12, 12, 20, 5, 5),
        ["5x5 same"] = new(1, 3, 9, 10, 7, 5, 5, 1, 1, 2, 2, 2, 2),
        ["7x7 s2 p3 stem"] = new(1, 3, 17, 15, 5, 7, 7, 2, 2, 3, 3, 3, 3),
        ["4x4 asymmetric"] = new(2, 2, 7, 9, 3, 4, 4, 1, 1, 1, 1, 2, 2),
        ["3x2 s2x1 uneven"] = new(1, 4, 8, 6, 5, 3, 2, 2, 1, 0, 1, 2, 0),
        ["3x3 s2 p0"] = new(1, 2, 10, 10, 4, 3, 3, 2, 2),
    };

    public static TheoryData<string, string, bool> Cases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (string kernel in new[] { nameof(GemmKernel.Scalar), nameof(GemmKernel.Vector256) })
        {
            bool flag = false;
            foreach (string shape in s_shapes.Keys)
            {
                data.Add(kernel, shape, flag);
                flag = !flag;
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_matches_the_double_reference_with_bias_and_relu(string kernel, string shape, bool relu)
    {
        var g = s_shapes[shape];
        Assert.True(ConvPlan.Supports(ConvAlgorithm.DirectKxK, g));
        var random = new Random(shape.Length * 31 + g.OutChannels);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        var b = Uniform(random, g.OutChannels);

        float[] y = ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.DirectKxK, kernel, g, x, wt, b, relu);
        var expected = CpuConvTests.Reference(g, Widen(x), Widen(wt), Widen(b));
        if (relu)
        {
            expected = Array.ConvertAll(expected, v => Math.Max(v, 0));
        }
        AssertClose(expected, y, 1e-4, 1e-4, $"direct {shape} ({kernel}) of {g}");

        float[] scalar = ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.DirectKxK, nameof(GemmKernel.Scalar), g, x, wt, b, relu);
        Assert.Equal(scalar, y);
        float[] oneThread = ConvDirectTests.Run(new CpuDevice(1), ConvAlgorithm.DirectKxK, kernel, g, x, wt, b, relu);
        Assert.Equal(oneThread, y);
        float[] noBias = ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.DirectKxK, kernel, g, x, wt, null, relu: false);
        AssertClose(CpuConvTests.Reference(g, Widen(x), Widen(wt), null), noBias, 1e-4, 1e-4, $"direct {shape} without bias");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Input_gradient_matches_the_double_reference_and_accumulates(string kernel, string shape, bool accumulate)
    {
        var g = s_shapes[shape];
        var random = new Random(shape.Length * 37 + g.InChannels);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        var dy = Uniform(random, (int)g.OutputLength);
        var dx0 = Uniform(random, (int)g.InputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);

        (float[] Dx, float[] Dw) Backward(ConvAlgorithm algorithm, string k, int threads) =>
            CpuConvBackward(g, algorithm, k, threads, x, wt, dy, dx0, dw0, accumulate);

        var direct = Backward(ConvAlgorithm.DirectKxK, kernel, 2);
        var reference = NaiveReference.Conv2dBackward(x, wt, dy, g).Dx;
        var expected = accumulate ? Plus(reference, dx0) : reference;
        AssertClose(expected, direct.Dx, 1e-4, 1e-4, $"dx of direct {shape} ({kernel}) of {g}");
        Assert.Equal(Backward(ConvAlgorithm.Im2ColGemm, kernel, 2).Dw, direct.Dw);
        Assert.Equal(Backward(ConvAlgorithm.DirectKxK, nameof(GemmKernel.Scalar), 2).Dx, direct.Dx);
        Assert.Equal(Backward(ConvAlgorithm.DirectKxK, kernel, 1).Dx, direct.Dx);
    }

    [Fact]
    public void The_plan_takes_the_general_direct_kernel_for_stride_2_and_wide_5x5_layers_only_with_256_bit_kernels()
    {
        Assert.Equal(ConvAlgorithm.DirectKxK, ConvPlan.Choose(new Conv2dGeometry(64, 16, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.DirectKxK, ConvPlan.Choose(new Conv2dGeometry(1, 32, 14, 14, 64, 3, 3, 2, 2, 1, 1, 1, 1), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.DirectKxK, ConvPlan.Choose(new Conv2dGeometry(64, 32, 14, 14, 64, 5, 5, 1, 1, 2, 2, 2, 2), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvPlan.Choose(new Conv2dGeometry(64, 16, 28, 28, 32, 1, 1, 2, 2), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvPlan.Choose(new Conv2dGeometry(64, 1, 28, 28, 10, 5, 5), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvPlan.Choose(new Conv2dGeometry(64, 60, 28, 28, 48, 1, 1), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.Direct3x3, ConvPlan.Choose(new Conv2dGeometry(64, 8, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1), GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.Winograd, ConvPlan.Choose(new Conv2dGeometry(64, 16, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1), GemmKernel.Vector256));
    }

    [Fact]
    public void Grouped_dilated_and_wide_stride_geometries_are_refused()
    {
        Assert.False(ConvPlan.Supports(ConvAlgorithm.DirectKxK, new Conv2dGeometry(1, 4, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, Groups: 2)));
        Assert.False(ConvPlan.Supports(ConvAlgorithm.DirectKxK, new Conv2dGeometry(1, 4, 9, 9, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2)));
        Assert.False(ConvPlan.Supports(ConvAlgorithm.DirectKxK, new Conv2dGeometry(1, 4, 9, 9, 4, 3, 3, 3, 3)));
        Assert.False(ConvPlan.Supports(ConvAlgorithm.DirectKxK, new Conv2dGeometry(1, 1, 20, 20, 4, 9, 9)));
    }
}
