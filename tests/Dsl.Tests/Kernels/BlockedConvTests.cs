using System.Runtime.Intrinsics;
using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;
using Dsl.Tests.Fixtures;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The direct convolution in the blocked channel layout (<see cref="BlockedConv"/>) against the double-precision
/// references (<see cref="CpuConvTests.Reference"/> forward, <see cref="NaiveReference.Conv2dBackward"/> for dx) on odd
/// shapes: channel counts that are not whole blocks of 16 (1, 3, 17, 33 in; 5, 40 out: an odd number of output blocks
/// leaves a single block after the pairs), rows wider than one tile (29 and 30 columns: tiles of unequal width), strides
/// 2 to 4, dilation, asymmetric and zero padding, padding wider than the dilated kernel (the input gradient's crop), a
/// 1x1 image, batch 1 and 3. The sums must not depend on the thread count.
/// </summary>
public sealed class BlockedConvTests
{
    private static readonly Dictionary<string, Conv2dGeometry> s_shapes = new()
    {
        ["3x3 same, 17 -> 5"] = new(3, 17, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1),
        ["3x3 same, 33 -> 40, wide rows"] = new(2, 33, 6, 29, 40, 3, 3, 1, 1, 1, 1, 1, 1),
        ["5x5 same, two-conv-like"] = new(2, 32, 14, 14, 64, 5, 5, 1, 1, 2, 2, 2, 2),
        ["5x5 valid, one channel"] = new(1, 1, 12, 13, 10, 5, 5),
        ["3x3 s2 p1, resnet down"] = new(2, 16, 14, 14, 32, 3, 3, 2, 2, 1, 1, 1, 1),
        ["1x1 s2 projection"] = new(2, 16, 9, 9, 32, 1, 1, 2, 2),
        ["1x1 s1, 3 -> 17"] = new(1, 3, 5, 30, 17, 1, 1),
        ["3x3 dilation 2"] = new(2, 5, 11, 10, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2),
        ["3x2 asymmetric s2x1"] = new(1, 4, 8, 6, 5, 3, 2, 2, 1, 0, 1, 2, 0),
        ["11x11 s4 p2 stem"] = new(1, 3, 31, 27, 8, 11, 11, 4, 4, 2, 2, 2, 2),
        ["3x3 s3"] = new(1, 6, 10, 13, 4, 3, 3, 3, 3, 1, 1, 1, 1),
        ["1x1 padded 1 (crop in dx)"] = new(2, 4, 5, 6, 3, 1, 1, 1, 1, 1, 1, 1, 1),
        ["3x3 same on a 1x1 image"] = new(1, 16, 1, 1, 16, 3, 3, 1, 1, 1, 1, 1, 1),
    };

    public static TheoryData<string> Shapes() => new(s_shapes.Keys);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_matches_the_double_reference_with_bias_and_relu(string shape)
    {
        var g = s_shapes[shape];
        if (!Vector512.IsHardwareAccelerated)
        {
            Assert.False(ConvPlan.Supports(ConvAlgorithm.Blocked, g));
            return;
        }
        Assert.True(ConvPlan.Supports(ConvAlgorithm.Blocked, g));
        var random = new Random(shape.Length * 41 + g.OutChannels);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        var b = Uniform(random, g.OutChannels);
        string kernel = nameof(GemmKernel.Vector512);

        var plain = CpuConvTests.Reference(g, Widen(x), Widen(wt), Widen(b));
        float[] y = ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.Blocked, kernel, g, x, wt, b);
        AssertClose(plain, y, 1e-4, 1e-4, $"blocked {shape} of {g}");
        float[] relu = ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.Blocked, kernel, g, x, wt, b, relu: true);
        AssertClose(Array.ConvertAll(plain, v => Math.Max(v, 0)), relu, 1e-4, 1e-4, $"blocked {shape} with ReLU");
        Assert.Contains(relu, v => v == 0f);
        float[] noBias = ConvDirectTests.Run(new CpuDevice(2), ConvAlgorithm.Blocked, kernel, g, x, wt, null);
        AssertClose(CpuConvTests.Reference(g, Widen(x), Widen(wt), null), noBias, 1e-4, 1e-4, $"blocked {shape} without bias");
        Assert.Equal(y, ConvDirectTests.Run(new CpuDevice(1), ConvAlgorithm.Blocked, kernel, g, x, wt, b));
        Assert.Equal(y, ConvDirectTests.Run(new CpuDevice(3), ConvAlgorithm.Blocked, kernel, g, x, wt, b));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Input_gradient_matches_the_double_reference_and_accumulates(string shape)
    {
        var g = s_shapes[shape];
        if (!Vector512.IsHardwareAccelerated)
        {
            return;
        }
        var random = new Random(shape.Length * 43 + g.InChannels);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        var dy = Uniform(random, (int)g.OutputLength);
        var dx0 = Uniform(random, (int)g.InputLength);
        var dw0 = Uniform(random, (int)g.WeightLength);
        string kernel = nameof(GemmKernel.Vector512);
        var reference = NaiveReference.Conv2dBackward(x, wt, dy, g).Dx;
        foreach (bool accumulate in new[] { false, true })
        {
            var blocked = CpuConvBackward(g, ConvAlgorithm.Blocked, kernel, 2, x, wt, dy, dx0, dw0, accumulate);
            AssertClose(accumulate ? Plus(reference, dx0) : reference, blocked.Dx, 1e-4, 1e-4, $"dx of blocked {shape} (accumulate {accumulate}) of {g}");
            var im2col = CpuConvBackward(g, ConvAlgorithm.Im2ColGemm, kernel, 2, x, wt, dy, dx0, dw0, accumulate);
            Assert.Equal(im2col.Dw, blocked.Dw);
            Assert.Equal(CpuConvBackward(g, ConvAlgorithm.Blocked, kernel, 1, x, wt, dy, dx0, dw0, accumulate).Dx, blocked.Dx);
            if (!BlockedConv.HasInputGradient(g))
            {
                // Strided layers leave dx to im2col + GEMM: the very same sums.
                Assert.Equal(im2col.Dx, blocked.Dx);
            }
        }
    }

    public static TheoryData<string> PyTorchCases => FixtureFile.CaseNames("conv2d.json");

    /// <summary>Every case of conv2d.json (nn.Conv2d's outputs and gradients) the blocked kernel takes, forced onto it.</summary>
    [Theory]
    [MemberData(nameof(PyTorchCases))]
    public void Forward_and_input_gradient_match_pytorch(string name)
    {
        var c = FixtureFile.Load("conv2d.json").Case(name);
        var g = Gradients.Conv2dFixtureTests.Geometry(c);
        if (!ConvPlan.Supports(ConvAlgorithm.Blocked, g))
        {
            Assert.True(g.Groups > 1 || !Vector512.IsHardwareAccelerated, $"{c}: only grouped layers (or a machine without AVX-512) are left out");
            return;
        }
        AssertForcedMatchesPyTorch(c, g, ConvAlgorithm.Blocked);
    }

    /// <summary>
    /// A 1x1 layer left to im2col + GEMM forward gets the blocked kernel's input gradient from the plan (no algorithm forced):
    /// the sums the reference gives, written over or added to dx, and dW as the reference's. Blocked layers keep it only where
    /// it costs no more than their forward; a strided one's (none) is im2col + GEMM's.
    /// </summary>
    [Fact]
    public void The_plan_chooses_the_blocked_input_gradient_where_it_costs_no_more_than_the_forward()
    {
        var g = new Conv2dGeometry(5, 20, 6, 7, 18, 1, 1);
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvPlan.Choose(g, GemmKernel.Vector512));
        var expected = Vector512.IsHardwareAccelerated ? ConvAlgorithm.Blocked : ConvAlgorithm.Im2ColGemm;
        Assert.Equal(expected, ConvPlan.ChooseInputGradient(g, GemmKernel.Vector512));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvPlan.ChooseInputGradient(g, GemmKernel.Vector256));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvPlan.ChooseInputGradient(g with { Batch = 1 }, GemmKernel.Vector512));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvPlan.ChooseInputGradient(g with { StrideH = 2, StrideW = 2 }, GemmKernel.Vector512));
        Assert.Equal(ConvAlgorithm.Winograd, ConvPlan.ChooseInputGradient(new Conv2dGeometry(64, 16, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1), GemmKernel.Vector512));
        // Blocked forward layers keep its input gradient where it costs no more than the forward ("same" padding), not where
        // an unpadded layer's would compute a larger image from a zero-bordered dy.
        var same5x5 = new Conv2dGeometry(64, 32, 14, 14, 64, 5, 5, 1, 1, 2, 2, 2, 2);
        var valid5x5 = new Conv2dGeometry(64, 16, 12, 12, 32, 5, 5);
        Assert.Equal(expected, ConvPlan.Choose(valid5x5, GemmKernel.Vector512));
        Assert.Equal(expected, ConvPlan.ChooseInputGradient(same5x5, GemmKernel.Vector512));
        Assert.Equal(ConvAlgorithm.Im2ColGemm, ConvPlan.ChooseInputGradient(valid5x5, GemmKernel.Vector512));
        var strided = new Conv2dGeometry(64, 16, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1);
        Assert.Equal(expected, ConvPlan.Choose(strided, GemmKernel.Vector512));
        Assert.Equal(expected, ConvPlan.ChooseInputGradient(strided, GemmKernel.Vector512));

        var random = new Random(71);
        var x = Uniform(random, (int)g.InputLength);
        var wt = Uniform(random, (int)g.WeightLength);
        var dy = Uniform(random, (int)g.OutputLength);
        var dx0 = Uniform(random, (int)g.InputLength);
        var reference = NaiveReference.Conv2dBackward(x, wt, dy, g);
        foreach (bool accumulate in new[] { false, true })
        {
            var d = new CpuDevice(2);
            var dx = Tensor.From((float[])dx0.Clone(), d, (int)g.InputLength);
            var dw = Tensor.Zeros(d, (int)g.WeightLength);
            CpuGemm.KernelOverride = GemmKernel.Vector512;
            try
            {
                d.Conv2dBackward(Tensor.From(x, d, (int)g.InputLength), Tensor.From(wt, d, (int)g.WeightLength),
                    Tensor.From(dy, d, (int)g.OutputLength), dx, dw, null, g, accumulate);
            }
            finally
            {
                CpuGemm.KernelOverride = null;
            }
            AssertClose(accumulate ? Plus(reference.Dx, dx0) : reference.Dx, dx.ToArray(), 1e-4, 1e-4, $"dx of {g} (accumulate {accumulate})");
            AssertClose(reference.Dw, dw.ToArray(), 1e-4, 1e-4, $"dW of {g}");
        }
    }

    [Fact]
    public void The_stride_one_input_gradient_geometry_maps_dy_back_to_the_input()
    {
        // Asymmetric padding, dilation, a pad wider than the dilated kernel (a crop): dx is always the input's size.
        foreach (var g in new Conv2dGeometry[]
        {
            new(2, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1),
            new(1, 4, 8, 6, 5, 3, 2, 1, 1, 0, 1, 2, 0),
            new(2, 5, 11, 10, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2),
            new(2, 4, 5, 6, 3, 1, 1, 1, 1, 1, 1, 1, 1),
        })
        {
            var t = g.StrideOneInputGradient();
            Assert.Equal((g.Batch, g.OutChannels, g.OutHeight, g.OutWidth), (t.Batch, t.InChannels, t.Height, t.Width));
            Assert.Equal((g.InChannels, g.Height, g.Width), (t.OutChannels, t.OutHeight, t.OutWidth));
            Assert.Equal((g.KernelH, g.KernelW, g.DilationH, g.DilationW), (t.KernelH, t.KernelW, t.DilationH, t.DilationW));
        }
        Assert.Throws<InvalidOperationException>(() => new Conv2dGeometry(1, 4, 9, 9, 4, 3, 3, 2, 2, 1, 1, 1, 1).StrideOneInputGradient());
        Assert.Throws<InvalidOperationException>(() => new Conv2dGeometry(1, 4, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, Groups: 2).StrideOneInputGradient());
    }

    [Fact]
    public void Grouped_and_wide_stride_geometries_are_refused()
    {
        Assert.False(ConvPlan.Supports(ConvAlgorithm.Blocked, new Conv2dGeometry(1, 4, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, Groups: 2)));
        Assert.False(ConvPlan.Supports(ConvAlgorithm.Blocked, new Conv2dGeometry(1, 4, 20, 20, 4, 3, 3, 5, 5)));
        Assert.False(BlockedConv.HasInputGradient(new Conv2dGeometry(1, 4, 9, 9, 4, 3, 3, 2, 2, 1, 1, 1, 1)));
        Assert.Equal(Vector512.IsHardwareAccelerated, BlockedConv.HasInputGradient(new Conv2dGeometry(1, 4, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1)));
    }
}
