using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Sequence;

/// <summary>
/// <see cref="Device.MaxOverTime"/>, <see cref="Device.MeanOverTime"/> and <see cref="Device.AttentionPool"/> with lengths
/// (a full row, a short one and a fully padded one) against float64 forwards written here and their central differences.
/// </summary>
public class SequencePoolTests
{
    private const int N = 3, C = 4, T = 6, D = 5;
    private static readonly long[] Lengths = { 6, 3, 0 };

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MaxOverTime_takes_the_maximum_of_valid_steps_and_routes_its_gradient(bool masked)
    {
        var rng = new Random(11);
        float[] x = RandomInputs.Distinct(rng, N * C * T);
        long[]? lengths = masked ? Lengths : null;
        var xt = Tensor.From(x, Target, N, C, T);
        var y = Tensor.Full(Target, float.NaN, N, C);
        var argmax = Target.Allocate(DType.Int32, N, C);
        Target.MaxOverTime(xt, Len(lengths), y, argmax, N, C, T);
        double[] Forward(double[] v)
        {
            var r = new double[N * C];
            for (int row = 0; row < N * C; row++)
            {
                int len = lengths is null ? T : (int)lengths[row / C];
                r[row] = len == 0 ? 0 : Enumerable.Range(0, len).Max(t => v[row * T + t]);
            }
            return r;
        }
        Check(x, Forward, y, N * C, (dy, dx, acc) => Target.MaxOverTimeBackward(dy, argmax, dx, N, C, T, acc));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MeanOverTime_averages_valid_steps_and_spreads_its_gradient(bool masked)
    {
        var rng = new Random(12);
        float[] x = RandomInputs.Normal(rng, N * C * T);
        long[]? lengths = masked ? Lengths : null;
        var y = Tensor.Full(Target, float.NaN, N, C);
        Target.MeanOverTime(Tensor.From(x, Target, N, C, T), Len(lengths), y, N, C, T);
        double[] Forward(double[] v)
        {
            var r = new double[N * C];
            for (int row = 0; row < N * C; row++)
            {
                int len = lengths is null ? T : (int)lengths[row / C];
                r[row] = len == 0 ? 0 : Enumerable.Range(0, len).Average(t => v[row * T + t]);
            }
            return r;
        }
        Check(x, Forward, y, N * C, (dy, dx, acc) => Target.MeanOverTimeBackward(dy, Len(lengths), dx, N, C, T, acc));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AttentionPool_matches_the_course_formula_and_finite_differences(bool masked)
    {
        var rng = new Random(13);
        float[] x = RandomInputs.Normal(rng, N * T * D);
        float[] context = RandomInputs.Normal(rng, D);
        long[]? lengths = masked ? Lengths : null;
        var xt = Tensor.From(x, Target, N, T, D);
        var ct = Tensor.From(context, Target, D);
        var weights = Tensor.Full(Target, float.NaN, N, T);
        var y = Tensor.Full(Target, float.NaN, N, D);
        Target.AttentionPool(xt, ct, Len(lengths), weights, y, N, T, D);

        // v = x then c; outputs y then the weights a (so the saved weights are checked too).
        double[] Forward(double[] v)
        {
            var r = new double[N * D + N * T];
            for (int n = 0; n < N; n++)
            {
                int len = lengths is null ? T : (int)lengths[n];
                var s = new double[len];
                for (int t = 0; t < len; t++)
                {
                    for (int d = 0; d < D; d++)
                    {
                        s[t] += v[(n * T + t) * D + d] * v[N * T * D + d];
                    }
                }
                double max = len == 0 ? 0 : s.Max();
                double sum = s.Sum(e => Math.Exp(e - max));
                for (int t = 0; t < len; t++)
                {
                    double a = Math.Exp(s[t] - max) / sum;
                    r[N * D + n * T + t] = a;
                    for (int d = 0; d < D; d++)
                    {
                        r[n * D + d] += a * v[(n * T + t) * D + d];
                    }
                }
            }
            return r;
        }
        double[] all = RandomInputs.ToDoubles(x).Concat(RandomInputs.ToDoubles(context)).ToArray();
        double[] expected = Forward(all);
        Tolerance.Reduction.AssertClose(expected.AsSpan(0, N * D), y.ToArray(), "y");
        Tolerance.Reduction.AssertClose(expected.AsSpan(N * D, N * T), weights.ToArray(), "weights");

        float[] dy = RandomInputs.Normal(rng, N * D);
        float[] dx0 = RandomInputs.Normal(rng, N * T * D);
        float[] dc0 = RandomInputs.Normal(rng, D);
        var dx = Tensor.From(dx0, Target, N, T, D);
        var dc = Tensor.From(dc0, Target, D);
        Target.AttentionPoolBackward(xt, ct, weights, Tensor.From(dy, Target, N, D), dx, dc, N, T, D, accumulateDx: true);
        double[] upstream = RandomInputs.ToDoubles(dy).Concat(new double[N * T]).ToArray();
        double[] numeric = FiniteDifference.Gradient(Forward, all, upstream);
        Tolerance.FiniteDifference.AssertClose(numeric.Take(N * T * D).Select((g, i) => g + dx0[i]).ToArray(), dx.ToArray(), "dx (accumulated)");
        Tolerance.FiniteDifference.AssertClose(numeric.Skip(N * T * D).Select((g, i) => g + dc0[i]).ToArray(), dc.ToArray(), "dcontext (accumulated)");
    }

    private Tensor? Len(long[]? lengths) => lengths is null ? null : Tensor.From(lengths, Target, N);

    /// <summary>Forward against float64, then backward both overwriting and accumulating against central differences.</summary>
    private void Check(float[] x, Func<double[], double[]> forward, Tensor y, int outputs, Action<Tensor, Tensor, bool> backward)
    {
        double[] xd = RandomInputs.ToDoubles(x);
        Tolerance.Reduction.AssertClose(forward(xd), y.ToArray(), "y");
        var rng = new Random(99);
        float[] dy = RandomInputs.Normal(rng, outputs);
        double[] numeric = FiniteDifference.Gradient(forward, xd, RandomInputs.ToDoubles(dy));
        var dx = Tensor.Full(Target, float.NaN, x.Length);
        backward(Tensor.From(dy, Target, outputs), dx, false);
        Tolerance.FiniteDifference.AssertClose(numeric, dx.ToArray(), "dx");
        float[] start = RandomInputs.Normal(rng, x.Length);
        var acc = Tensor.From(start, Target, x.Length);
        backward(Tensor.From(dy, Target, outputs), acc, true);
        Tolerance.FiniteDifference.AssertClose(numeric.Select((g, i) => g + start[i]).ToArray(), acc.ToArray(), "dx (accumulated)");
    }
}

/// <summary>The pooling-over-time and attention suite on the ILGPU kernels (CPU accelerator).</summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class IlgpuSequencePoolTests(IlgpuCpuAcceleratorFixture fixture) : SequencePoolTests
{
    protected override Device Target => fixture.Device;
}
