using Dsl;

namespace Specs.Gpu;

/// <summary>
/// Every <see cref="Device"/> kernel run on the device under test and on the CPU backend with the same fresh random
/// inputs. Outputs are poisoned with NaN before each run (on both devices), so an element a kernel forgets to write
/// shows as NaN; gradients that accumulate (+=) start from random values instead.
/// </summary>
public static class KernelAgreement
{
    /// <summary>One kernel case: its name and what it computes on a device, all outputs concatenated.</summary>
    public sealed record Case(string Name, Func<Device, float[]> Run);

    /// <summary>The outcome of a case: the relative error max |d - cpu| / max |cpu| (NaN when either side has a NaN).</summary>
    public sealed record Result(string Name, int Elements, double RelativeError, double Milliseconds, string? Error)
    {
        public bool Passed(double tolerance) => Error is null && RelativeError <= tolerance;
    }

    public static IReadOnlyList<Result> Run(Device device, int seed, bool quick)
    {
        var results = new List<Result>();
        foreach (var c in Cases(seed, quick))
        {
            try
            {
                float[] expected = c.Run(Device.Cpu);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                float[] actual = c.Run(device);
                device.Synchronize();
                clock.Stop();
                results.Add(new Result(c.Name, expected.Length, RelativeError(expected, actual), clock.Elapsed.TotalMilliseconds, null));
            }
            catch (Exception e)
            {
                results.Add(new Result(c.Name, 0, double.NaN, 0, $"{e.GetType().Name}: {e.Message}"));
            }
        }
        return results;
    }

    public static double RelativeError(float[] expected, float[] actual)
    {
        if (expected.Length != actual.Length)
        {
            return double.NaN;
        }
        double scale = 0, worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(expected[i]) || float.IsNaN(actual[i]))
            {
                return double.NaN;
            }
            scale = Math.Max(scale, Math.Abs(expected[i]));
            worst = Math.Max(worst, Math.Abs((double)actual[i] - expected[i]));
        }
        return worst == 0 ? 0 : worst / Math.Max(scale, 1e-30);
    }

    /// <summary>The cases; <paramref name="quick"/> picks sizes fit for ILGPU's CPU accelerator.</summary>
    public static IReadOnlyList<Case> Cases(int seed, bool quick)
    {
        var rng = new Random(seed);
        float[] R(int n, float scale = 1f) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
        int big = quick ? 300 : 1 << 20;
        int rows = quick ? 7 : 4096;
        int classes = quick ? 10 : 1000;
        var cases = new List<Case>();

        var (x, x2, yInit) = (R(big), R(big), R(big));
        cases.Add(new("fill", d => { var y = Nan(d, big); d.Fill(y, 0.37f); return y.ToArray(); }));
        cases.Add(new("copy", d => { var y = Nan(d, big); d.Copy(T(d, x), y); return y.ToArray(); }));
        cases.Add(new("add", d => { var y = Nan(d, big); d.Add(T(d, x), T(d, x2), y); return y.ToArray(); }));
        cases.Add(new("axpy", d => { var y = T(d, yInit); d.Axpy(-0.7f, T(d, x), y); return y.ToArray(); }));
        cases.Add(new("mul", d => { var y = Nan(d, big); d.Mul(T(d, x), T(d, x2), y); return y.ToArray(); }));
        foreach (var kind in Enum.GetValues<ActivationKind>())
        {
            var xa = R(big, 3f);
            cases.Add(new($"activation {kind}", d =>
            {
                var (xt, y, dx) = (T(d, xa), Nan(d, big), Nan(d, big));
                d.Activation(kind, 0.1f, xt, y);
                d.ActivationBackward(kind, 0.1f, xt, y, T(d, x2), dx, accumulate: false);
                return [.. y.ToArray(), .. dx.ToArray()];
            }));
        }
        cases.Add(new("dropout", d => { var (m, y) = (Nan(d, big), Nan(d, big)); d.Dropout(T(d, x), m, y, 0.3f, (ulong)seed, 1); return [.. m.ToArray(), .. y.ToArray()]; }));

        int gm = quick ? 19 : 1023, gn = quick ? 23 : 777, gk = quick ? 35 : 515;
        var (ga, gb, gc) = (R(gm * gk), R(gk * gn), R(gm * gn));
        foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            cases.Add(new($"gemm {(ta ? "T" : "N")}{(tb ? "T" : "N")} {gm}x{gn}x{gk}", d =>
            {
                var c = Nan(d, gm * gn);
                d.Gemm(ta, tb, gm, gn, gk, 0.9f, T(d, ga), T(d, gb), 0f, c);
                var c2 = T(d, gc);
                d.Gemm(ta, tb, gm, gn, gk, 0.9f, T(d, ga), T(d, gb), 0.5f, c2);
                return [.. c.ToArray(), .. c2.ToArray()];
            }));
        }

        int outer = quick ? 3 : 256, ch = quick ? 5 : 64, inner = quick ? 6 : 196;
        var (by, bias) = (R(outer * ch * inner), R(ch));
        cases.Add(new("add-bias, bias-grad", d =>
        {
            var y = T(d, by);
            d.AddBias(y, T(d, bias), inner);
            var db = Nan(d, ch);
            d.BiasGrad(T(d, by), db, inner, accumulate: false);
            return [.. y.ToArray(), .. db.ToArray()];
        }));

        var (scores, dscores) = (R(rows * classes, 5f), R(rows * classes));
        var labels = Enumerable.Range(0, rows).Select(_ => (long)rng.Next(classes)).ToArray();
        foreach (bool log in new[] { false, true })
        {
            cases.Add(new(log ? "log-softmax" : "softmax", d =>
            {
                var (y, dx) = (Nan(d, rows, classes), Nan(d, rows, classes));
                d.Softmax(T(d, scores, rows, classes), y, log);
                d.SoftmaxBackward(y, T(d, dscores, rows, classes), dx, log, accumulate: false);
                return [.. y.ToArray(), .. dx.ToArray()];
            }));
        }
        cases.Add(new("nll, cross-entropy, count-correct", d =>
        {
            var (l1, g1, l2, g2) = (Nan(d, 2), Nan(d, rows, classes), Nan(d, 2), Nan(d, rows, classes));
            var lab = Tensor.From(labels, d, rows);
            d.NllLoss(T(d, scores, rows, classes), lab, l1, g1);
            d.CrossEntropyLoss(T(d, scores, rows, classes), lab, l2, g2);
            long correct = d.CountCorrect(T(d, scores, rows, classes), lab);
            return [.. l1.ToArray(), .. g1.ToArray(), .. l2.ToArray(), .. g2.ToArray(), correct];
        }));
        // A sequence's [N,T,C] scores with padding: every third label ignored (PyTorch's -100), the mean over the rest.
        var padded = labels.Select((l, i) => i % 3 == 2 ? Loss.DefaultIgnoreIndex : l).ToArray();
        cases.Add(new("nll, cross-entropy with ignored labels", d =>
        {
            var (l1, g1, l2, g2) = (Nan(d, 2), Nan(d, rows, classes), Nan(d, 2), Nan(d, rows, classes));
            var lab = Tensor.From(padded, d, rows);
            d.NllLoss(T(d, scores, rows, classes), lab, l1, g1);
            d.CrossEntropyLoss(T(d, scores, rows, classes), lab, l2, g2);
            return [.. l1.ToArray(), .. g1.ToArray(), .. l2.ToArray(), .. g2.ToArray()];
        }));
        cases.Add(new("mse", d => { var (l, g) = (Nan(d, 2), Nan(d, big)); d.MseLoss(T(d, x), T(d, x2), l, g); return [.. l.ToArray(), .. g.ToArray()]; }));

        var (p0, grad, m0, v0) = (R(big), R(big), R(big), R(big).Select(Math.Abs).ToArray());
        cases.Add(new("sgd (momentum, nesterov, decay)", d =>
        {
            var (p, buf) = (T(d, p0), Nan(d, big));
            d.SgdStep(p, T(d, grad), buf, 0.1f, 0.9f, 0f, 1e-4f, nesterov: true, firstStep: true);
            d.SgdStep(p, T(d, grad), buf, 0.1f, 0.9f, 0f, 1e-4f, nesterov: true, firstStep: false);
            return [.. p.ToArray(), .. buf.ToArray()];
        }));
        cases.Add(new("adam", d =>
        {
            var (p, m, v) = (T(d, p0), T(d, m0), T(d, v0));
            d.AdamStep(p, T(d, grad), m, v, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupledWeightDecay: true, step: 3);
            return [.. p.ToArray(), .. m.ToArray(), .. v.ToArray()];
        }));

        var geometries = quick
            ? new[] { new Conv2dGeometry(2, 3, 7, 6, 4, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), new Conv2dGeometry(2, 4, 7, 7, 6, 3, 3, StrideH: 2, StrideW: 2, Groups: 2) }
            : new[] { new Conv2dGeometry(128, 16, 28, 28, 16, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), new Conv2dGeometry(64, 1, 28, 28, 10, 5, 5), new Conv2dGeometry(128, 32, 14, 14, 64, 3, 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1) };
        foreach (var g in geometries)
        {
            var (cx, cw, cb, cdy, cdw, cdb) = (R((int)g.InputLength), R((int)g.WeightLength, 0.3f), R(g.OutChannels), R((int)g.OutputLength), R((int)g.WeightLength), R(g.OutChannels));
            cases.Add(new($"conv2d {g.Batch}x{g.InChannels}x{g.Height}x{g.Width} -> {g.OutChannels}@{g.KernelH}x{g.KernelW}/{g.StrideH} g{g.Groups}", d =>
            {
                var (xt, wt) = (T(d, cx), T(d, cw));
                var y = Nan(d, (int)g.OutputLength);
                d.Conv2d(xt, wt, T(d, cb), y, g);
                var (dx, dw, db) = (Nan(d, (int)g.InputLength), T(d, cdw), T(d, cdb));
                d.Conv2dBackward(xt, wt, T(d, cdy), dx, dw, db, g, accumulateDx: false);
                return [.. y.ToArray(), .. dx.ToArray(), .. dw.ToArray(), .. db.ToArray()];
            }));
        }

        var pool = quick ? new Pool2dGeometry(2, 3, 7, 6, 3, 3, 2, 2, 1, 1) : new Pool2dGeometry(128, 16, 28, 28, 2, 2, 2, 2);
        var (px, pdy) = (R((int)pool.InputLength), R((int)pool.OutputLength));
        cases.Add(new("max-pool", d =>
        {
            var (y, dx) = (Nan(d, (int)pool.OutputLength), Nan(d, (int)pool.InputLength));
            var argmax = d.Allocate(DType.Int32, (int)pool.OutputLength);
            d.MaxPool2d(T(d, px), y, argmax, pool);
            d.MaxPool2dBackward(T(d, pdy), argmax, dx, pool, accumulate: false);
            return [.. y.ToArray(), .. dx.ToArray()];
        }));
        cases.Add(new("avg-pool", d =>
        {
            var (y, dx) = (Nan(d, (int)pool.OutputLength), Nan(d, (int)pool.InputLength));
            d.AvgPool2d(T(d, px), y, pool, countIncludePad: true);
            d.AvgPool2dBackward(T(d, pdy), dx, pool, countIncludePad: true, accumulate: false);
            return [.. y.ToArray(), .. dx.ToArray()];
        }));
        int ah = quick ? 3 : 7;
        var ady = R(pool.Batch * pool.Channels * ah * ah);
        cases.Add(new("adaptive-avg-pool", d =>
        {
            var (y, dx) = (Nan(d, pool.Batch * pool.Channels * ah * ah), Nan(d, (int)pool.InputLength));
            d.AdaptiveAvgPool2d(T(d, px), y, pool.Batch, pool.Channels, pool.Height, pool.Width, ah, ah);
            d.AdaptiveAvgPool2dBackward(T(d, ady), dx, pool.Batch, pool.Channels, pool.Height, pool.Width, ah, ah, accumulate: false);
            return [.. y.ToArray(), .. dx.ToArray()];
        }));

        int bn = quick ? 3 : 128, bc = quick ? 4 : 64, bs = quick ? 25 : 196;
        var (bx, bdy, gamma, beta, dgamma, dbeta) = (R(bn * bc * bs, 2f), R(bn * bc * bs), R(bc), R(bc), R(bc), R(bc));
        cases.Add(new("batch-norm (training)", d =>
        {
            var (rm, rv) = (Tensor.Zeros(d, bc), Tensor.Full(d, 1f, bc));
            var (sm, si, y, dx) = (Nan(d, bc), Nan(d, bc), Nan(d, bn * bc * bs), Nan(d, bn * bc * bs));
            var (dg, db) = (T(d, dgamma), T(d, dbeta));
            var xt = T(d, bx);
            d.BatchNorm(xt, T(d, gamma), T(d, beta), rm, rv, sm, si, y, bn, bc, bs, training: true, momentum: 0.1f, eps: 1e-5f);
            d.BatchNormBackward(xt, T(d, gamma), sm, si, T(d, bdy), dx, dg, db, bn, bc, bs, training: true, accumulateDx: false);
            return [.. y.ToArray(), .. rm.ToArray(), .. rv.ToArray(), .. dx.ToArray(), .. dg.ToArray(), .. db.ToArray()];
        }));
        var dstInit = R(bn * (bc + 3) * bs);
        cases.Add(new("copy-channels", d =>
        {
            var dst = T(d, dstInit);
            d.CopyChannels(T(d, bx), bc, 1, dst, bc + 3, 2, bc - 1, bn, bs, accumulate: false);
            return dst.ToArray();
        }));
        AddSequenceCases(cases, R, quick);
        return cases;
    }

    /// <summary>
    /// The group reductions of the sequence and tensor kernels: reductions along a dimension, pooling over time with
    /// lengths, mask lengths, attention pooling, fused attention with key padding and a causal mask, and sums to a
    /// broadcast shape; rows longer than a group and rows of one step.
    /// </summary>
    private static void AddSequenceCases(List<Case> cases, Func<int, float, float[]> R, bool quick)
    {
        int outer = quick ? 3 : 64, size = quick ? 37 : 1000, inner = quick ? 2 : 33;
        var rx = R(outer * size * inner, 3f);
        foreach (var (op, dim) in new[] { (ReduceOp.Sum, 1), (ReduceOp.Mean, 0), (ReduceOp.Max, 1), (ReduceOp.Max, 2) })
        {
            cases.Add(new($"reduce {op.ToString().ToLowerInvariant()} dim {dim}", d =>
            {
                int[] dims = [outer, size, inner];
                var outDims = dims.Where((_, i) => i != dim).ToArray();
                var values = Nan(d, outDims);
                var indices = op == ReduceOp.Max ? Tensor.From(new long[outDims[0] * outDims[1]], d, outDims) : null;
                d.Reduce(op, T(d, rx, dims), dim, values, indices);
                return [.. values.ToArray(), .. (indices?.ToInt64Array() ?? []).Select(i => (float)i)];
            }));
        }

        int sn = quick ? 4 : 64, sc = quick ? 3 : 128, st = quick ? 19 : 300;
        var (sx, sdy) = (R(sn * sc * st, 2f), R(sn * sc, 1f));
        var lengths = Enumerable.Range(0, sn).Select(n => (long)(n == 1 ? 1 : st - (n * 7) % st)).ToArray();
        cases.Add(new("max-over-time, mean-over-time (lengths)", d =>
        {
            var (xt, lt) = (T(d, sx, sn, sc, st), Tensor.From(lengths, d, sn));
            var (max, mean, dx) = (Nan(d, sn, sc), Nan(d, sn, sc), Nan(d, sn, sc, st));
            var argmax = d.Allocate(DType.Int32, sn, sc);
            d.MaxOverTime(xt, lt, max, argmax, sn, sc, st);
            d.MeanOverTime(xt, lt, mean, sn, sc, st);
            d.MaxOverTimeBackward(T(d, sdy, sn, sc), argmax, dx, sn, sc, st, accumulate: false);
            return [.. max.ToArray(), .. mean.ToArray(), .. dx.ToArray()];
        }));
        var mask = new float[sn * st];
        for (int n = 0; n < sn; n++)
        {
            for (int t = 0; t < lengths[n]; t++)
            {
                mask[n * st + t] = 1f;
            }
        }
        cases.Add(new("mask-lengths", d =>
        {
            var l = Tensor.From(new long[sn], d, sn);
            d.MaskLengths(T(d, mask, sn, st), l, "agreement", shift: -2);
            return l.ToInt64Array().Select(v => (float)v).ToArray();
        }));

        int pd = quick ? 5 : 256;
        var (px, pc, pdy) = (R(sn * st * pd, 1f), R(pd, 0.5f), R(sn * pd, 1f));
        cases.Add(new("attention-pool forward, backward", d =>
        {
            var (xt, ct, lt) = (T(d, px, sn, st, pd), T(d, pc, pd), Tensor.From(lengths, d, sn));
            var (w, y, dx) = (Nan(d, sn, st), Nan(d, sn, pd), Nan(d, sn, st, pd));
            var dc = Tensor.Zeros(d, pd);
            d.AttentionPool(xt, ct, lt, w, y, sn, st, pd);
            d.AttentionPoolBackward(xt, ct, w, T(d, pdy, sn, pd), dx, dc, sn, st, pd, accumulateDx: false);
            return [.. w.ToArray(), .. y.ToArray(), .. dx.ToArray(), .. dc.ToArray()];
        }));

        int an = quick ? 2 : 32, heads = quick ? 2 : 4, at = quick ? 11 : 128, ad = quick ? 3 : 32;
        int ab = an * heads;
        var (aq, ak, av, ado) = (R(ab * at * ad, 1f), R(ab * at * ad, 1f), R(ab * at * ad, 1f), R(ab * at * ad, 1f));
        var pad = new float[an * at];
        for (int n = 0; n < an; n++)
        {
            for (int t = 0; t < at; t++)
            {
                pad[n * at + t] = t < at - n % 5 ? 0f : -float.MaxValue;
            }
        }
        foreach (bool causal in new[] { false, true })
        {
            cases.Add(new($"attention forward, backward ({(causal ? "causal" : "key padding")})", d =>
            {
                var (q, k, v) = (T(d, aq, ab, at, ad), T(d, ak, ab, at, ad), T(d, av, ab, at, ad));
                var padT = causal ? null : T(d, pad, an, at);
                var (o, lse, dq, dk, dv) = (Nan(d, ab, at, ad), Nan(d, ab, at), Nan(d, ab, at, ad), Nan(d, ab, at, ad), Nan(d, ab, at, ad));
                d.Attention(q, k, v, null, padT, causal, heads, float.NaN, o, lse);
                d.AttentionBackward(q, k, v, null, padT, causal, heads, float.NaN, o, lse, T(d, ado, ab, at, ad), dq, dk, dv);
                return [.. o.ToArray(), .. lse.ToArray(), .. dq.ToArray(), .. dk.ToArray(), .. dv.ToArray()];
            }));
        }

        cases.Add(new("sum-to-samples", d =>
        {
            var y = Nan(d, sn, 1, st);
            d.SumToSamples(T(d, sx, sn, sc, st), y, 0.5f, accumulate: false);
            return y.ToArray();
        }));
    }

    private static Tensor T(Device d, float[] data, params int[] shape) => Tensor.From(data, d, shape.Length == 0 ? new[] { data.Length } : shape);

    private static Tensor Nan(Device d, params int[] shape) => Tensor.Full(d, float.NaN, shape);
}
