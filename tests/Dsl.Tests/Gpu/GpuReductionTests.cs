using Dsl.Devices.Gpu;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// The group reductions and the register-blocked GEMM on ILGPU's CPU accelerator, on sizes that span several groups
/// and several tiles (the kernel suite's shapes fit in one): against double references and the CPU backend.
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class GpuReductionTests
{
    private readonly GpuDevice _gpu;
    private readonly Random _rng = new(77);

    public GpuReductionTests(IlgpuCpuAcceleratorFixture fixture) => _gpu = (GpuDevice)fixture.Device;

    private float[] Rand(int n, float scale = 1f) =>
        Enumerable.Range(0, n).Select(_ => (float)(_rng.NextDouble() * 2 - 1) * scale + 0.01f).ToArray();

    [Theory]
    [InlineData(1, 2f)]
    [InlineData(37, 1f)]
    [InlineData(20_000, 2f)]
    [InlineData(20_000, 3f)]
    [InlineData(20_000, float.PositiveInfinity)]
    public void Norm_powers_reduced_across_groups_match_a_double_reference(int count, float p)
    {
        var x = Rand(count);
        bool inf = float.IsPositiveInfinity(p);
        double expected = inf ? x.Max(v => Math.Abs((double)v)) : x.Sum(v => Math.Pow(Math.Abs((double)v), p));
        var accumulator = Tensor.From(new[] { 0f, 3f }, _gpu, 2);
        _gpu.AccumulateNormPower(Tensor.From(x, _gpu, count), accumulator, p);
        var r = accumulator.ToArray();
        Assert.True(Math.Abs(r[0] - expected) <= 1e-4 * Math.Max(1, Math.Abs(expected)), $"{r[0]} vs {expected}");
        Assert.Equal(3f, r[1]);

        // Accumulating: the norm over several tensors (gradient clipping) is one running sum (or maximum).
        _gpu.AccumulateNormPower(Tensor.From(x, _gpu, count), accumulator, p);
        double twice = inf ? expected : 2 * expected;
        Assert.True(Math.Abs(accumulator.ToArray()[0] - twice) <= 2e-4 * Math.Max(1, Math.Abs(twice)));
    }

    [Theory]
    [InlineData(3, 300, false)]
    [InlineData(2, 1000, true)]
    public void Softmax_rows_longer_than_a_group_match_the_cpu(int rows, int c, bool log)
    {
        var (x, dy) = (Rand(rows * c, 6f), Rand(rows * c));
        float[] Run(Device d)
        {
            var y = d.Allocate(DType.Float32, rows, c);
            var dx = d.Allocate(DType.Float32, rows, c);
            d.Softmax(Tensor.From(x, d, rows, c), y, log);
            d.SoftmaxBackward(y, Tensor.From(dy, d, rows, c), dx, log, accumulate: false);
            return [.. y.ToArray(), .. dx.ToArray()];
        }
        AssertClose(Run(Device.Cpu), Run(_gpu), 1e-5);
    }

    [Fact]
    public void BatchNorm_statistics_over_many_values_per_channel_match_the_cpu()
    {
        const int n = 7, c = 3, s = 45;
        var (x, dy) = (Rand(n * c * s, 3f), Rand(n * c * s));
        float[] Run(Device d)
        {
            var (rm, rv) = (Tensor.Zeros(d, c), Tensor.Full(d, 1f, c));
            var (sm, si) = (d.Allocate(DType.Float32, c), d.Allocate(DType.Float32, c));
            var (gamma, beta) = (Tensor.From(new[] { 1.5f, -0.5f, 0.8f }, d, c), Tensor.From(new[] { 0.1f, 0.2f, -0.3f }, d, c));
            var y = d.Allocate(DType.Float32, n, c, s);
            d.BatchNorm(Tensor.From(x, d, n, c, s), gamma, beta, rm, rv, sm, si, y, n, c, s, training: true, momentum: 0.1f, eps: 1e-5f);
            var dx = d.Allocate(DType.Float32, n, c, s);
            var (dg, db) = (Tensor.Zeros(d, c), Tensor.Zeros(d, c));
            d.BatchNormBackward(Tensor.From(x, d, n, c, s), gamma, sm, si, Tensor.From(dy, d, n, c, s), dx, dg, db, n, c, s, training: true, accumulateDx: false);
            return [.. y.ToArray(), .. rm.ToArray(), .. rv.ToArray(), .. dx.ToArray(), .. dg.ToArray(), .. db.ToArray()];
        }
        AssertClose(Run(Device.Cpu), Run(_gpu), 1e-4);
    }

    [Fact]
    public void BiasGrad_over_many_values_per_channel_matches_the_cpu()
    {
        const int outer = 9, c = 4, inner = 50;
        var dy = Rand(outer * c * inner);
        var db0 = Rand(c);
        float[] Run(Device d)
        {
            var db = Tensor.From(db0, d, c);
            d.BiasGrad(Tensor.From(dy, d, outer, c, inner), db, inner, accumulate: true);
            return db.ToArray();
        }
        AssertClose(Run(Device.Cpu), Run(_gpu), 1e-5);
    }

    [Theory]
    [InlineData(700, 10)]
    [InlineData(5, 300)]
    public void Losses_over_many_rows_or_long_rows_match_the_cpu(int rows, int c)
    {
        var scores = Rand(rows * c, 4f);
        var labels = Enumerable.Range(0, rows).Select(i => (long)((i * 7) % c)).ToArray();
        var (x, t) = (Rand(5000), Rand(5000));
        float[] Run(Device d)
        {
            var loss = d.Allocate(DType.Float32, 2);
            var grad = d.Allocate(DType.Float32, rows, c);
            d.CrossEntropyLoss(Tensor.From(scores, d, rows, c), Tensor.From(labels, d, rows), loss, grad);
            var mse = d.Allocate(DType.Float32, 2);
            var mseGrad = d.Allocate(DType.Float32, 5000);
            d.MseLoss(Tensor.From(x, d, 5000), Tensor.From(t, d, 5000), mse, mseGrad);
            long correct = d.CountCorrect(Tensor.From(scores, d, rows, c), Tensor.From(labels, d, rows));
            return [.. loss.ToArray(), .. grad.ToArray(), .. mse.ToArray(), .. mseGrad.ToArray(), correct];
        }
        AssertClose(Run(Device.Cpu), Run(_gpu), 1e-5);
    }

    [Fact]
    public void Label_loss_flags_the_first_bad_row_among_many()
    {
        const int rows = 600, c = 5;
        var labels = Enumerable.Range(0, rows).Select(i => (long)(i % c)).ToArray();
        labels[401] = c;
        labels[517] = -1;
        var loss = _gpu.Allocate(DType.Float32, 2);
        _gpu.NllLoss(Tensor.From(Rand(rows * c), _gpu, rows, c), Tensor.From(labels, _gpu, rows), loss, _gpu.Allocate(DType.Float32, rows, c));
        Assert.Equal(402f, loss.ToArray()[1]);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Gemm_on_odd_shapes_over_several_tiles_matches_the_cpu_gemm(bool transA, bool transB)
    {
        foreach (var (m, n, k) in new[] { (1, 1, 1), (67, 45, 53), (3, 70, 2), (33, 1, 41) })
        {
            var (a, b, c0) = (Rand(m * k), Rand(k * n), Rand(m * n));
            float[] Run(Device d, float beta)
            {
                var c = beta == 0f ? Tensor.From(Enumerable.Repeat(float.NaN, m * n).ToArray(), d, m, n) : Tensor.From(c0, d, m, n);
                d.Gemm(transA, transB, m, n, k, 0.75f, Tensor.From(a, d, m * k), Tensor.From(b, d, k * n), beta, c);
                return c.ToArray();
            }
            foreach (float beta in new[] { 0f, 0.5f })
            {
                AssertClose(Run(Device.Cpu, beta), Run(_gpu, beta), 1e-5, $"{m}x{n}x{k} transA={transA} transB={transB} beta={beta}");
            }
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void Batched_products_in_one_strided_launch_match_the_cpu(bool transA, bool transB)
    {
        // Both operands batched, one shared (broadcast or missing batch), and a broadcast that is not a constant stride.
        var shapes = new (int[] A, int[] B, int[] C)[] { ([3, 2], [3, 2], [3, 2]), ([1], [4], [4]), ([5], [], [5]), ([2, 1], [1, 3], [2, 3]) };
        foreach (var (ba, bb, bc) in shapes)
        {
            foreach (var (m, n, k) in new[] { (1, 1, 1), (67, 45, 53), (3, 70, 2) })
            {
                int[] da = [.. ba, transA ? k : m, transA ? m : k], db = [.. bb, transB ? n : k, transB ? k : n], dc = [.. bc, m, n];
                var (a, b) = (Rand(da.Aggregate(1, (x, y) => x * y)), Rand(db.Aggregate(1, (x, y) => x * y)));
                float[] Run(Device d)
                {
                    var c = Tensor.Full(d, float.NaN, dc);
                    d.BatchedMatMul(transA, transB, Tensor.From(a, d, da), Tensor.From(b, d, db), c, 0.5f);
                    return c.ToArray();
                }
                AssertClose(Run(Device.Cpu), Run(_gpu), 1e-5, $"[{string.Join(",", ba)}] x [{string.Join(",", bb)}] {m}x{n}x{k}");
            }
        }
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i];
            Assert.True(Math.Abs(actual[i] - e) <= tolerance * (1 + Math.Abs(e)), $"{what} [{i}]: {actual[i]} vs {e}");
        }
    }
}
