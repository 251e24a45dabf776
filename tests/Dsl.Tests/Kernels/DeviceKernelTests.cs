using Xunit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// Every <see cref="Device"/> kernel on the device under test against a reference: the CPU device for the
/// elementwise, GEMM, softmax, loss and optimiser kernels, and direct double-precision loops
/// (<see cref="NaiveReference"/>) or central finite differences for convolution, pooling and batch norm, and the
/// CPU device as well (a kernel missing on either side fails the test). Inputs are random and never zero; shapes are
/// tiny and deliberately not multiples of the GEMM tile. One subclass per device.
/// </summary>
public abstract class DeviceKernelTests
{
    /// <summary>Float kernels against float kernels in another order: relative-plus-absolute tolerance.</summary>
    private const double FloatTolerance = 1e-5;

    /// <summary>Float kernels against double references with sums of up to ~100 terms.</summary>
    private const double ReferenceTolerance = 1e-4;

    private readonly Random _rng = new(20240531);

    protected DeviceKernelTests(Device device) => Device = device;

    /// <summary>The device under test.</summary>
    protected Device Device { get; }

    private static Device Cpu => Dsl.Device.Cpu;

    // ------------------------------------------------------------------ elementwise

    [Fact]
    public void Fill_writes_the_value_only_inside_the_view()
    {
        var xs = Rand(12);
        MatchesCpu(d =>
        {
            var x = T(d, xs, 3, 4);
            d.Fill(x.Narrow(1, 1), 2.5f);
            return x.ToArray();
        });
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Int64)]
    [InlineData(DType.Int32)]
    public void Copy_moves_every_element_of_each_dtype_between_views(DType dtype)
    {
        var values = Enumerable.Range(0, 12).Select(_ => _rng.Next(-1000, 1000)).ToArray();
        var x = Device.Allocate(dtype, 3, 4);
        var y = Device.Allocate(dtype, 3, 4);
        switch (dtype)
        {
            case DType.Float32:
                Device.Upload(values.Select(v => v * 0.5f).ToArray(), x);
                Device.Fill(y, -1f);
                Device.Copy(x.Narrow(1, 2), y.Narrow(0, 2));
                Assert.Equal(values.Skip(4).Select(v => v * 0.5f).Concat(new[] { -1f, -1, -1, -1 }), y.ToArray());
                break;
            case DType.Int64:
                Device.Upload(values.Select(v => (long)v << 33).ToArray(), x);
                Device.Copy(x, y);
                Assert.Equal(values.Select(v => (long)v << 33), y.ToInt64Array());
                break;
            default:
                Device.Upload(values, x);
                Device.Copy(x, y);
                var back = new int[12];
                Device.Download(y, back);
                Assert.Equal(values, back);
                break;
        }
    }

    [Fact]
    public void Add_on_batch_slices_reads_and_writes_at_the_view_offsets()
    {
        var (a, b, y0) = (Rand(20), Rand(20), Rand(20));
        MatchesCpu(d =>
        {
            var y = T(d, y0, 4, 5);
            d.Add(T(d, a, 4, 5).Narrow(1, 2), T(d, b, 4, 5).Narrow(2, 2), y.Narrow(1, 2));
            return y.ToArray();
        });
    }

    [Fact]
    public void Axpy_accumulates_a_scaled_copy()
    {
        var (x, y0) = (Rand(37), Rand(37));
        MatchesCpu(d =>
        {
            var y = T(d, y0, 37);
            d.Axpy(-0.75f, T(d, x, 37), y);
            d.Axpy(1f, T(d, x, 37), y);
            return y.ToArray();
        });
    }

    [Fact]
    public void Mul_multiplies_elementwise()
    {
        var (a, b) = (Rand(29), Rand(29));
        MatchesCpu(d =>
        {
            var y = d.Allocate(DType.Float32, 29);
            d.Mul(T(d, a, 29), T(d, b, 29), y);
            return y.ToArray();
        });
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    public void AddBias_and_BiasGrad_match_the_cpu(int inner)
    {
        int outer = 3, channels = 4;
        var (y0, bias, dy, db0) = (Rand(outer * channels * inner), Rand(channels), Rand(outer * channels * inner), Rand(channels));
        MatchesCpu(d =>
        {
            var y = T(d, y0, outer, channels, inner);
            d.AddBias(y, T(d, bias, channels), inner);
            var db = T(d, db0, channels);
            d.BiasGrad(T(d, dy, outer, channels, inner), db, inner, accumulate: true);
            var fresh = d.Allocate(DType.Float32, channels);
            d.BiasGrad(T(d, dy, outer, channels, inner), fresh, inner, accumulate: false);
            return [.. y.ToArray(), .. db.ToArray(), .. fresh.ToArray()];
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CopyChannels_copies_or_adds_a_channel_slice_per_sample(bool accumulate)
    {
        int batch = 2, spatial = 3;
        var (src, dst0) = (Rand(batch * 3 * spatial), Rand(batch * 5 * spatial));
        MatchesCpu(d =>
        {
            var dst = T(d, dst0, batch, 5, spatial);
            d.CopyChannels(T(d, src, batch, 3, spatial), 3, 1, dst, 5, 2, 2, batch, spatial, accumulate);
            return dst.ToArray();
        });
    }

    // ------------------------------------------------------------------ activations and dropout

    [Theory]
    [InlineData(ActivationKind.Relu, false)]
    [InlineData(ActivationKind.Tanh, false)]
    [InlineData(ActivationKind.Sigmoid, true)]
    [InlineData(ActivationKind.LeakyRelu, false)]
    [InlineData(ActivationKind.Elu, true)]
    [InlineData(ActivationKind.Gelu, false)]
    [InlineData(ActivationKind.Gelu, true)]
    public void Activation_forward_and_backward_match_the_cpu(ActivationKind kind, bool accumulate)
    {
        float alpha = kind == ActivationKind.LeakyRelu ? 0.1f : 1.3f;
        var (x, dy, dx0) = (Rand(33, 3f), Rand(33), Rand(33));
        MatchesCpu(d =>
        {
            var xt = T(d, x, 3, 11);
            var y = d.Allocate(DType.Float32, 3, 11);
            d.Activation(kind, alpha, xt, y);
            var dx = T(d, dx0, 3, 11);
            d.ActivationBackward(kind, alpha, xt, y, T(d, dy, 3, 11), dx, accumulate);
            return [.. y.ToArray(), .. dx.ToArray()];
        });
    }

    [Theory]
    [InlineData(0.3f, 1)]
    [InlineData(0.5f, 4)]
    public void Dropout_draws_the_same_mask_as_the_cpu_bit_for_bit(float p, int group)
    {
        var x = Rand(96);
        var cpu = RunDropout(Cpu, x, p, group);
        var device = RunDropout(Device, x, p, group);
        Assert.Equal(cpu.Mask, device.Mask);
        Assert.Equal(cpu.Y, device.Y);
        Assert.Contains(0f, device.Mask);
        Assert.Contains(1f / (1f - p), device.Mask);
        for (int i = 0; i < 96; i++)
        {
            Assert.Equal(device.Mask[i / group * group], device.Mask[i]);
        }
    }

    private static (float[] Mask, float[] Y) RunDropout(Device d, float[] x, float p, int group)
    {
        var mask = d.Allocate(DType.Float32, 96);
        var y = d.Allocate(DType.Float32, 96);
        d.Dropout(T(d, x, 96), mask, y, p, 0x5EEDUL, group);
        return (mask.ToArray(), y.ToArray());
    }

    // ------------------------------------------------------------------ GEMM

    [Theory]
    [InlineData(false, false, 0f)]
    [InlineData(false, true, 0f)]
    [InlineData(true, false, 0f)]
    [InlineData(true, true, 0f)]
    [InlineData(false, false, 0.5f)]
    [InlineData(false, true, -1f)]
    [InlineData(true, false, 0.5f)]
    [InlineData(true, true, 2f)]
    public void Gemm_matches_a_double_reference_for_every_transpose_and_beta(bool transA, bool transB, float beta)
    {
        const int m = 19, n = 21, k = 35;
        const float alpha = 0.7f;
        var (a, b) = (Rand(m * k), Rand(k * n));
        // With beta == 0 the old C must be ignored, NaNs included (BLAS semantics).
        var c0 = beta == 0f ? Enumerable.Repeat(float.NaN, m * n).ToArray() : Rand(m * n);
        var expected = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    s += (double)(transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                }
                expected[i * n + j] = alpha * s + (beta == 0f ? 0 : beta * (double)c0[i * n + j]);
            }
        }
        var c = T(Device, c0, m, n);
        Device.Gemm(transA, transB, m, n, k, alpha, T(Device, a, transA ? k : m, transA ? m : k), T(Device, b, transB ? n : k, transB ? k : n), beta, c);
        AssertClose(expected, c.ToArray(), ReferenceTolerance, "C");
    }

    [Fact]
    public void Gemm_rejects_a_too_short_output_before_launching()
    {
        var a = T(Device, Rand(6), 2, 3);
        var b = T(Device, Rand(12), 3, 4);
        var c = Device.Allocate(DType.Float32, 7);
        var e = Assert.Throws<ArgumentException>(() => Device.Gemm(false, false, 2, 4, 3, 1f, a, b, 0f, c));
        Assert.Contains("C needs 8 elements", e.Message);
    }

    // ------------------------------------------------------------------ softmax and losses

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Softmax_and_its_backward_match_the_cpu(bool log, bool accumulate)
    {
        var (x, dy, dx0) = (Rand(36, 4f), Rand(36), Rand(36));
        MatchesCpu(d =>
        {
            var y = d.Allocate(DType.Float32, 4, 9);
            d.Softmax(T(d, x, 4, 9), y, log);
            var dx = T(d, dx0, 4, 9);
            d.SoftmaxBackward(y, T(d, dy, 4, 9), dx, log, accumulate);
            return [.. y.ToArray(), .. dx.ToArray()];
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Label_losses_and_gradients_match_the_cpu(bool fromLogits)
    {
        var scores = Rand(5 * 7, 3f);
        var labels = new long[] { 3, 0, 6, 2, 6 };
        MatchesCpu(d =>
        {
            var loss = T(d, [9f, 9f], 2);
            var grad = d.Allocate(DType.Float32, 5, 7);
            var s = T(d, scores, 5, 7);
            var y = Tensor.From(labels, d, 5);
            if (fromLogits)
            {
                d.CrossEntropyLoss(s, y, loss, grad);
            }
            else
            {
                d.NllLoss(s, y, loss, grad);
            }
            return [.. loss.ToArray(), .. grad.ToArray()];
        });
    }

    [Fact]
    public void Label_loss_reports_the_first_bad_row_instead_of_throwing()
    {
        if (Device is Devices.Cpu.CpuDevice)
        {
            return;
        }
        var loss = Device.Allocate(DType.Float32, 2);
        var grad = Device.Allocate(DType.Float32, 5, 4);
        Device.CrossEntropyLoss(T(Device, Rand(20), 5, 4), Tensor.From(new long[] { 1, 2, 4, 0, -1 }, Device, 5), loss, grad);
        Assert.Equal(3f, loss.ToArray()[1]);
        Device.NllLoss(T(Device, Rand(20), 5, 4), Tensor.From(new long[] { 1, 2, 3, 0, 1 }, Device, 5), loss, grad);
        Assert.Equal(0f, loss.ToArray()[1]);
    }

    [Fact]
    public void MseLoss_matches_the_cpu_across_reduction_chunks()
    {
        var (x, t) = (Rand(300), Rand(300));
        MatchesCpu(d =>
        {
            var loss = d.Allocate(DType.Float32, 2);
            var grad = d.Allocate(DType.Float32, 300);
            d.MseLoss(T(d, x, 300), T(d, t, 300), loss, grad);
            return [.. loss.ToArray(), .. grad.ToArray()];
        });
    }

    [Fact]
    public void CountCorrect_takes_the_first_maximum_as_the_cpu_does()
    {
        var scores = Rand(6 * 4);
        scores[1 * 4 + 1] = scores[1 * 4 + 3] = 5f; // a tie: index 1 wins
        scores[2 * 4 + 0] = scores[2 * 4 + 2] = 5f; // a tie: index 0 wins, label 2 misses
        var labels = new long[] { 0, 1, 2, 3, 1, 2 };
        long cpu = Cpu.CountCorrect(T(Cpu, scores, 6, 4), Tensor.From(labels, Cpu, 6));
        long device = Device.CountCorrect(T(Device, scores, 6, 4), Tensor.From(labels, Device, 6));
        Assert.Equal(cpu, device);
        Assert.InRange(device, 1, 5);
    }

    [Fact]
    public void AccumulateCorrect_adds_each_batch_to_a_device_counter_read_once()
    {
        var counter = Tensor.From(new long[] { 7 }, Device, 1);
        long expected = 7;
        for (int batch = 0; batch < 3; batch++)
        {
            var scores = Rand(5 * 3);
            var labels = new long[] { 0, 1, 2, 1, 0 };
            expected += Cpu.CountCorrect(T(Cpu, scores, 5, 3), Tensor.From(labels, Cpu, 5));
            Device.AccumulateCorrect(T(Device, scores, 5, 3), Tensor.From(labels, Device, 5), counter);
        }
        Assert.Equal(expected, counter.ToInt64Array()[0]);
    }

    [Fact]
    public void AccumulateCorrect_leaves_labels_equal_to_the_ignore_index_out_of_both_counts()
    {
        // Rows' arg-maxes: 0, 2, 0, 1. With 0 ignored (a padding id that is also a class) only rows 1 and 2 count: row 1
        // is right, row 2 wrong, though rows 0 and 3 would have counted as right and wrong.
        float[] scores = [5, 1, 1, 1, 1, 5, 5, 1, 1, 1, 5, 1];
        long[] labels = [0, 2, 1, 0];
        var counter = Tensor.From(new long[] { 3, 10 }, Device, 2);
        Device.AccumulateCorrect(T(Device, scores, 4, 3), Tensor.From(labels, Device, 4), counter, ignoreIndex: 0);
        Assert.Equal(new long[] { 3 + 1, 10 + 2 }, counter.ToInt64Array());
        // The default ignore index (-100) leaves every row in; a counter of one element gets only the correct rows.
        var single = Tensor.From(new long[1], Device, 1);
        Device.AccumulateCorrect(T(Device, scores, 4, 3), Tensor.From(labels, Device, 4), single);
        Assert.Equal(2, single.ToInt64Array()[0]);
        var wrong = Tensor.From(new long[3], Device, 3);
        Assert.Contains("counter", Assert.Throws<ArgumentException>(() => Device.AccumulateCorrect(T(Device, scores, 4, 3), Tensor.From(labels, Device, 4), wrong)).Message);
    }

    // ------------------------------------------------------------------ optimisers

    [Theory]
    [InlineData(0f, 0f, 0f, false)]
    [InlineData(0.9f, 0f, 0.01f, false)]
    [InlineData(0.9f, 0.1f, 0.01f, false)]
    [InlineData(0.8f, 0f, 0f, true)]
    public void SgdStep_matches_the_cpu_over_three_steps(float momentum, float dampening, float weightDecay, bool nesterov)
    {
        var (p0, buf0) = (Rand(23), Rand(23));
        var grads = new[] { Rand(23), Rand(23), Rand(23) };
        MatchesCpu(d =>
        {
            var p = T(d, p0, 23);
            var buf = T(d, buf0, 23);
            for (int s = 0; s < 3; s++)
            {
                d.SgdStep(p, T(d, grads[s], 23), momentum == 0f ? null : buf, 0.05f, momentum, dampening, weightDecay, nesterov, firstStep: s == 0);
            }
            return [.. p.ToArray(), .. buf.ToArray()];
        }, 1e-6);
    }

    [Theory]
    [InlineData(0f, false)]
    [InlineData(0.01f, false)]
    [InlineData(0.01f, true)]
    public void AdamStep_matches_the_cpu_over_three_steps(float weightDecay, bool decoupled)
    {
        var p0 = Rand(23);
        var grads = new[] { Rand(23), Rand(23), Rand(23) };
        MatchesCpu(d =>
        {
            var p = T(d, p0, 23);
            var m = Tensor.Zeros(d, 23);
            var v = Tensor.Zeros(d, 23);
            for (int s = 0; s < 3; s++)
            {
                d.AdamStep(p, T(d, grads[s], 23), m, v, 1e-2f, 0.9f, 0.999f, 1e-8f, weightDecay, decoupled, s + 1);
            }
            return [.. p.ToArray(), .. m.ToArray(), .. v.ToArray()];
        }, 1e-6);
    }

    // ------------------------------------------------------------------ convolution

    public static TheoryData<Conv2dGeometry, bool> ConvCases() => new()
    {
        { new Conv2dGeometry(2, 3, 6, 5, 4, 3, 3), true },
        { new Conv2dGeometry(2, 2, 7, 6, 3, 3, 2, StrideH: 2, StrideW: 1, PadTop: 1, PadLeft: 0, PadBottom: 2, PadRight: 1, DilationH: 2, DilationW: 2), true },
        { new Conv2dGeometry(2, 4, 5, 5, 6, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, Groups: 2), true },
        { new Conv2dGeometry(3, 2, 5, 4, 2, 1, 1, StrideH: 2, StrideW: 2), false },
        // Where the CPU plan takes its blocked-layout kernel (with AVX-512): a 5x5 "same" layer (forward and input
        // gradient), a stride-2 3x3 layer (forward) and a 1x1 layer (input gradient), 16 channels and more, batch 4.
        { new Conv2dGeometry(4, 16, 5, 6, 17, 5, 5, PadTop: 2, PadLeft: 2, PadBottom: 2, PadRight: 2), true },
        { new Conv2dGeometry(4, 16, 7, 6, 32, 3, 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), false },
        { new Conv2dGeometry(4, 18, 4, 5, 16, 1, 1), true },
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2d_forward_matches_the_direct_double_loop(Conv2dGeometry g, bool bias)
    {
        var (x, w) = (Rand((int)g.InputLength), Rand((int)g.WeightLength));
        var b = bias ? Rand(g.OutChannels) : null;
        var expected = NaiveReference.Conv2d(x, w, b, g);
        float[] Run(Device d)
        {
            var y = d.Allocate(DType.Float32, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
            d.Conv2d(T(d, x, Shape(g)), T(d, w, g.OutChannels, g.InChannels / g.Groups, g.KernelH, g.KernelW), b is null ? null : T(d, b, g.OutChannels), y, g);
            return y.ToArray();
        }
        AssertClose(expected, Run(Device), ReferenceTolerance, "y");
        MatchesCpu(Run, ReferenceTolerance);
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2d_backward_matches_the_direct_double_loop_and_accumulates_parameter_gradients(Conv2dGeometry g, bool accumulateDx)
    {
        var (x, w, dy) = (Rand((int)g.InputLength), Rand((int)g.WeightLength), Rand((int)g.OutputLength));
        var (dx0, dw0, db0) = (Rand((int)g.InputLength), Rand((int)g.WeightLength), Rand(g.OutChannels));
        var (dxRef, dwRef, dbRef) = NaiveReference.Conv2dBackward(x, w, dy, g);
        float[] Run(Device d)
        {
            var dx = T(d, dx0, Shape(g));
            var dw = T(d, dw0, (int)g.WeightLength);
            var db = T(d, db0, g.OutChannels);
            d.Conv2dBackward(T(d, x, Shape(g)), T(d, w, (int)g.WeightLength), T(d, dy, (int)g.OutputLength), dx, dw, db, g, accumulateDx);
            return [.. dx.ToArray(), .. dw.ToArray(), .. db.ToArray()];
        }
        var actual = Run(Device);
        AssertClose(dxRef.Select((v, i) => v + (accumulateDx ? dx0[i] : 0)).ToArray(), actual[..dx0.Length], ReferenceTolerance, "dx");
        AssertClose(dwRef.Select((v, i) => v + dw0[i]).ToArray(), actual[dx0.Length..(dx0.Length + dw0.Length)], ReferenceTolerance, "dw");
        AssertClose(dbRef.Select((v, i) => v + db0[i]).ToArray(), actual[(dx0.Length + dw0.Length)..], ReferenceTolerance, "db");
        MatchesCpu(Run, ReferenceTolerance);
    }

    [Fact]
    public void Conv2d_backward_without_dx_still_writes_the_parameter_gradients()
    {
        var g = new Conv2dGeometry(2, 2, 4, 4, 3, 2, 2);
        var (x, w, dy) = (Rand((int)g.InputLength), Rand((int)g.WeightLength), Rand((int)g.OutputLength));
        var (_, dwRef, _) = NaiveReference.Conv2dBackward(x, w, dy, g);
        var dw = Tensor.Zeros(Device, (int)g.WeightLength);
        Device.Conv2dBackward(T(Device, x, Shape(g)), T(Device, w, (int)g.WeightLength), T(Device, dy, (int)g.OutputLength), null, dw, null, g, false);
        AssertClose(dwRef, dw.ToArray(), ReferenceTolerance, "dw");
    }

    // ------------------------------------------------------------------ pooling

    private static readonly Pool2dGeometry[] PoolGeometries =
    [
        new Pool2dGeometry(2, 3, 5, 6, 3, 3, 2, 2, 1, 1),
        new Pool2dGeometry(1, 2, 4, 4, 2, 2, 2, 2),
        new Pool2dGeometry(2, 1, 6, 5, 3, 2, 1, 2, 1, 0),
    ];

    public static TheoryData<Pool2dGeometry> PoolCases() => new(PoolGeometries);

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void MaxPool2d_records_global_argmax_and_routes_gradients_to_it(Pool2dGeometry g)
    {
        var (x, dy, dx0) = (Rand((int)g.InputLength), Rand((int)g.OutputLength), Rand((int)g.InputLength));
        var (yRef, argRef) = NaiveReference.MaxPool2d(x, g);
        var y = Device.Allocate(DType.Float32, (int)g.OutputLength);
        var arg = Device.Allocate(DType.Int32, (int)g.OutputLength);
        Device.MaxPool2d(T(Device, x, PoolShape(g)), y, arg, g);
        var args = new int[g.OutputLength];
        Device.Download(arg, args);
        Assert.Equal(argRef, args);
        AssertClose(yRef, y.ToArray(), 0, "y");

        var dx = T(Device, dx0, PoolShape(g));
        Device.MaxPool2dBackward(T(Device, dy, (int)g.OutputLength), arg, dx, g, accumulate: true);
        var expected = dx0.Select(v => (double)v).ToArray();
        for (int o = 0; o < argRef.Length; o++)
        {
            expected[argRef[o]] += dy[o];
        }
        AssertClose(expected, dx.ToArray(), FloatTolerance, "dx");
        MatchesCpu(d =>
        {
            var yd = d.Allocate(DType.Float32, (int)g.OutputLength);
            var ad = d.Allocate(DType.Int32, (int)g.OutputLength);
            d.MaxPool2d(T(d, x, PoolShape(g)), yd, ad, g);
            var dxd = d.Allocate(DType.Float32, PoolShape(g));
            d.MaxPool2dBackward(T(d, dy, (int)g.OutputLength), ad, dxd, g, accumulate: false);
            var ai = new int[g.OutputLength];
            d.Download(ad, ai);
            return [.. yd.ToArray(), .. dxd.ToArray(), .. ai.Select(v => (float)v)];
        }, FloatTolerance);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void AvgPool2d_forward_and_backward_match_the_direct_double_loop(bool countIncludePad, bool accumulate)
    {
        foreach (var g in PoolGeometries)
        {
            var (x, dy, dx0) = (Rand((int)g.InputLength), Rand((int)g.OutputLength), Rand((int)g.InputLength));
            float[] Run(Device d)
            {
                var y = d.Allocate(DType.Float32, (int)g.OutputLength);
                d.AvgPool2d(T(d, x, PoolShape(g)), y, g, countIncludePad);
                var dx = T(d, dx0, PoolShape(g));
                d.AvgPool2dBackward(T(d, dy, (int)g.OutputLength), dx, g, countIncludePad, accumulate);
                return [.. y.ToArray(), .. dx.ToArray()];
            }
            var actual = Run(Device);
            AssertClose(NaiveReference.AvgPool2d(x, g, countIncludePad), actual[..(int)g.OutputLength], ReferenceTolerance, "y");
            var dxRef = NaiveReference.AvgPool2dBackward(dy, g, countIncludePad).Select((v, i) => v + (accumulate ? dx0[i] : 0)).ToArray();
            AssertClose(dxRef, actual[(int)g.OutputLength..], ReferenceTolerance, "dx");
            MatchesCpu(Run, FloatTolerance);
        }
    }

    [Theory]
    [InlineData(7, 5, 3, 2, false)]
    [InlineData(4, 6, 1, 1, true)]
    [InlineData(5, 5, 5, 5, false)]
    public void AdaptiveAvgPool2d_forward_and_backward_match_the_direct_double_loop(int h, int w, int oh, int ow, bool accumulate)
    {
        int n = 2, c = 2;
        var (x, dy, dx0) = (Rand(n * c * h * w), Rand(n * c * oh * ow), Rand(n * c * h * w));
        float[] Run(Device d)
        {
            var y = d.Allocate(DType.Float32, n, c, oh, ow);
            d.AdaptiveAvgPool2d(T(d, x, n, c, h, w), y, n, c, h, w, oh, ow);
            var dx = T(d, dx0, n, c, h, w);
            d.AdaptiveAvgPool2dBackward(T(d, dy, n, c, oh, ow), dx, n, c, h, w, oh, ow, accumulate);
            return [.. y.ToArray(), .. dx.ToArray()];
        }
        var actual = Run(Device);
        AssertClose(NaiveReference.AdaptiveAvgPool2d(x, n * c, h, w, oh, ow), actual[..(n * c * oh * ow)], ReferenceTolerance, "y");
        var dxRef = NaiveReference.AdaptiveAvgPool2dBackward(dy, n * c, h, w, oh, ow).Select((v, i) => v + (accumulate ? dx0[i] : 0)).ToArray();
        AssertClose(dxRef, actual[(n * c * oh * ow)..], ReferenceTolerance, "dx");
        MatchesCpu(Run, FloatTolerance);
    }

    // ------------------------------------------------------------------ batch norm

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void BatchNorm_with_a_residual_adds_it_before_the_relu_as_the_cpu_does(bool training, bool relu)
    {
        // The generator's fusion of the batch norm closing a residual block with the sum and its ReLU: this device's call
        // (the unfused fallback on a GPU) against the CPU's one-pass kernel, statistics included; the shortcut holds a
        // negative zero and a NaN. CpuBatchNormWidthTests holds the CPU's kernel to batch norm then AddRelu bit for bit.
        const int n = 3, c = 2, s = 21;
        var x = Rand(n * c * s, 2f);
        var r = Rand(n * c * s);
        r[1] = -0f;
        r[5] = float.NaN;
        var (gamma, beta, rm0) = (Rand(c), Rand(c), Rand(c));
        var rv0 = Rand(c).Select(v => 0.5f + Math.Abs(v)).ToArray();
        MatchesCpu(d =>
        {
            var (rm, rv) = (T(d, rm0, c), T(d, rv0, c));
            var (sm, si) = (d.Allocate(DType.Float32, c), d.Allocate(DType.Float32, c));
            var y = d.Allocate(DType.Float32, n, c, s);
            d.BatchNorm(T(d, x, n, c, s), T(d, gamma, c), T(d, beta, c), rm, rv, sm, si, y, n, c, s, training, 0.1f, 1e-5f, relu, residual: T(d, r, n, c, s));
            return [.. y.ToArray(), .. rm.ToArray(), .. rv.ToArray(), .. sm.ToArray(), .. si.ToArray()];
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BatchNorm_training_normalises_with_batch_statistics_and_updates_running_ones(bool accumulateDx)
    {
        const int n = 3, c = 2, s = 5;
        const float momentum = 0.1f, eps = 1e-5f;
        var x = Rand(n * c * s, 2f).Select((v, i) => v + (i / s % c == 0 ? 1.5f : -0.5f)).ToArray();
        var (gamma, beta, dy, dx0) = (Rand(c), Rand(c), Rand(n * c * s), Rand(n * c * s));
        var (rm0, rv0) = (Rand(c), Rand(c).Select(v => 0.5f + Math.Abs(v)).ToArray());
        var (dg0, db0) = (Rand(c), Rand(c));
        float[] Run(Device d)
        {
            var (rm, rv) = (T(d, rm0, c), T(d, rv0, c));
            var (sm, si) = (d.Allocate(DType.Float32, c), d.Allocate(DType.Float32, c));
            var y = d.Allocate(DType.Float32, n, c, s);
            var xt = T(d, x, n, c, s);
            var gt = T(d, gamma, c);
            d.BatchNorm(xt, gt, T(d, beta, c), rm, rv, sm, si, y, n, c, s, training: true, momentum, eps);
            var (dx, dg, db) = (T(d, dx0, n, c, s), T(d, dg0, c), T(d, db0, c));
            d.BatchNormBackward(xt, gt, sm, si, T(d, dy, n, c, s), dx, dg, db, n, c, s, training: true, accumulateDx);
            return [.. y.ToArray(), .. rm.ToArray(), .. rv.ToArray(), .. sm.ToArray(), .. si.ToArray(), .. dx.ToArray(), .. dg.ToArray(), .. db.ToArray()];
        }
        var actual = new Slicer(Run(Device));

        var xd = x.Select(v => (double)v).ToArray();
        var (yRef, mean, variance) = NaiveReference.BatchNormTraining(xd, gamma, beta, n, c, s, eps);
        int count = n * s;
        AssertClose(yRef, actual.Take(n * c * s), ReferenceTolerance, "y");
        AssertClose(mean.Select((m, i) => (1 - momentum) * rm0[i] + momentum * m).ToArray(), actual.Take(c), ReferenceTolerance, "running mean");
        AssertClose(variance.Select((v, i) => (1 - momentum) * rv0[i] + momentum * v * count / (count - 1)).ToArray(), actual.Take(c), ReferenceTolerance, "running var (unbiased)");
        AssertClose(mean, actual.Take(c), ReferenceTolerance, "saved mean");
        AssertClose(variance.Select(v => 1 / Math.Sqrt(v + eps)).ToArray(), actual.Take(c), ReferenceTolerance, "saved 1/std");

        // Gradients of L = sum(dy * y) by central differences of the double forward pass.
        double Loss(double[] xs, float[] g, float[] b) => NaiveReference.BatchNormTraining(xs, g, b, n, c, s, eps).Y.Select((v, i) => v * dy[i]).Sum();
        var dxRef = FiniteDifferences(xd, v => Loss(v, gamma, beta)).Select((v, i) => v + (accumulateDx ? dx0[i] : 0)).ToArray();
        var dgRef = FiniteDifferences(gamma.Select(v => (double)v).ToArray(), g => Loss(xd, g.Select(v => (float)v).ToArray(), beta));
        var dbRef = FiniteDifferences(beta.Select(v => (double)v).ToArray(), b => Loss(xd, gamma, b.Select(v => (float)v).ToArray()));
        AssertClose(dxRef, actual.Take(n * c * s), 1e-3, "dx");
        AssertClose(dgRef.Select((v, i) => v + dg0[i]).ToArray(), actual.Take(c), 1e-3, "dgamma");
        AssertClose(dbRef.Select((v, i) => v + db0[i]).ToArray(), actual.Take(c), 1e-3, "dbeta");
        MatchesCpu(Run, ReferenceTolerance);
    }

    [Fact]
    public void BatchNorm_evaluation_uses_running_statistics_and_leaves_them_unchanged()
    {
        const int n = 2, c = 3, s = 4;
        const float eps = 1e-3f;
        var (x, gamma, beta, dy) = (Rand(n * c * s), Rand(c), Rand(c), Rand(n * c * s));
        var (rm0, rv0) = (Rand(c), Rand(c).Select(v => 0.5f + Math.Abs(v)).ToArray());
        float[] Run(Device d)
        {
            var (rm, rv) = (T(d, rm0, c), T(d, rv0, c));
            var (sm, si) = (d.Allocate(DType.Float32, c), d.Allocate(DType.Float32, c));
            var y = d.Allocate(DType.Float32, n, c, s);
            var xt = T(d, x, n, c, s);
            var gt = T(d, gamma, c);
            d.BatchNorm(xt, gt, T(d, beta, c), rm, rv, sm, si, y, n, c, s, training: false, 0.1f, eps);
            var (dx, dg, db) = (d.Allocate(DType.Float32, n, c, s), Tensor.Zeros(d, c), Tensor.Zeros(d, c));
            d.BatchNormBackward(xt, gt, sm, si, T(d, dy, n, c, s), dx, dg, db, n, c, s, training: false, accumulateDx: false);
            return [.. y.ToArray(), .. rm.ToArray(), .. rv.ToArray(), .. dx.ToArray()];
        }
        var actual = new Slicer(Run(Device));
        double InvStd(int i) => 1 / Math.Sqrt(rv0[i / s % c] + (double)eps);
        AssertClose(x.Select((v, i) => (v - rm0[i / s % c]) * InvStd(i) * gamma[i / s % c] + beta[i / s % c]).ToArray(), actual.Take(n * c * s), ReferenceTolerance, "y");
        Assert.Equal(rm0, actual.Take(c));
        Assert.Equal(rv0, actual.Take(c));
        AssertClose(dy.Select((v, i) => v * gamma[i / s % c] * InvStd(i)).ToArray(), actual.Take(n * c * s), ReferenceTolerance, "dx");
        MatchesCpu(Run, ReferenceTolerance);
    }

    // ------------------------------------------------------------------ helpers

    private float[] Rand(int n, float scale = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            // Uniform on ±[0.05, 1] * scale: random, never zero.
            float v = (float)(0.05 + 0.95 * _rng.NextDouble()) * scale;
            a[i] = _rng.Next(2) == 0 ? v : -v;
        }
        return a;
    }

    private static Tensor T(Device d, float[] data, params int[] shape) => Tensor.From(data, d, shape);

    private static int[] Shape(Conv2dGeometry g) => [g.Batch, g.InChannels, g.Height, g.Width];

    private static int[] PoolShape(Pool2dGeometry g) => [g.Batch, g.Channels, g.Height, g.Width];

    /// <summary>Runs the same computation on the CPU and on the device under test and compares every output.</summary>
    private void MatchesCpu(Func<Device, float[]> run, double tolerance = FloatTolerance)
    {
        var expected = run(Cpu);
        var actual = run(Device);
        AssertClose(expected.Select(v => (double)v).ToArray(), actual, tolerance, "output");
    }

    private static void AssertClose(IReadOnlyList<double> expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Count, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            double e = expected[i];
            bool ok = double.IsNaN(e) ? float.IsNaN(actual[i]) : Math.Abs(actual[i] - e) <= tolerance * (1 + Math.Abs(e));
            Assert.True(ok, $"{what}[{i}]: expected {e:R}, got {actual[i]:R} (tolerance {tolerance} relative plus absolute).");
        }
    }

    private static double[] FiniteDifferences(double[] at, Func<double[], double> f)
    {
        const double h = 1e-5;
        var grad = new double[at.Length];
        for (int i = 0; i < at.Length; i++)
        {
            var plus = (double[])at.Clone();
            var minus = (double[])at.Clone();
            plus[i] += h;
            minus[i] -= h;
            grad[i] = (f(plus) - f(minus)) / (2 * h);
        }
        return grad;
    }

    /// <summary>Reads consecutive sections of a concatenated output array.</summary>
    private sealed class Slicer(float[] all)
    {
        private int _at;

        public float[] Take(int count)
        {
            var part = all[_at..(_at + count)];
            _at += count;
            return part;
        }
    }
}
