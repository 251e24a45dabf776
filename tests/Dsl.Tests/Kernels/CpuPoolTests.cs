using Dsl.Devices.Cpu;
using Xunit;
using static Dsl.Tests.Kernels.ConvFamilyTestKit;

namespace Dsl.Tests.Kernels;

// Pooling kernels against naive double-precision references written from PyTorch's definitions. Gradients: the loss is
// L = sum(R .* pool(x)) for a random projection R, the analytic backward runs with dy = R, and dL/dx comes from central
// finite differences of the double reference. Average pooling is linear, so the quotient is exact up to rounding (step
// 1e-3). Max pooling is piecewise linear: inputs are a shuffled ramp with gaps of 2/len >> the step 1e-5, so no
// perturbation changes a window's winner. Tolerance atol 1e-5 + rtol 1e-5 (float sums of at most a few terms).
public class CpuPoolTests
{
    private const double Tol = 1e-5;

    private readonly CpuDevice _device = new(2);

    public static TheoryData<int, int, int, int, int, int> Windows() => new()
    {
        // kernelH, kernelW, strideH, strideW, padH, padW
        { 2, 2, 2, 2, 0, 0 }, // the common case (max pool's unrolled path)
        { 3, 3, 2, 2, 1, 1 }, // overlapping, padded
        { 3, 3, 1, 1, 1, 1 }, // heavily overlapping
        { 2, 3, 1, 2, 1, 1 }, // non-square kernel and stride
        { 3, 2, 3, 1, 0, 1 },
    };

    [Theory]
    [MemberData(nameof(Windows))]
    public void MaxPool2d_values_and_argmax_match_naive_reference(int kh, int kw, int sh, int sw, int ph, int pw)
    {
        var g = new Pool2dGeometry(2, 3, 7, 6, kh, kw, sh, sw, ph, pw);
        var x = ShuffledRamp(new Random(kh * 100 + kw * 10 + sh), (int)g.InputLength);

        var (y, argmax) = MaxPool(g, x);

        var (expected, expectedArgmax) = MaxReference(g, Widen(x));
        AssertClose(expected, y, 0, 0, "y");
        Assert.Equal(expectedArgmax, argmax);
    }

    [Theory]
    [MemberData(nameof(Windows))]
    public void MaxPool2d_backward_matches_finite_differences(int kh, int kw, int sh, int sw, int ph, int pw)
    {
        var g = new Pool2dGeometry(2, 3, 7, 6, kh, kw, sh, sw, ph, pw);
        var random = new Random(kh * 7 + kw * 3 + ph);
        var x = ShuffledRamp(random, (int)g.InputLength);
        var r = Uniform(random, (int)g.OutputLength);
        var (_, argmax) = MaxPool(g, x);
        var argmaxTensor = _device.Allocate(DType.Int32, (int)g.OutputLength);
        _device.Upload(argmax, argmaxTensor);

        foreach (bool accumulate in new[] { false, true })
        {
            var dx0 = Uniform(random, (int)g.InputLength);
            var dx = Tensor.From(dx0, _device, (int)g.InputLength);
            _device.MaxPool2dBackward(Tensor.From(r, _device, (int)g.OutputLength), argmaxTensor, dx, g, accumulate);

            var xd = Widen(x);
            var rd = Widen(r);
            var grad = CentralDifferences(xd, () => Dot(MaxReference(g, xd).Y, rd), 1e-5);
            AssertClose(accumulate ? Plus(grad, dx0) : grad, dx.ToArray(), 1e-6 + Tol, Tol, $"dx, accumulate {accumulate}");
        }
    }

    [Theory]
    [MemberData(nameof(Windows))]
    public void MaxPool2d_backward_with_the_relu_output_is_the_gradient_of_the_pool_of_a_relu(int kh, int kw, int sh, int sw, int ph, int pw)
        => PoolOfReluBackward(new Pool2dGeometry(2, 3, 7, 6, kh, kw, sh, sw, ph, pw), new Random(kh * 11 + kw * 5 + pw));

    [Fact]
    public void MaxPool2d_backward_with_the_relu_output_masks_planes_of_more_outputs_than_one_mask_chunk()
        => PoolOfReluBackward(new Pool2dGeometry(1, 2, 40, 36, 2, 2, 2, 2, 0, 0), new Random(8)); // 360 outputs a plane

    private void PoolOfReluBackward(Pool2dGeometry g, Random random)
    {
        // L = sum(R .* pool(relu(x))): the pool's backward given its output y (the ReLU's backward in it) against central
        // differences of the double reference. The ramp is shifted down, so that about two thirds of the inputs are negative
        // and whole windows are, and by 0.6 / len more: the input nearest the ReLU's kink lies 7.9e-4 (252 inputs) or 2.1e-4
        // (2,880 inputs) from 0, far past the step 1e-5.
        var x = Array.ConvertAll(ShuffledRamp(random, (int)g.InputLength), v => v - 0.3f - 0.6f / g.InputLength);
        var r = Uniform(random, (int)g.OutputLength);
        var relu = Array.ConvertAll(x, v => Math.Max(0f, v));
        var (y, argmax) = MaxPool(g, relu);
        Assert.Contains(0f, y); // some windows are all negative before the ReLU: the mask is exercised
        var argmaxTensor = _device.Allocate(DType.Int32, (int)g.OutputLength);
        _device.Upload(argmax, argmaxTensor);
        var xd = Widen(x);
        var rd = Widen(r);
        var grad = CentralDifferences(xd, () => Dot(MaxReference(g, Array.ConvertAll(xd, v => Math.Max(0.0, v))).Y, rd), 1e-5);

        foreach (bool accumulate in new[] { false, true })
        {
            var dx0 = Uniform(random, (int)g.InputLength);
            var dx = Tensor.From(dx0, _device, (int)g.InputLength);
            _device.MaxPool2dBackward(Tensor.From(r, _device, (int)g.OutputLength), argmaxTensor, dx, g, accumulate,
                reluOutput: Tensor.From(y, _device, (int)g.OutputLength));
            AssertClose(accumulate ? Plus(grad, dx0) : grad, dx.ToArray(), 1e-6 + Tol, Tol, $"dx, accumulate {accumulate}");
        }
    }

    [Fact]
    public void MaxPool2d_backward_refuses_a_relu_output_not_shaped_like_the_pool_output()
    {
        var g = new Pool2dGeometry(1, 2, 4, 4, 2, 2, 2, 2);
        var e = Assert.Throws<ArgumentException>(() => _device.MaxPool2dBackward(Tensor.Zeros(_device, 1, 2, 2, 2),
            _device.Allocate(DType.Int32, 1, 2, 2, 2), Tensor.Zeros(_device, 1, 2, 4, 4), g, accumulate: false, reluOutput: Tensor.Zeros(_device, 1, 2, 4, 4)));
        Assert.Contains("reluOutput", e.Message);
    }

    [Fact]
    public void MaxPool2d_padding_never_wins_over_negative_inputs()
    {
        // PyTorch pads max pooling with -inf: with every input below -1 a zero from the padding must never appear.
        var g = new Pool2dGeometry(1, 2, 5, 5, 3, 3, 2, 2, 1, 1);
        var x = Uniform(new Random(1), (int)g.InputLength, -3f, -1f);

        var (y, argmax) = MaxPool(g, x);

        for (int i = 0; i < y.Length; i++)
        {
            Assert.True(y[i] <= -1f, $"output {i} is {y[i]}, a padding value");
            Assert.Equal(x[argmax[i]], y[i]);
        }
    }

    [Fact]
    public void MaxPool2d_argmax_indexes_the_whole_input_not_the_plane()
    {
        var g = new Pool2dGeometry(2, 2, 4, 4, 2, 2, 2, 2);
        var x = ShuffledRamp(new Random(2), (int)g.InputLength);

        var (_, argmax) = MaxPool(g, x);

        // Output plane p (of 4 values) must point into input plane p (16 values).
        for (int i = 0; i < argmax.Length; i++)
        {
            Assert.Equal(i / 4, argmax[i] / 16);
        }
    }

    [Theory]
    [MemberData(nameof(Windows))]
    public void AvgPool2d_matches_naive_reference_with_and_without_counting_padding(int kh, int kw, int sh, int sw, int ph, int pw)
    {
        var g = new Pool2dGeometry(2, 3, 7, 6, kh, kw, sh, sw, ph, pw);
        var x = Uniform(new Random(kh + kw + sh + ph), (int)g.InputLength);
        foreach (bool includePad in new[] { true, false })
        {
            var y = Tensor.Full(_device, float.NaN, (int)g.OutputLength);
            _device.AvgPool2d(Tensor.From(x, _device, (int)g.InputLength), y, g, includePad);
            AssertClose(AvgReference(g, Widen(x), includePad), y.ToArray(), Tol, Tol, $"y, countIncludePad {includePad}");
        }
    }

    [Theory]
    [MemberData(nameof(Windows))]
    public void AvgPool2d_backward_matches_finite_differences(int kh, int kw, int sh, int sw, int ph, int pw)
    {
        var g = new Pool2dGeometry(2, 3, 7, 6, kh, kw, sh, sw, ph, pw);
        var random = new Random(kh * 31 + kw + sw);
        var x = Widen(Uniform(random, (int)g.InputLength));
        var r = Uniform(random, (int)g.OutputLength);
        var rd = Widen(r);
        foreach (bool includePad in new[] { true, false })
        {
            foreach (bool accumulate in new[] { false, true })
            {
                var dx0 = Uniform(random, (int)g.InputLength);
                var dx = Tensor.From(dx0, _device, (int)g.InputLength);
                _device.AvgPool2dBackward(Tensor.From(r, _device, (int)g.OutputLength), dx, g, includePad, accumulate);

                var grad = CentralDifferences(x, () => Dot(AvgReference(g, x, includePad), rd), 1e-3);
                AssertClose(accumulate ? Plus(grad, dx0) : grad, dx.ToArray(), Tol, Tol, $"dx, countIncludePad {includePad}, accumulate {accumulate}");
            }
        }
    }

    [Fact]
    public void AvgPool2d_excluding_padding_divides_a_corner_by_its_real_elements()
    {
        // 3x3 window at the top-left corner with padding 1 covers 2x2 real elements: 9 or 4 in the divisor.
        var g = new Pool2dGeometry(1, 1, 4, 4, 3, 3, 2, 2, 1, 1);
        var x = Tensor.Full(_device, 1f, 16);
        var included = Tensor.Zeros(_device, 4);
        var excluded = Tensor.Zeros(_device, 4);

        _device.AvgPool2d(x, included, g, countIncludePad: true);
        _device.AvgPool2d(x, excluded, g, countIncludePad: false);

        Assert.Equal(4f / 9f, included.ToArray()[0], 6);
        Assert.Equal(1f, excluded.ToArray()[0], 6);
    }

    public static TheoryData<int, int, int, int> AdaptiveSizes() => new()
    {
        // height, width, outHeight, outWidth
        { 5, 5, 3, 3 }, // non-divisible: windows overlap
        { 7, 5, 3, 2 },
        { 4, 6, 2, 3 }, // divisible: plain average pooling
        { 5, 7, 1, 1 }, // global average pooling
        { 3, 2, 4, 3 }, // output larger than input
    };

    [Theory]
    [InlineData(28)] // DenseNet-BC's first transition: eight, four and two outputs a row
    [InlineData(14)] // its second: four and three
    [InlineData(34)] // two vectors of eight and a single one
    public void AvgPool2d_2x2_equals_the_general_window_path_bit_for_bit(int size)
    {
        // The 2x2 stride-2 path skips the window bounds; an adaptive pool to half the size has the same windows and runs
        // the general path, with the same additions in the same order. Signed zeros and NaNs in the input as well.
        int n = 2, c = 3, half = size / 2;
        var x = Uniform(new Random(size), n * c * size * size);
        x[0] = -0f; x[1] = -0f; x[size] = -0f; x[size + 1] = -0f;
        x[2 * size + 5] = float.NaN;
        var g = new Pool2dGeometry(n, c, size, size, 2, 2, 2, 2, 0, 0);
        var pooled = Tensor.Full(_device, 7f, (int)g.OutputLength);
        var general = Tensor.Full(_device, 7f, (int)g.OutputLength);

        _device.AvgPool2d(Tensor.From(x, _device, x.Length), pooled, g, countIncludePad: true);
        _device.AdaptiveAvgPool2d(Tensor.From(x, _device, x.Length), general, n, c, size, size, half, half);

        var expected = general.ToArray();
        var actual = pooled.ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"output {i}: {actual[i]} vs {expected[i]}");
        }
        Assert.True(float.IsNaN(actual[half + 2]), "a NaN in a window makes its mean NaN");
    }

    [Theory]
    [InlineData(7, 7)]   // ceil_mode: the last window of each row and column holds one input
    [InlineData(7, 34)]  // vector-wide rows with a partial last window
    [InlineData(8, 9)]   // whole windows down, a partial one across
    public void Pool2d_2x2_stride_2_with_ceil_mode_partial_windows_matches_the_references(int h, int w)
    {
        // The 2x2 stride-2 fast paths read two whole rows and two whole columns per window; with ceil_mode and an odd
        // size the last window is cut by the image's edge, so those shapes must take the general path.
        var g = new Pool2dGeometry(2, 3, h, w, 2, 2, 2, 2, 0, 0, CeilMode: true);
        var x = ShuffledRamp(new Random(h * 97 + w), (int)g.InputLength);
        var (y, argmax) = MaxPool(g, x);
        var (expected, expectedArgmax) = MaxReference(g, Widen(x));
        AssertClose(expected, y, Tol, Tol, "max y");
        Assert.Equal(expectedArgmax, argmax);
        foreach (bool includePad in new[] { true, false })
        {
            var avg = Tensor.Full(_device, float.NaN, (int)g.OutputLength);
            _device.AvgPool2d(Tensor.From(x, _device, (int)g.InputLength), avg, g, includePad);
            AssertClose(AvgReference(g, Widen(x), includePad), avg.ToArray(), Tol, Tol, $"avg y, countIncludePad {includePad}");
        }
    }

    [Theory]
    [MemberData(nameof(AdaptiveSizes))]
    public void AdaptiveAvgPool2d_matches_naive_reference_and_finite_differences(int h, int w, int oh, int ow)
    {
        var random = new Random(h * 100 + w * 10 + oh);
        int n = 2, c = 3;
        var x = Uniform(random, n * c * h * w);
        var r = Uniform(random, n * c * oh * ow);
        var y = Tensor.Full(_device, float.NaN, n * c * oh * ow);
        _device.AdaptiveAvgPool2d(Tensor.From(x, _device, x.Length), y, n, c, h, w, oh, ow);
        var xd = Widen(x);
        AssertClose(AdaptiveReference(xd, n * c, h, w, oh, ow), y.ToArray(), Tol, Tol, "y");

        var rd = Widen(r);
        var grad = CentralDifferences(xd, () => Dot(AdaptiveReference(xd, n * c, h, w, oh, ow), rd), 1e-3);
        foreach (bool accumulate in new[] { false, true })
        {
            var dx0 = Uniform(random, x.Length);
            var dx = Tensor.From(dx0, _device, x.Length);
            _device.AdaptiveAvgPool2dBackward(Tensor.From(r, _device, r.Length), dx, n, c, h, w, oh, ow, accumulate);
            AssertClose(accumulate ? Plus(grad, dx0) : grad, dx.ToArray(), Tol, Tol, $"dx, accumulate {accumulate}");
        }
    }

    [Fact]
    public void Pooling_with_padding_over_half_the_kernel_is_rejected_as_in_pytorch()
    {
        var g = new Pool2dGeometry(1, 1, 4, 4, 2, 2, 2, 2, 2, 2);
        var e = Assert.Throws<ArgumentException>(() =>
            _device.AvgPool2d(Tensor.Zeros(_device, 16), Tensor.Zeros(_device, (int)g.OutputLength), g, true));
        Assert.Contains("half the kernel", e.Message);
    }

    // ------------------------------------------------------------------ helpers and references

    private (float[] Y, int[] Argmax) MaxPool(in Pool2dGeometry g, float[] x)
    {
        var y = Tensor.Full(_device, float.NaN, (int)g.OutputLength);
        var argmax = _device.Allocate(DType.Int32, (int)g.OutputLength);
        _device.MaxPool2d(Tensor.From(x, _device, (int)g.InputLength), y, argmax, g);
        var idx = new int[g.OutputLength];
        _device.Download(argmax, idx);
        return (y.ToArray(), idx);
    }

    /// <summary>Distinct values -1 + 2*k/len in random order: every window has a unique maximum with a wide margin.</summary>
    private static float[] ShuffledRamp(Random random, int count)
    {
        var a = new float[count];
        for (int i = 0; i < count; i++)
        {
            a[i] = -1f + 2f * i / count;
        }
        random.Shuffle(a);
        return a;
    }

    private static (double[] Y, int[] Argmax) MaxReference(in Pool2dGeometry g, double[] x)
    {
        int planes = g.Batch * g.Channels, oh = g.OutHeight, ow = g.OutWidth;
        var y = new double[planes * oh * ow];
        var at = new int[y.Length];
        for (int p = 0; p < planes; p++)
        {
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    double best = double.NegativeInfinity;
                    int arg = -1;
                    for (int u = 0; u < g.KernelH; u++)
                    {
                        for (int v = 0; v < g.KernelW; v++)
                        {
                            int r = i * g.StrideH - g.PadH + u, c = j * g.StrideW - g.PadW + v;
                            if (r >= 0 && r < g.Height && c >= 0 && c < g.Width)
                            {
                                int k = (p * g.Height + r) * g.Width + c;
                                if (x[k] > best)
                                {
                                    best = x[k];
                                    arg = k;
                                }
                            }
                        }
                    }
                    y[(p * oh + i) * ow + j] = best;
                    at[(p * oh + i) * ow + j] = arg;
                }
            }
        }
        return (y, at);
    }

    // PyTorch: the divisor is the window clipped to the padded image (always KH*KW without ceil_mode) with
    // count_include_pad, else the number of real elements it covers.
    private static double[] AvgReference(in Pool2dGeometry g, double[] x, bool includePad)
    {
        int planes = g.Batch * g.Channels, oh = g.OutHeight, ow = g.OutWidth;
        var y = new double[planes * oh * ow];
        for (int p = 0; p < planes; p++)
        {
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    double s = 0;
                    int real = 0;
                    for (int u = 0; u < g.KernelH; u++)
                    {
                        for (int v = 0; v < g.KernelW; v++)
                        {
                            int r = i * g.StrideH - g.PadH + u, c = j * g.StrideW - g.PadW + v;
                            if (r >= 0 && r < g.Height && c >= 0 && c < g.Width)
                            {
                                s += x[(p * g.Height + r) * g.Width + c];
                                real++;
                            }
                        }
                    }
                    // The padded image ends PadH/PadW past the input: a ceil_mode window reaching beyond that counts less.
                    int rows = Math.Min(i * g.StrideH - g.PadH + g.KernelH, g.Height + g.PadH) - (i * g.StrideH - g.PadH);
                    int cols = Math.Min(j * g.StrideW - g.PadW + g.KernelW, g.Width + g.PadW) - (j * g.StrideW - g.PadW);
                    y[(p * oh + i) * ow + j] = s / (includePad ? rows * cols : real);
                }
            }
        }
        return y;
    }

    private static double[] AdaptiveReference(double[] x, int planes, int h, int w, int oh, int ow)
    {
        var y = new double[planes * oh * ow];
        for (int p = 0; p < planes; p++)
        {
            for (int i = 0; i < oh; i++)
            {
                int r0 = (int)Math.Floor((double)i * h / oh), r1 = (int)Math.Ceiling((double)(i + 1) * h / oh);
                for (int j = 0; j < ow; j++)
                {
                    int c0 = (int)Math.Floor((double)j * w / ow), c1 = (int)Math.Ceiling((double)(j + 1) * w / ow);
                    double s = 0;
                    for (int r = r0; r < r1; r++)
                    {
                        for (int c = c0; c < c1; c++)
                        {
                            s += x[(p * h + r) * w + c];
                        }
                    }
                    y[(p * oh + i) * ow + j] = s / ((r1 - r0) * (c1 - c0));
                }
            }
        }
        return y;
    }
}
