using Dsl.Devices.Gpu;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// The kernels that became group reductions (tensor reductions along a dimension, pooling over time, mask lengths,
/// attention pooling, fused attention, sums to a broadcast shape) on ILGPU's CPU accelerator against the CPU backend,
/// on lengths chosen around the accelerator's reduction group G: 1, shorter than a group, exactly G, one more, and
/// several groups, plus fully masked rows. Every output is poisoned with NaN first, so an element no thread writes
/// shows up as a mismatch.
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class GpuGroupKernelTests
{
    private readonly GpuDevice _gpu;
    private readonly Random _rng = new(1234);

    public GpuGroupKernelTests(IlgpuCpuAcceleratorFixture fixture) => _gpu = (GpuDevice)fixture.Device;

    /// <summary>The row lengths every test walks: 1, short, one group, one past it, several groups.</summary>
    private int[] Lengths
    {
        get
        {
            int g = _gpu.ReduceGroup;
            return [1, Math.Max(2, g / 2 - 1), g, g + 1, 3 * g + 5];
        }
    }

    private float[] Rand(int n, float scale = 1f) =>
        Enumerable.Range(0, n).Select(_ => (float)(_rng.NextDouble() * 2 - 1) * scale).ToArray();

    private static Tensor Poisoned(Device d, params int[] dims) => Tensor.Full(d, float.NaN, dims);

    [Fact]
    public void The_reduction_group_is_a_power_of_two_above_one()
    {
        // The lengths below only straddle groups when a group has several threads.
        Assert.True(_gpu.ReduceGroup >= 2 && (_gpu.ReduceGroup & (_gpu.ReduceGroup - 1)) == 0, $"group {_gpu.ReduceGroup}");
    }

    [Theory]
    [InlineData(ReduceOp.Sum)]
    [InlineData(ReduceOp.Mean)]
    [InlineData(ReduceOp.Max)]
    public void Reductions_along_each_dimension_match_the_cpu(ReduceOp op)
    {
        foreach (int size in Lengths)
        {
            // [outer, size, inner] with each of the three as the reduced dimension.
            int[] dims = [3, size, 2];
            var x = Rand(dims[0] * dims[1] * dims[2], 4f);
            if (op == ReduceOp.Max && size > 2)
            {
                // A NaN wins the maximum, and ties keep the first position.
                x[5] = float.NaN;
                x[7] = x[9] = 10f;
            }
            for (int dim = 0; dim < 3; dim++)
            {
                var outDims = dims.Where((_, i) => i != dim).ToArray();
                (float[] Values, long[] Indices) Run(Device d)
                {
                    var values = Poisoned(d, outDims);
                    var indices = op == ReduceOp.Max ? Tensor.From(Enumerable.Repeat(-7L, outDims[0] * outDims[1]).ToArray(), d, outDims) : null;
                    d.Reduce(op, Tensor.From(x, d, dims), dim, values, indices);
                    return (values.ToArray(), indices?.ToInt64Array() ?? []);
                }
                var (cpu, gpu) = (Run(Device.Cpu), Run(_gpu));
                AssertClose(cpu.Values, gpu.Values, 1e-5, $"{op} dim {dim} of [{string.Join(",", dims)}]");
                Assert.Equal(cpu.Indices, gpu.Indices);
            }
        }
    }

    [Fact]
    public void Pooling_over_time_matches_the_cpu_with_empty_rows()
    {
        foreach (int time in Lengths)
        {
            const int batch = 4, channels = 3;
            var x = Rand(batch * channels * time, 3f);
            if (time > 2)
            {
                x[1] = float.NaN;
            }
            // Full, one step, empty (a fully masked row), and about half.
            var lengths = new long[] { time, 1, 0, (time + 1) / 2 };
            float[] Run(Device d)
            {
                var xt = Tensor.From(x, d, batch, channels, time);
                var lt = Tensor.From(lengths, d, batch);
                var (max, mean) = (Poisoned(d, batch, channels), Poisoned(d, batch, channels));
                var argmax = d.Allocate(DType.Int32, batch, channels);
                d.Upload(Enumerable.Repeat(-9, batch * channels).ToArray(), argmax);
                d.MaxOverTime(xt, lt, max, argmax, batch, channels, time);
                d.MeanOverTime(xt, lt, mean, batch, channels, time);
                var unmasked = Poisoned(d, batch, channels);
                d.MeanOverTime(xt, null, unmasked, batch, channels, time);
                var where = new int[batch * channels];
                d.Download(argmax, where);
                return [.. max.ToArray(), .. where.Select(i => (float)i), .. mean.ToArray(), .. unmasked.ToArray()];
            }
            AssertClose(Run(Device.Cpu), Run(_gpu), 1e-5, $"T = {time}");
        }
    }

    [Fact]
    public void Mask_lengths_match_the_cpu_and_the_first_bad_element_is_named()
    {
        foreach (int time in Lengths)
        {
            var lengths = new[] { time, 0, 1, time / 2 };
            var mask = new float[lengths.Length * time];
            for (int n = 0; n < lengths.Length; n++)
            {
                for (int t = 0; t < lengths[n]; t++)
                {
                    mask[n * time + t] = 1f;
                }
            }
            long[] Run(Device d, float[] m, int shift)
            {
                var l = Tensor.From(Enumerable.Repeat(-5L, lengths.Length).ToArray(), d, lengths.Length);
                d.MaskLengths(Tensor.From(m, d, lengths.Length, time), l, "net", shift);
                return l.ToInt64Array();
            }
            Assert.Equal(Run(Device.Cpu, mask, 0), Run(_gpu, mask, 0));
            Assert.Equal(Run(Device.Cpu, mask, -2), Run(_gpu, mask, -2));
            if (time > 2)
            {
                // A 1 after the zeros of row 3 and a 0.5 in the zeros of row 1: the earlier (row 1) is reported.
                var bad = (float[])mask.Clone();
                bad[3 * time + time - 1] = 1f;
                bad[1 * time + time - 2] = 0.5f;
                string Error(Device d) => Assert.Throws<ArgumentException>(() => Run(d, bad, 0)).Message;
                Assert.Equal(Error(Device.Cpu), Error(_gpu));
                Assert.Contains("row 1", Error(_gpu));
            }
        }
    }

    [Fact]
    public void Attention_pooling_matches_the_cpu_with_a_fully_padded_row()
    {
        const int dim = 5;
        foreach (int time in Lengths)
        {
            const int batch = 3;
            var (x, c, dy, dx0) = (Rand(batch * time * dim, 2f), Rand(dim), Rand(batch * dim), Rand(batch * time * dim));
            var dc0 = Rand(dim);
            var lengths = new long[] { time, 0, (time + 1) / 2 };
            float[] Run(Device d)
            {
                var xt = Tensor.From(x, d, batch, time, dim);
                var ct = Tensor.From(c, d, dim);
                var (weights, y) = (Poisoned(d, batch, time), Poisoned(d, batch, dim));
                d.AttentionPool(xt, ct, Tensor.From(lengths, d, batch), weights, y, batch, time, dim);
                var dx = Tensor.From(dx0, d, batch, time, dim);
                var dc = Tensor.From(dc0, d, dim);
                d.AttentionPoolBackward(xt, ct, weights, Tensor.From(dy, d, batch, dim), dx, dc, batch, time, dim, accumulateDx: true);
                var dxFresh = Poisoned(d, batch, time, dim);
                d.AttentionPoolBackward(xt, ct, weights, Tensor.From(dy, d, batch, dim), dxFresh, dc, batch, time, dim, accumulateDx: false);
                return [.. weights.ToArray(), .. y.ToArray(), .. dx.ToArray(), .. dc.ToArray(), .. dxFresh.ToArray()];
            }
            AssertClose(Run(Device.Cpu), Run(_gpu), 2e-5, $"T = {time}");
        }
    }

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(false, true, true)]
    [InlineData(true, true, true)]
    public void Fused_attention_matches_the_cpu_on_rows_around_a_group(bool causal, bool keyPadding, bool mask)
    {
        const int n = 2, heads = 2, d = 3, dv = 5;
        foreach (int s in Lengths)
        {
            int t = causal ? s : 3;
            int b = n * heads;
            var (q, k, v, dO) = (Rand(b * t * d, 2f), Rand(b * s * d, 2f), Rand(b * s * dv), Rand(b * t * dv));
            // Sample 0 keeps its first keys, sample 1 has every key padded (a swamped row: uniform weights).
            var pad = new float[n * s];
            for (int j = 0; j < s; j++)
            {
                pad[j] = j < (s + 1) / 2 ? 0f : -float.MaxValue;
                pad[s + j] = -float.MaxValue;
            }
            // Query 0 keeps no key at all (a fully masked row), the others drop every third key.
            var m = new float[t * s];
            for (int i = 0; i < t; i++)
            {
                for (int j = 0; j < s; j++)
                {
                    m[i * s + j] = i == 0 || j % 3 == 2 ? float.NegativeInfinity : 0.25f * ((i + j) % 2);
                }
            }
            float[] Run(Device dev)
            {
                var (qt, kt, vt) = (Tensor.From(q, dev, b, t, d), Tensor.From(k, dev, b, s, d), Tensor.From(v, dev, b, s, dv));
                var maskT = mask ? Tensor.From(m, dev, t, s) : null;
                var padT = keyPadding ? Tensor.From(pad, dev, n, s) : null;
                var (output, lse) = (Poisoned(dev, b, t, dv), Poisoned(dev, b, t));
                dev.Attention(qt, kt, vt, maskT, padT, causal, heads, float.NaN, output, lse);
                var (dq, dk, dvT) = (Poisoned(dev, b, t, d), Poisoned(dev, b, s, d), Poisoned(dev, b, s, dv));
                dev.AttentionBackward(qt, kt, vt, maskT, padT, causal, heads, float.NaN, output, lse, Tensor.From(dO, dev, b, t, dv), dq, dk, dvT);
                return [.. output.ToArray(), .. lse.ToArray(), .. dq.ToArray(), .. dk.ToArray(), .. dvT.ToArray()];
            }
            AssertClose(Run(Device.Cpu), Run(_gpu), 2e-5, $"S = {s}, causal {causal}, key padding {keyPadding}, mask {mask}");
        }
    }

    [Fact]
    public void The_embedding_check_names_the_first_bad_id_among_many()
    {
        const int rows = 7, dim = 3;
        var weight = Tensor.From(Rand(rows * dim), _gpu, rows, dim);
        var status = _gpu.Allocate(DType.Int32, 1);
        foreach (int count in Lengths)
        {
            var ids = Enumerable.Range(0, count).Select(i => (long)(i % rows)).ToArray();
            var y = Poisoned(_gpu, count, dim);
            var idt = Tensor.From(ids, _gpu, count);
            _gpu.Embedding(idt, weight, y, status);
            _gpu.ThrowIfEmbeddingFailed(idt, weight, status);
            var w = weight.ToArray();
            Assert.Equal(Enumerable.Range(0, count * dim).Select(i => w[ids[i / dim] * dim + i % dim]), y.ToArray());
            if (count > 2)
            {
                // Two bad ids, the later one in an earlier thread's stride: the first position is reported.
                ids[count - 1] = -1;
                ids[1] = rows;
                idt = Tensor.From(ids, _gpu, count);
                _gpu.Embedding(idt, weight, y, status);
                _gpu.ThrowIfEmbeddingFailed(idt, weight, status);
                var e = Assert.Throws<ArgumentOutOfRangeException>(_gpu.Synchronize);
                Assert.Contains($"id {rows} at position 1 ", e.Message);
            }
        }
    }

    [Fact]
    public void Sums_to_a_broadcast_shape_match_the_cpu()
    {
        foreach (int size in Lengths)
        {
            var x = Rand(2 * size * 3);
            var y0 = Rand(2 * 3);
            float[] Run(Device d)
            {
                var xt = Tensor.From(x, d, 2, size, 3);
                var fresh = Poisoned(d, 2, 1, 3);
                d.SumToSamples(xt, fresh, 0.5f, accumulate: false);
                var acc = Tensor.From(y0, d, 2, 1, 3);
                d.SumToSamples(xt, acc, 1f, accumulate: true);
                var all = Poisoned(d, 2, 1, 1);
                d.SumToSamples(xt, all, 1f, accumulate: false);
                return [.. fresh.ToArray(), .. acc.ToArray(), .. all.ToArray()];
            }
            AssertClose(Run(Device.Cpu), Run(_gpu), 1e-5, $"size {size}");
        }
    }

    /// <summary>Equal within <paramref name="tolerance"/> relative to 1 + |expected|; NaN only where the CPU has NaN, and -inf where it has -inf.</summary>
    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (float.IsNaN(e) || float.IsInfinity(e))
            {
                Assert.True(e.Equals(a), $"{what} [{i}]: {a} vs {e}");
                continue;
            }
            Assert.True(Math.Abs(a - (double)e) <= tolerance * (1 + Math.Abs(e)), $"{what} [{i}]: {a} vs {e}");
        }
    }
}
