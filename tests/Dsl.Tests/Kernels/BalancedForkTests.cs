using Dsl.Devices.Cpu;
using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;
using Xunit;

namespace Dsl.Tests.Kernels;

// Balanced forks: up to ForkJoin.BalancedPartsPerThread parts per thread, claimed as the threads come free, for work whose results do not depend on
// the split. Every index runs once however the parts are claimed, the part counts keep whole multiples of the threads,
// and the kernels that use them (element-wise ops, concatenation, the forward tile and sample jobs of the convolutions)
// give the one-thread result bit for bit on two threads, and the reference's values.
public class BalancedForkTests
{
    [Theory]
    [InlineData(1, 1, 2)]
    [InlineData(7, 1, 2)]
    [InlineData(9, 2, 2)]
    [InlineData(1000, 1, 2)]
    [InlineData(1000, 100, 2)]
    [InlineData(1000, 1, 1)]
    [InlineData(100003, 7, 16)]
    public void RunBalanced_processes_every_index_exactly_once(int count, int minItems, int threads)
    {
        for (int repeat = 0; repeat < 50; repeat++)
        {
            var job = new ForkJoinTests.CountJob { Hits = new int[count] };
            ForkJoin.RunBalanced(count, minItems, threads, ref job);
            Assert.All(job.Hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void Back_to_back_balanced_and_plain_forks_never_run_a_part_twice()
    {
        // A worker still claiming from one fork when the next starts must find that fork's parts handed out, and a part of
        // the next fork only through the next fork's ticket: any double run shows as a count above the repeats.
        var hits = new int[37];
        for (int repeat = 0; repeat < 20000; repeat++)
        {
            var job = new ForkJoinTests.CountJob { Hits = hits };
            if (repeat % 3 == 0)
            {
                ForkJoin.Run(hits.Length, 2, ref job);
            }
            else
            {
                ForkJoin.RunBalanced(hits.Length, 1 + repeat % 5, 2, ref job);
            }
        }
        Assert.All(hits, h => Assert.Equal(20000, h));
        for (int round = 0; round < 10; round++)
        {
            Thread.Sleep(1); // the worker is asleep: the caller takes the parts it has not started
            var job = new ForkJoinTests.CountJob { Hits = new int[64] };
            ForkJoin.RunBalanced(64, 1, 2, ref job);
            Assert.All(job.Hits, h => Assert.Equal(1, h));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(50)]
    [InlineData(99)]
    public void Exception_in_any_part_reaches_the_caller(int at)
    {
        var job = new ForkJoinTests.ThrowJob { ThrowAt = at };
        var e = Assert.Throws<InvalidOperationException>(() => ForkJoin.RunBalanced(100, 1, 2, ref job));
        Assert.Equal($"item {at}", e.Message);
        var count = new ForkJoinTests.CountJob { Hits = new int[100] };
        ForkJoin.RunBalanced(100, 1, 2, ref count);
        Assert.All(count.Hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void Nested_balanced_fork_runs_inline()
    {
        var job = new ForkJoinTests.NestedJob { Hits = new int[40], Balanced = true };
        ForkJoin.RunBalanced(40, 1, 2, ref job);
        int outerParts = ForkJoin.BalancedParts(40, 1, 2, out _);
        Assert.Equal(outerParts, job.Hits[0]);
        Assert.Equal(40, job.Hits.Sum());
    }

    [Theory]
    [InlineData(1000, 1, 1, 1, 1)]     // one thread: inline
    [InlineData(1, 1, 2, 1, 1)]        // one item
    [InlineData(3, 2, 2, 1, 1)]        // not two parts of 2 items
    [InlineData(4, 2, 2, 2, 2)]        // two parts, one per thread
    [InlineData(7, 2, 2, 2, 2)]        // 3 parts of 2 would leave one thread with twice the other's work: 2 parts
    [InlineData(8, 2, 2, 2, 2 * ForkJoin.BalancedPartsPerThread)]
    [InlineData(1000, 1, 2, 2, 2 * ForkJoin.BalancedPartsPerThread)] // capped at BalancedPartsPerThread per thread
    [InlineData(32, 10, 2, 2, 2)]      // ResNet-20's last stage in Winograd groups (32, chunks of 10): halves
    [InlineData(392, 10, 2, 2, 2 * ForkJoin.BalancedPartsPerThread)]     // its first stage (392 groups)
    public void Balanced_parts_are_a_multiple_of_the_threads_with_enough_items_each(int count, int minItems, int threads, int used, int parts)
    {
        if (ForkJoin.MaxParts < threads)
        {
            return; // a one-core machine never splits; the counts below assume two cores
        }
        Assert.Equal(parts, ForkJoin.BalancedParts(count, minItems, threads, out int u));
        Assert.Equal(used, u);
        Assert.Equal(0, parts % used);
        Assert.True(parts == 1 || count / parts >= minItems);
    }

    public static TheoryData<int> Lengths => new() { 5, 16_383, 100_003, 300_000 };

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Element_wise_ops_on_two_threads_equal_one_thread_and_the_reference(int n)
    {
        var rng = new Random(n);
        float[] a = Normal(rng, n), b = Normal(rng, n), y0 = Normal(rng, n);
        float[][] one = ElementwiseResults(new CpuDevice(1), a, b, y0), two = ElementwiseResults(new CpuDevice(2), a, b, y0);
        for (int i = 0; i < one.Length; i++)
        {
            Assert.Equal(one[i], two[i]);
        }
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(a[i] + b[i], one[0][i]);
            Assert.Equal(MathF.Max(a[i] + b[i], 0f), one[1][i]);
            Assert.Equal(a[i] * b[i], one[2][i]);
            Assert.Equal(a[i] + y0[i], one[3][i]);
            Assert.Equal(2.5 * a[i] + y0[i], one[4][i], 5e-6);
            Assert.Equal(a[i], one[5][i]);
            Assert.Equal(MathF.Max(a[i], 0f), one[6][i]);
            Assert.Equal(Math.Tanh(a[i]), one[7][i], 2e-6);
            Assert.Equal(1 / (1 + Math.Exp(-a[i])), one[8][i], 2e-6);
            Assert.Equal(a[i] > 0 ? a[i] : 0.1 * a[i], one[9][i], 1e-6);
            Assert.Equal(a[i] > 0 ? b[i] : 0f, one[10][i]);
            Assert.Equal(y0[i] + (a[i] > 0 ? b[i] : 0f), one[11][i]);
            Assert.Equal(y0[i] + b[i] * (a[i] > 0 ? 1 : 0.1), one[12][i], 1e-6);
        }
    }

    // Add, AddRelu, Mul, Axpy (1 and 2.5), Copy, ReLU, tanh, sigmoid, leaky ReLU, ReLU backward (set and accumulate),
    // leaky ReLU backward (accumulate): each result as floats.
    private static float[][] ElementwiseResults(Device d, float[] a, float[] b, float[] y0)
    {
        int n = a.Length;
        var ta = Tensor.From(a, d, n);
        var tb = Tensor.From(b, d, n);
        var results = new List<float[]>();
        float[] Run(Action<Tensor> op, bool fromY0 = false)
        {
            var y = fromY0 ? Tensor.From(y0, d, n) : Tensor.Full(d, float.NaN, n);
            op(y);
            return y.ToArray();
        }
        results.Add(Run(y => d.Add(ta, tb, y)));
        results.Add(Run(y => d.AddRelu(ta, tb, y)));
        results.Add(Run(y => d.Mul(ta, tb, y)));
        results.Add(Run(y => d.Axpy(1f, ta, y), fromY0: true));
        results.Add(Run(y => d.Axpy(2.5f, ta, y), fromY0: true));
        results.Add(Run(y => d.Copy(ta, y)));
        results.Add(Run(y => d.Activation(ActivationKind.Relu, 0f, ta, y)));
        results.Add(Run(y => d.Activation(ActivationKind.Tanh, 0f, ta, y)));
        results.Add(Run(y => d.Activation(ActivationKind.Sigmoid, 0f, ta, y)));
        results.Add(Run(y => d.Activation(ActivationKind.LeakyRelu, 0.1f, ta, y)));
        results.Add(Run(y => d.ReluBackward(ReluBackwardRule.Standard, ta, tb, y, accumulate: false)));
        results.Add(Run(y => d.ReluBackward(ReluBackwardRule.Standard, ta, tb, y, accumulate: true), fromY0: true));
        var leaky = Tensor.Full(d, 0f, n);
        d.Activation(ActivationKind.LeakyRelu, 0.1f, ta, leaky);
        results.Add(Run(y => d.ActivationBackward(ActivationKind.LeakyRelu, 0.1f, ta, leaky, tb, y, accumulate: true), fromY0: true));
        return results.ToArray();
    }

    [Theory]
    [InlineData(100_003)]
    [InlineData(5)]
    public void Optimizer_steps_on_two_threads_equal_one_thread_and_the_scalar_rule(int n)
    {
        var rng = new Random(n + 1);
        float[] p0 = Normal(rng, n), g = Normal(rng, n), b0 = Normal(rng, n), v0 = Normal(rng, n).Select(MathF.Abs).ToArray();
        float[][] Run(int threads)
        {
            var d = new CpuDevice(threads);
            var grad = Tensor.From(g, d, n);
            var results = new List<float[]>();
            foreach (bool plain in new[] { true, false })
            {
                // Momentum after the first step (the fused pass), and with weight decay and Nesterov (the scalar rule).
                var p = Tensor.From(p0, d, n);
                var b = Tensor.From(b0, d, n);
                d.SgdStep(p, grad, b, 0.1f, 0.9f, 0f, plain ? 0f : 0.01f, nesterov: !plain, firstStep: false, labelStatus: null);
                results.Add(p.ToArray());
                results.Add(b.ToArray());
            }
            var pa = Tensor.From(p0, d, n);
            var m = Tensor.From(b0, d, n);
            var v = Tensor.From(v0, d, n);
            d.AdamStep(pa, grad, m, v, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupledWeightDecay: true, step: 3, labelStatus: null);
            results.Add(pa.ToArray());
            results.Add(m.ToArray());
            results.Add(v.ToArray());
            return results.ToArray();
        }
        float[][] one = Run(1), two = Run(2);
        for (int i = 0; i < one.Length; i++)
        {
            Assert.Equal(one[i], two[i]);
        }
        var adam = AdamHyper.Create(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, true, 3);
        for (int i = 0; i < n; i++)
        {
            float p = p0[i], b = b0[i];
            OptimizerMath.Sgd(ref p, g[i], ref b, 0.1f, 0.9f, 0f, 0f, false, false);
            Assert.True(p == one[0][i], $"result 0 at {i}: {p} vs {one[0][i]}");
            Assert.True(b == one[1][i], $"result 1 at {i}: {b} vs {one[1][i]}");
            p = p0[i];
            b = b0[i];
            OptimizerMath.Sgd(ref p, g[i], ref b, 0.1f, 0.9f, 0f, 0.01f, true, false);
            Assert.True(p == one[2][i], $"result 2 at {i}: {p} vs {one[2][i]}");
            p = p0[i];
            float m = b0[i], v = v0[i];
            OptimizerMath.Adam(ref p, g[i], ref m, ref v, adam.Lr, adam.Beta1, adam.Beta2, adam.Eps, adam.WeightDecay, adam.Decoupled, adam.StepSize, adam.Bc2Sqrt);
            Assert.True(p == one[4][i], $"result 4 at {i}: {p} vs {one[4][i]}");
            Assert.True(m == one[5][i], $"result 5 at {i}: {m} vs {one[5][i]}");
            Assert.True(v == one[6][i], $"result 6 at {i}: {v} vs {one[6][i]}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Concatenated_channels_on_two_threads_equal_one_thread_and_the_reference(bool accumulate)
    {
        // DenseNet's shapes: a 12-channel branch into channel 40 of 64, 14x14, batch 33 (odd: uneven parts).
        const int batch = 33, srcC = 12, dstC = 64, offset = 40, spatial = 196;
        var rng = new Random(7);
        float[] src = Normal(rng, batch * srcC * spatial), dst0 = Normal(rng, batch * dstC * spatial);
        float[] Run(int threads)
        {
            var d = new CpuDevice(threads);
            var dst = Tensor.From(dst0, d, dst0.Length);
            d.CopyChannels(Tensor.From(src, d, src.Length), srcC, 0, dst, dstC, offset, srcC, batch, spatial, accumulate);
            return dst.ToArray();
        }
        float[] one = Run(1), two = Run(2);
        Assert.Equal(one, two);
        for (int n = 0; n < batch; n++)
        {
            for (int c = 0; c < dstC; c++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    int at = (n * dstC + c) * spatial + s;
                    float expected = c < offset || c >= offset + srcC
                        ? dst0[at]
                        : (accumulate ? dst0[at] + src[(n * srcC + c - offset) * spatial + s] : src[(n * srcC + c - offset) * spatial + s]);
                    Assert.Equal(expected, one[at]);
                }
            }
        }
    }

    public static TheoryData<ConvAlgorithm, string, string> ForwardCases()
    {
        var data = new TheoryData<ConvAlgorithm, string, string>();
        foreach (string kernel in new[] { nameof(GemmKernel.Vector512), nameof(GemmKernel.Vector256) })
        {
            foreach (var algorithm in new[] { ConvAlgorithm.Winograd, ConvAlgorithm.Direct3x3, ConvAlgorithm.DirectKxK, ConvAlgorithm.Im2ColGemm })
            {
                data.Add(algorithm, kernel, "3x3");
            }
            data.Add(ConvAlgorithm.DirectKxK, kernel, "3x3-stride2");
            data.Add(ConvAlgorithm.Im2ColGemm, kernel, "3x3-stride2");
            data.Add(ConvAlgorithm.Im2ColGemm, kernel, "1x1-stride2");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ForwardCases))]
    public void Convolution_forward_and_input_gradient_on_two_threads_equal_one_thread(ConvAlgorithm algorithm, string kernel, string shape)
    {
        // Batch 13 and 15x17 planes: tiles, samples and parts that do not divide evenly.
        var g = shape switch
        {
            "3x3" => new Conv2dGeometry(13, 8, 15, 17, 12, 3, 3, 1, 1, 1, 1, 1, 1),
            "3x3-stride2" => new Conv2dGeometry(13, 8, 15, 17, 12, 3, 3, 2, 2, 1, 1, 1, 1),
            "1x1-stride2" => new Conv2dGeometry(13, 8, 15, 17, 12, 1, 1, 2, 2),
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "unknown test shape"),
        };
        Assert.True(ConvPlan.Supports(algorithm, g));
        var rng = new Random(11);
        float[] x = Normal(rng, (int)g.InputLength), w = Normal(rng, (int)g.WeightLength), b = Normal(rng, g.OutChannels);
        float[] dy = Normal(rng, (int)g.OutputLength), dx0 = Normal(rng, (int)g.InputLength), dw0 = new float[g.WeightLength];
        float[] one = ConvDirectTests.Run(new CpuDevice(1), algorithm, kernel, g, x, w, b, relu: true);
        float[] two = ConvDirectTests.Run(new CpuDevice(2), algorithm, kernel, g, x, w, b, relu: true);
        Assert.Equal(one, two);
        float[] reference = ConvDirectTests.Run(new CpuDevice(1), ConvAlgorithm.Im2ColGemm, nameof(GemmKernel.Scalar), g, x, w, b, relu: true);
        for (int i = 0; i < one.Length; i++)
        {
            Assert.True(Math.Abs(one[i] - reference[i]) <= 1e-3f * (1 + Math.Abs(reference[i])), $"{i}: {one[i]} vs {reference[i]}");
        }
        var dxOne = ConvFamilyTestKit.CpuConvBackward(g, algorithm, kernel, 1, x, w, dy, dx0, dw0, accumulate: true).Dx;
        var dxTwo = ConvFamilyTestKit.CpuConvBackward(g, algorithm, kernel, 2, x, w, dy, dx0, dw0, accumulate: true).Dx;
        Assert.Equal(dxOne, dxTwo);
    }

    private static float[] Normal(Random rng, int n)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = (float)(rng.NextDouble() * 4 - 2);
        }
        return v;
    }
}
