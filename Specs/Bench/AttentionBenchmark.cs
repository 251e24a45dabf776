using System.Diagnostics;
using System.Globalization;
using Dsl;

namespace Specs.Bench;

/// <summary>
/// <c>bench attention</c>: the fused attention kernels (<see cref="Device.Attention"/>, memory linear in the length) against the
/// unfused reference (<see cref="Device.AttentionReference"/>, the [B,T,T] weights materialised) at T = 128, 512 and 2048 with
/// 8 heads of width 64 and batch 1, forward and backward; then one <c>MultiHeadAttention</c> layer (<see cref="MultiHeadAttentionState"/>)
/// at the encoder classifier's shape, with and without dropout on the weights, and the pieces it is made of.
/// </summary>
public static class AttentionBenchmark
{
    public static void Run(TextWriter output, int[] threadCounts)
    {
        foreach (int threads in threadCounts)
        {
            var device = Device.CpuWithThreads(threads);
            output.WriteLine($"{threads} thread(s): attention over [8 heads, T, 64], batch 1, forward + backward (median of the runs)");
            output.WriteLine("       T | fused ms | reference ms | speed-up | fused extra bytes | reference extra bytes");
            foreach (int t in new[] { 128, 512, 2048 })
            {
                Kernels(output, device, t);
            }
            Layer(output, device);
            output.WriteLine();
        }
    }

    private static Tensor Random(Device device, Random rng, params int[] shape)
    {
        var data = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        return Tensor.From(data, device, shape);
    }

    private static void Kernels(TextWriter output, Device device, int t)
    {
        const int b = 8, d = 64;
        var rng = new Random(t);
        var q = Random(device, rng, b, t, d);
        var k = Random(device, rng, b, t, d);
        var v = Random(device, rng, b, t, d);
        var dO = Random(device, rng, b, t, d);
        var o = Tensor.Zeros(device, b, t, d);
        var (dq, dk, dv) = (Tensor.Zeros(device, b, t, d), Tensor.Zeros(device, b, t, d), Tensor.Zeros(device, b, t, d));
        // What each path keeps or needs beyond the operands and their gradients: the fused one a log-sum-exp per row; the
        // reference the weights it saves for backward and backward's two scratch score matrices.
        var lse = Tensor.Zeros(device, b, t);
        long fusedBytes = 4L * b * t;
        long scores = (long)b * t * t;
        long referenceBytes = 3 * 4 * scores;
        int runs = t >= 2048 ? 3 : 7;
        double fused = Median(runs, () =>
        {
            device.Attention(q, k, v, null, null, causal: false, heads: 8, float.NaN, o, lse);
            device.AttentionBackward(q, k, v, null, null, causal: false, heads: 8, float.NaN, o, lse, dO, dq, dk, dv);
        });
        var fusedOut = o.ToArray();
        var weights = Tensor.Zeros(device, b, t, t);
        var dWeights = Tensor.Zeros(device, b, t, t);
        var dScores = Tensor.Zeros(device, b, t, t);
        double reference = Median(runs, () =>
        {
            device.AttentionReference(q, k, v, null, null, causal: false, heads: 8, float.NaN, o, weights);
            device.AttentionReferenceBackward(q, k, v, AttentionMath.DefaultScale(d), weights, dO, dq, dk, dv, dWeights, dScores);
        });
        double worst = fusedOut.Zip(o.ToArray(), (x, y) => Math.Abs(x - y)).Max();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{t,8} | {fused,8:F1} | {reference,12:F1} | {reference / fused,7:F2}x | {Bytes(fusedBytes),17} | {Bytes(referenceBytes),21}   (outputs agree to {worst:g2})"));
    }

    private static void Layer(TextWriter output, Device device)
    {
        const int n = 50, t = 40, d = 128, heads = 4;
        var rng = new Random(5);
        var x = Random(device, rng, n, t, d);
        var dy = Random(device, rng, n, t, d);
        var y = Tensor.Zeros(device, n, t, d);
        var dx = Tensor.Zeros(device, n, t, d);
        var inW = Random(device, rng, 3 * d, d);
        var inB = Random(device, rng, 3 * d);
        var outW = Random(device, rng, d, d);
        var outB = Random(device, rng, d);
        var grads = new[] { Tensor.Zeros(device, 3 * d, d), Tensor.Zeros(device, 3 * d), Tensor.Zeros(device, d, d), Tensor.Zeros(device, d) };
        var mask = Tensor.Full(device, 1f, n, t);
        output.WriteLine($"  one MultiHeadAttention({heads}) layer at [N={n}, T={t}, d={d}] with a key mask, forward + backward:");
        foreach (float dropout in new[] { 0f, 0.1f })
        {
            var state = new MultiHeadAttentionState(device, d, heads, dropout, causal: false);
            double ms = Median(9, () =>
            {
                state.Forward(x, null, mask, training: true, seed: 1, inW, inB, outW, outB, y);
                state.Backward(x, null, inW, outW, dy, dx, false, null, false, grads[0], grads[1], grads[2], grads[3]);
            });
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    dropout {dropout:F1} ({(dropout > 0 ? "unfused" : "fused")}): {ms:F2} ms"));
        }
        var qkv = Tensor.Zeros(device, n, t, 3 * d);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    pieces: in-projection Linear {Median(9, () => device.Linear(x, inW, inB, qkv)):F2} ms; one head split (strided copy of [N,T,d]) "
            + $"{Median(9, () => device.CopyStrided(x.View(n, t, heads, d / heads).Transpose(1, 2), dx.View(n, heads, t, d / heads))):F2} ms; "
            + $"fused attention forward {Median(9, () => device.Attention(x.View(n * heads, t, d / heads), x.View(n * heads, t, d / heads), x.View(n * heads, t, d / heads), null, null, false, heads, float.NaN, y.View(n * heads, t, d / heads), Tensor.Zeros(device, n * heads, t))):F2} ms"));
    }

    private static double Median(int runs, Action action)
    {
        action();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times[runs / 2];
    }

    private static string Bytes(long bytes)
        => bytes >= 1 << 20 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 20):F1} MiB")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB");
}
