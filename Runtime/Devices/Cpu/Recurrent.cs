using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Dsl.Devices.Cpu;

// RNN, LSTM and GRU layer-directions: x W_ih^T for all N*T steps in one GEMM, then per step one [N,H] x [H,G*H] GEMM
// and the cell's elementwise work on whole gate rows with TensorPrimitives. Backward runs the steps in reverse with one
// [N,G*H] x [G*H,H] GEMM each, then dx, dW_ih and dW_hh as three GEMMs over all N*T steps at once.
public sealed partial class CpuDevice
{
    /// <summary>Below this many gate values a step's cell work runs on the calling thread: waking workers costs more.</summary>
    private const int CellInlineFloats = 1 << 14;

    protected override unsafe void RecurrentForwardCore(in RecurrentGeometry g, Tensor x, Tensor? lengths, Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh,
        Tensor? h0, Tensor? c0, Tensor output, Tensor hLast, Tensor? cLast, Tensor workspace)
    {
        const string op = nameof(RecurrentForward);
        int n = g.Batch, time = g.Time, hid = g.HiddenSize, gh = g.GateWidth;
        var lay = RecurrentWorkspace.Layout.Of(g.Kind, n, time, hid);
        var ws = F(workspace);
        var proj = ws.Slice((int)lay.Projections, n * time * gh);
        var step = ws.Slice((int)lay.StepGates, n * gh);
        var h = ws.Slice((int)lay.H, n * hid);
        var c = ws.Slice((int)lay.C, n * hid);
        ReadOnlySpan<float> bih = biasIh is null ? default : F(biasIh);
        ReadOnlySpan<float> bhh = biasHh is null ? default : F(biasHh);
        ReadOnlySpan<long> lens = lengths is null ? default : L(lengths);
        var whh = F(weightHh);
        var outs = F(output);
        CheckLengths(lengths, n, time, op);

        CpuGemm.Multiply(false, true, n * time, gh, g.InputSize, 1f, F(x), F(weightIh), 0f, proj, Threads);
        if (h0 is null) h.Clear(); else F(h0).CopyTo(h);
        if (c0 is null) c.Clear(); else F(c0).CopyTo(c);
        int parts = (long)n * gh < CellInlineFloats ? 1 : ForkJoin.Parts(n, Math.Max(1, CellInlineFloats / gh), Threads);
        fixed (float* pws = ws, pout = outs, pbih = bih, pbhh = bhh)
        fixed (long* plen = lens)
        {
            var job = new CellJob { C = new CellContext(g, lay, pws, pout, pbih, pbhh, plen) };
            for (int s = 0; s < time; s++)
            {
                CpuGemm.Multiply(false, true, n, gh, hid, 1f, h, whh, 0f, step, Threads);
                job.Step = s;
                job.Backward = false;
                ForkJoin.Run(n, parts, ref job);
            }
        }
        h.CopyTo(F(hLast));
        if (cLast is not null)
        {
            c.CopyTo(F(cLast));
        }
    }

    protected override unsafe void RecurrentBackwardCore(in RecurrentGeometry g, Tensor x, Tensor? lengths, Tensor weightIh, Tensor weightHh,
        Tensor dOutput, Tensor? dhLast, Tensor? dcLast, Tensor workspace,
        Tensor? dx, Tensor? dh0, Tensor? dc0, Tensor dWeightIh, Tensor dWeightHh, Tensor? dBiasIh, Tensor? dBiasHh, bool accumulateDx)
    {
        const string op = nameof(RecurrentBackward);
        int n = g.Batch, time = g.Time, hid = g.HiddenSize, gh = g.GateWidth, nt0 = n * time;
        var lay = RecurrentWorkspace.Layout.Of(g.Kind, n, time, hid);
        var ws = F(workspace);
        var dgx = ws.Slice((int)lay.Projections, nt0 * gh);
        var dgh = ws.Slice((int)lay.HiddenGrad, nt0 * gh);
        var prevH = ws.Slice((int)lay.PrevH, nt0 * hid);
        var stepG = ws.Slice((int)lay.StepGates, n * gh);
        var dh = ws.Slice((int)lay.DH, n * hid);
        var dc = ws.Slice((int)lay.DC, n * hid);
        var next = ws.Slice((int)lay.StepH, n * hid);
        ReadOnlySpan<long> lens = lengths is null ? default : L(lengths);
        var whh = F(weightHh);
        var dout = F(dOutput);
        CheckLengths(lengths, n, time, op);
        if (dhLast is null) dh.Clear(); else F(dhLast).CopyTo(dh);
        if (dcLast is null) dc.Clear(); else F(dcLast).CopyTo(dc);
        int parts = (long)n * gh < CellInlineFloats ? 1 : ForkJoin.Parts(n, Math.Max(1, CellInlineFloats / gh), Threads);
        fixed (float* pws = ws, pout = dout)
        fixed (long* plen = lens)
        {
            var job = new CellJob { C = new CellContext(g, lay, pws, pout, null, null, plen), Backward = true };
            for (int s = time - 1; s >= 0; s--)
            {
                job.Step = s;
                ForkJoin.Run(n, parts, ref job);
                // dh_prev = (the direct part, or the unchanged gradient at padding) + dgates_h W_hh.
                CpuGemm.Multiply(false, false, n, hid, gh, 1f, stepG, whh, 1f, next, Threads);
                next.CopyTo(dh);
            }
        }
        if (dh0 is not null) dh.CopyTo(F(dh0));
        if (dc0 is not null) dc.CopyTo(F(dc0));

        if (dx is not null)
        {
            CpuGemm.Multiply(false, false, nt0, g.InputSize, gh, 1f, dgx, F(weightIh), accumulateDx ? 1f : 0f, F(dx), Threads);
        }
        CpuGemm.Multiply(true, false, gh, g.InputSize, nt0, 1f, dgx, F(x), 1f, F(dWeightIh), Threads);
        CpuGemm.Multiply(true, false, gh, hid, nt0, 1f, dgh, prevH, 1f, F(dWeightHh), Threads);
        if (dBiasIh is not null) ColumnSums(dgx, nt0, gh, F(dBiasIh));
        if (dBiasHh is not null) ColumnSums(dgh, nt0, gh, F(dBiasHh));
    }

    /// <summary>Pointers into the pinned operands of one recurrent call, shared by the threads of a step.</summary>
    private readonly unsafe struct CellContext(in RecurrentGeometry g, in RecurrentWorkspace.Layout lay, float* ws, float* sequence, float* bih, float* bhh, long* lengths)
    {
        public readonly RecurrentGeometry G = g;
        public readonly RecurrentWorkspace.Layout Lay = lay;
        // Sequence: the output [N,T,stride] in the forward, its gradient in backward.
        public readonly float* Ws = ws, Sequence = sequence, Bih = bih, Bhh = bhh;
        public readonly long* Lengths = lengths;

        public Span<float> Region(long at, long length) => new(Ws + at, (int)length);
    }

    /// <summary>One step's cell work over a range of rows (rows are independent within a step).</summary>
    private unsafe struct CellJob : IRangeJob
    {
        public CellContext C;
        public int Step;
        public bool Backward;

        public readonly void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                if (Backward)
                {
                    BackwardRow(C, Step, r);
                }
                else
                {
                    ForwardRow(C, Step, r);
                }
            }
        }
    }

    private static unsafe void ForwardRow(in CellContext ctx, int s, int r)
    {
        var g = ctx.G;
        var lay = ctx.Lay;
        var kind = g.Kind;
        int time = g.Time, hid = g.HiddenSize, gh = g.GateWidth, stride = g.RowWidth, off = g.OutputOffset;
        int saved = SequenceMath.SavedWidth(kind, hid);
        int len = ctx.Lengths == null ? time : (int)ctx.Lengths[r];
        var hr = ctx.Region(lay.H + (long)r * hid, hid);
        if (s >= len)
        {
            // Padding: the state stays; the output and the saved previous state (read by dW_hh's GEMM) are 0.
            new Span<float>(ctx.Sequence + ((long)r * time + s) * stride + off, hid).Clear();
            ctx.Region(lay.PrevH + ((long)r * time + s) * hid, hid).Clear();
            if (kind == RecurrentKind.Lstm)
            {
                ctx.Region(lay.PrevC + ((long)r * time + s) * hid, hid).Clear();
            }
            return;
        }
        int t = SequenceMath.TimeAt(s, len, g.Reverse);
        long nt = (long)r * time + t;
        var p = ctx.Region(lay.Projections + nt * gh, gh);
        var q = ctx.Region(lay.StepGates + (long)r * gh, gh);
        var sv = ctx.Region(lay.Saved + nt * saved, saved);
        ReadOnlySpan<float> bih = ctx.Bih == null ? default : new ReadOnlySpan<float>(ctx.Bih, gh);
        ReadOnlySpan<float> bhh = ctx.Bhh == null ? default : new ReadOnlySpan<float>(ctx.Bhh, gh);
        hr.CopyTo(ctx.Region(lay.PrevH + nt * hid, hid));
        // Gate pre-activations, except the GRU's n gate whose hidden part r multiplies.
        int summed = kind == RecurrentKind.Gru ? 2 * hid : gh;
        TensorPrimitives.Add(q[..summed], p[..summed], q[..summed]);
        if (!bih.IsEmpty) TensorPrimitives.Add(q[..summed], bih[..summed], q[..summed]);
        if (!bhh.IsEmpty) TensorPrimitives.Add(q[..summed], bhh[..summed], q[..summed]);
        switch (kind)
        {
            case RecurrentKind.RnnTanh:
                TensorPrimitives.Tanh(q, hr);
                hr.CopyTo(sv);
                break;
            case RecurrentKind.RnnRelu:
                TensorPrimitives.Max(q, 0f, hr);
                hr.CopyTo(sv);
                break;
            case RecurrentKind.Lstm:
            {
                var cr = ctx.Region(lay.C + (long)r * hid, hid);
                cr.CopyTo(ctx.Region(lay.PrevC + nt * hid, hid));
                var i = sv[..hid];
                var f = sv.Slice(hid, hid);
                var gg = sv.Slice(2 * hid, hid);
                var o = sv.Slice(3 * hid, hid);
                TensorPrimitives.Sigmoid(q[..(2 * hid)], sv[..(2 * hid)]);
                TensorPrimitives.Tanh(q.Slice(2 * hid, hid), gg);
                TensorPrimitives.Sigmoid(q.Slice(3 * hid, hid), o);
                TensorPrimitives.Multiply(cr, f, cr);
                TensorPrimitives.MultiplyAdd(i, gg, cr, cr);
                var tc = ctx.Region(lay.StepH + (long)r * hid, hid);
                TensorPrimitives.Tanh(cr, tc);
                TensorPrimitives.Multiply(o, tc, hr);
                break;
            }
            case RecurrentKind.Gru:
            {
                var rg = sv[..hid];
                var z = sv.Slice(hid, hid);
                var ng = sv.Slice(2 * hid, hid);
                var hn = sv.Slice(3 * hid, hid);
                TensorPrimitives.Sigmoid(q[..(2 * hid)], sv[..(2 * hid)]);
                // hn = W_hn h + b_hn; n = tanh(W_in x + b_in + r * hn); h' = n + z (h - n).
                var qn = q.Slice(2 * hid, hid);
                if (!bhh.IsEmpty) TensorPrimitives.Add(qn, bhh.Slice(2 * hid, hid), hn); else qn.CopyTo(hn);
                TensorPrimitives.Multiply(rg, hn, ng);
                TensorPrimitives.Add(ng, p.Slice(2 * hid, hid), ng);
                if (!bih.IsEmpty) TensorPrimitives.Add(ng, bih.Slice(2 * hid, hid), ng);
                TensorPrimitives.Tanh(ng, ng);
                TensorPrimitives.Subtract(hr, ng, hr);
                TensorPrimitives.MultiplyAdd(hr, z, ng, hr);
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(ctx), kind, "Unknown recurrent cell.");
        }
        hr.CopyTo(new Span<float>(ctx.Sequence + nt * stride + off, hid));
    }

    private static unsafe void BackwardRow(in CellContext ctx, int s, int r)
    {
        var g = ctx.G;
        var lay = ctx.Lay;
        var kind = g.Kind;
        int time = g.Time, hid = g.HiddenSize, gh = g.GateWidth, stride = g.RowWidth, off = g.OutputOffset;
        int saved = SequenceMath.SavedWidth(kind, hid);
        int len = ctx.Lengths == null ? time : (int)ctx.Lengths[r];
        var dhr = ctx.Region(lay.DH + (long)r * hid, hid);
        var sg = ctx.Region(lay.StepGates + (long)r * gh, gh);
        var nx = ctx.Region(lay.StepH + (long)r * hid, hid);
        if (s >= len)
        {
            // Padding: no gate gradient; the state's gradient passes through unchanged.
            ctx.Region(lay.Projections + ((long)r * time + s) * gh, gh).Clear();
            ctx.Region(lay.HiddenGrad + ((long)r * time + s) * gh, gh).Clear();
            sg.Clear();
            dhr.CopyTo(nx);
            return;
        }
        int t = SequenceMath.TimeAt(s, len, g.Reverse);
        long nt = (long)r * time + t;
        TensorPrimitives.Add(dhr, new ReadOnlySpan<float>(ctx.Sequence + nt * stride + off, hid), dhr);
        var sv = ctx.Region(lay.Saved + nt * saved, saved);
        var gx = ctx.Region(lay.Projections + nt * gh, gh);
        nx.Clear();
        switch (kind)
        {
            case RecurrentKind.RnnTanh:
            case RecurrentKind.RnnRelu:
            {
                bool relu = kind == RecurrentKind.RnnRelu;
                for (int j = 0; j < hid; j++)
                {
                    gx[j] = dhr[j] * SequenceMath.RnnDerivative(sv[j], relu);
                }
                break;
            }
            case RecurrentKind.Lstm:
                LstmBackwardRow(sv, ctx.Region(lay.PrevC + nt * hid, hid), ctx.Region(lay.DC + (long)r * hid, hid), dhr, gx, nx);
                break;
            case RecurrentKind.Gru:
            {
                var hp = ctx.Region(lay.PrevH + nt * hid, hid);
                var gHid = ctx.Region(lay.HiddenGrad + nt * gh, gh);
                for (int j = 0; j < hid; j++)
                {
                    float rg = sv[j], z = sv[hid + j], ng = sv[2 * hid + j], hn = sv[3 * hid + j];
                    float d = dhr[j];
                    float dan = d * (1f - z) * (1f - ng * ng);
                    float dar = dan * hn * rg * (1f - rg);
                    float daz = d * (hp[j] - ng) * z * (1f - z);
                    gx[j] = gHid[j] = dar;
                    gx[hid + j] = gHid[hid + j] = daz;
                    gx[2 * hid + j] = dan;
                    gHid[2 * hid + j] = dan * rg;
                    nx[j] = d * z;
                }
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(ctx), kind, "Unknown recurrent cell.");
        }
        ctx.Region(lay.HiddenGrad + nt * gh, gh).CopyTo(sg);
    }

    /// <summary>
    /// One row of the LSTM's step backward: the gate gradients <paramref name="gx"/> [i, f, g, o] and the cell gradient
    /// carried to the previous step (<paramref name="dc"/>, updated in place) from the saved gates <paramref name="sv"/>,
    /// the previous cell state <paramref name="cp"/> and the state gradient <paramref name="dh"/>. tanh(c') is taken
    /// again over the whole row the way the forward took it (c f + i g, then <c>TensorPrimitives.Tanh</c>, in
    /// <paramref name="scratch"/>, left zero after), and the rest is one pass of 8-wide vectors with a scalar tail that
    /// evaluates the same expressions in the same order.
    /// </summary>
    private static void LstmBackwardRow(ReadOnlySpan<float> sv, ReadOnlySpan<float> cp, Span<float> dc, ReadOnlySpan<float> dh,
        Span<float> gx, Span<float> scratch)
    {
        int hid = cp.Length;
        var si = sv[..hid];
        var sf = sv.Slice(hid, hid);
        var sg = sv.Slice(2 * hid, hid);
        var so = sv.Slice(3 * hid, hid);
        var tanhC = scratch[..hid];
        TensorPrimitives.Multiply(cp, sf, tanhC);
        TensorPrimitives.MultiplyAdd(si, sg, tanhC, tanhC);
        TensorPrimitives.Tanh(tanhC, tanhC);
        var gi = gx[..hid];
        var gf = gx.Slice(hid, hid);
        var gg = gx.Slice(2 * hid, hid);
        var go = gx.Slice(3 * hid, hid);
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256.Create(1f);
            for (; j <= hid - Vector256<float>.Count; j += Vector256<float>.Count)
            {
                var i = Vector256.Create(si.Slice(j, Vector256<float>.Count));
                var f = Vector256.Create(sf.Slice(j, Vector256<float>.Count));
                var g = Vector256.Create(sg.Slice(j, Vector256<float>.Count));
                var o = Vector256.Create(so.Slice(j, Vector256<float>.Count));
                var tc = Vector256.Create((ReadOnlySpan<float>)tanhC.Slice(j, Vector256<float>.Count));
                var d = Vector256.Create(dh.Slice(j, Vector256<float>.Count));
                var dct = Vector256.Create((ReadOnlySpan<float>)dc.Slice(j, Vector256<float>.Count)) + d * o * (one - tc * tc);
                (dct * g * i * (one - i)).CopyTo(gi[j..]);
                (dct * Vector256.Create(cp.Slice(j, Vector256<float>.Count)) * f * (one - f)).CopyTo(gf[j..]);
                (dct * i * (one - g * g)).CopyTo(gg[j..]);
                (d * tc * o * (one - o)).CopyTo(go[j..]);
                (dct * f).CopyTo(dc[j..]);
            }
        }
        for (; j < hid; j++)
        {
            float i = si[j], f = sf[j], g = sg[j], o = so[j], tc = tanhC[j];
            float dct = dc[j] + dh[j] * o * (1f - tc * tc);
            gi[j] = dct * g * i * (1f - i);
            gf[j] = dct * cp[j] * f * (1f - f);
            gg[j] = dct * i * (1f - g * g);
            go[j] = dh[j] * tc * o * (1f - o);
            dc[j] = dct * f;
        }
        tanhC.Clear();
    }

    /// <summary>sums[j] += sum over rows of m[row, j].</summary>
    private static void ColumnSums(ReadOnlySpan<float> m, int rows, int cols, Span<float> sums)
    {
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(sums, m.Slice(r * cols, cols), sums);
        }
    }

    private static void CheckLengths(Tensor? lengths, int batch, int time, string op)
    {
        for (int r = 0; lengths is not null && r < batch; r++)
        {
            RowLength(lengths, r, time, op);
        }
    }
}
