using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu;

// RNN, LSTM and GRU layer-directions: x W_ih^T for all N*T steps in one GEMM, then per step one [N,H] x [H,G*H] GEMM
// and the cell's elementwise work on whole gate rows with TensorPrimitives. Backward runs the steps in reverse with one
// [N,G*H] x [G*H,H] GEMM each, then dx, dW_ih and dW_hh as three GEMMs over all N*T steps at once.
public sealed partial class CpuDevice
{
    protected override void RecurrentForwardCore(in RecurrentGeometry g, Tensor x, Tensor? lengths, Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh,
        Tensor? h0, Tensor? c0, Tensor output, Tensor hLast, Tensor? cLast, Tensor workspace)
    {
        const string op = nameof(RecurrentForward);
        int n = g.Batch, time = g.Time, hid = g.HiddenSize, gh = g.GateWidth, stride = g.RowWidth, off = g.OutputOffset;
        var kind = g.Kind;
        int saved = SequenceMath.SavedWidth(kind, hid);
        var lay = RecurrentWorkspace.Layout.Of(kind, n, time, hid);
        var ws = F(workspace);
        var proj = ws.Slice((int)lay.Projections, n * time * gh);
        var save = ws.Slice((int)lay.Saved, n * time * saved);
        var prevH = ws.Slice((int)lay.PrevH, n * time * hid);
        var prevC = kind == RecurrentKind.Lstm ? ws.Slice((int)lay.PrevC, n * time * hid) : default;
        var step = ws.Slice((int)lay.StepGates, n * gh);
        var h = ws.Slice((int)lay.H, n * hid);
        var c = ws.Slice((int)lay.C, n * hid);
        var tmp = ws.Slice((int)lay.StepH, n * hid);
        ReadOnlySpan<float> bih = biasIh is null ? default : F(biasIh);
        ReadOnlySpan<float> bhh = biasHh is null ? default : F(biasHh);
        var whh = F(weightHh);
        var outs = F(output);
        CheckLengths(lengths, n, time, op);

        CpuGemm.Multiply(false, true, n * time, gh, g.InputSize, 1f, F(x), F(weightIh), 0f, proj, Threads);
        if (h0 is null) h.Clear(); else F(h0).CopyTo(h);
        if (c0 is null) c.Clear(); else F(c0).CopyTo(c);

        for (int s = 0; s < time; s++)
        {
            CpuGemm.Multiply(false, true, n, gh, hid, 1f, h, whh, 0f, step, Threads);
            for (int r = 0; r < n; r++)
            {
                int len = lengths is null ? time : (int)L(lengths)[r];
                var hr = h.Slice(r * hid, hid);
                if (s >= len)
                {
                    // Padding: the state stays; the output and the saved previous state (read by dW_hh's GEMM) are 0.
                    outs.Slice((r * time + s) * stride + off, hid).Clear();
                    prevH.Slice((r * time + s) * hid, hid).Clear();
                    if (kind == RecurrentKind.Lstm)
                    {
                        prevC.Slice((r * time + s) * hid, hid).Clear();
                    }
                    continue;
                }
                int t = SequenceMath.TimeAt(s, len, g.Reverse);
                int nt = r * time + t;
                var p = proj.Slice(nt * gh, gh);
                var q = step.Slice(r * gh, gh);
                var sv = save.Slice(nt * saved, saved);
                hr.CopyTo(prevH.Slice(nt * hid, hid));
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
                        var cr = c.Slice(r * hid, hid);
                        cr.CopyTo(prevC.Slice(nt * hid, hid));
                        var i = sv[..hid];
                        var f = sv.Slice(hid, hid);
                        var gg = sv.Slice(2 * hid, hid);
                        var o = sv.Slice(3 * hid, hid);
                        TensorPrimitives.Sigmoid(q[..(2 * hid)], sv[..(2 * hid)]);
                        TensorPrimitives.Tanh(q.Slice(2 * hid, hid), gg);
                        TensorPrimitives.Sigmoid(q.Slice(3 * hid, hid), o);
                        TensorPrimitives.Multiply(cr, f, cr);
                        TensorPrimitives.MultiplyAdd(i, gg, cr, cr);
                        var tc = tmp.Slice(r * hid, hid);
                        TensorPrimitives.Tanh(cr, tc);
                        TensorPrimitives.Multiply(o, tc, hr);
                        break;
                    }
                    case RecurrentKind.Gru:
                    {
                        var rz = sv[..(2 * hid)];
                        var rg = sv[..hid];
                        var z = sv.Slice(hid, hid);
                        var ng = sv.Slice(2 * hid, hid);
                        var hn = sv.Slice(3 * hid, hid);
                        TensorPrimitives.Sigmoid(q[..(2 * hid)], rz);
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
                        throw new ArgumentOutOfRangeException(nameof(g), kind, "Unknown recurrent cell.");
                }
                hr.CopyTo(outs.Slice(nt * stride + off, hid));
            }
        }
        h.CopyTo(F(hLast));
        if (cLast is not null)
        {
            c.CopyTo(F(cLast));
        }
    }

    protected override void RecurrentBackwardCore(in RecurrentGeometry g, Tensor x, Tensor? lengths, Tensor weightIh, Tensor weightHh,
        Tensor dOutput, Tensor? dhLast, Tensor? dcLast, Tensor workspace,
        Tensor? dx, Tensor? dh0, Tensor? dc0, Tensor dWeightIh, Tensor dWeightHh, Tensor? dBiasIh, Tensor? dBiasHh, bool accumulateDx)
    {
        const string op = nameof(RecurrentBackward);
        int n = g.Batch, time = g.Time, hid = g.HiddenSize, gh = g.GateWidth, stride = g.RowWidth, off = g.OutputOffset, nt0 = n * time;
        var kind = g.Kind;
        int saved = SequenceMath.SavedWidth(kind, hid);
        var lay = RecurrentWorkspace.Layout.Of(kind, n, time, hid);
        var ws = F(workspace);
        var dgx = ws.Slice((int)lay.Projections, nt0 * gh);
        var dgh = ws.Slice((int)lay.HiddenGrad, nt0 * gh);
        var save = ws.Slice((int)lay.Saved, nt0 * saved);
        var prevH = ws.Slice((int)lay.PrevH, nt0 * hid);
        var prevC = kind == RecurrentKind.Lstm ? ws.Slice((int)lay.PrevC, nt0 * hid) : default;
        var stepG = ws.Slice((int)lay.StepGates, n * gh);
        var dh = ws.Slice((int)lay.DH, n * hid);
        var dc = ws.Slice((int)lay.DC, n * hid);
        var next = ws.Slice((int)lay.StepH, n * hid);
        var whh = F(weightHh);
        var dout = F(dOutput);
        CheckLengths(lengths, n, time, op);
        if (dhLast is null) dh.Clear(); else F(dhLast).CopyTo(dh);
        if (dcLast is null) dc.Clear(); else F(dcLast).CopyTo(dc);

        for (int s = time - 1; s >= 0; s--)
        {
            for (int r = 0; r < n; r++)
            {
                int len = lengths is null ? time : (int)L(lengths)[r];
                var dhr = dh.Slice(r * hid, hid);
                var sg = stepG.Slice(r * gh, gh);
                var nx = next.Slice(r * hid, hid);
                if (s >= len)
                {
                    // Padding: no gate gradient; the state's gradient passes through unchanged.
                    dgx.Slice((r * time + s) * gh, gh).Clear();
                    dgh.Slice((r * time + s) * gh, gh).Clear();
                    sg.Clear();
                    dhr.CopyTo(nx);
                    continue;
                }
                int t = SequenceMath.TimeAt(s, len, g.Reverse);
                int nt = r * time + t;
                TensorPrimitives.Add(dhr, dout.Slice(nt * stride + off, hid), dhr);
                var sv = save.Slice(nt * saved, saved);
                var gx = dgx.Slice(nt * gh, gh);
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
                    {
                        var cp = prevC.Slice(nt * hid, hid);
                        var dcr = dc.Slice(r * hid, hid);
                        for (int j = 0; j < hid; j++)
                        {
                            float i = sv[j], f = sv[hid + j], gg = sv[2 * hid + j], o = sv[3 * hid + j];
                            float tc = MathF.Tanh(SequenceMath.LstmCell(i, f, gg, cp[j]));
                            float dct = dcr[j] + dhr[j] * o * (1f - tc * tc);
                            gx[j] = dct * gg * i * (1f - i);
                            gx[hid + j] = dct * cp[j] * f * (1f - f);
                            gx[2 * hid + j] = dct * i * (1f - gg * gg);
                            gx[3 * hid + j] = dhr[j] * tc * o * (1f - o);
                            dcr[j] = dct * f;
                        }
                        break;
                    }
                    case RecurrentKind.Gru:
                    {
                        var hp = prevH.Slice(nt * hid, hid);
                        var gHid = dgh.Slice(nt * gh, gh);
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
                        throw new ArgumentOutOfRangeException(nameof(g), kind, "Unknown recurrent cell.");
                }
                (kind == RecurrentKind.Gru ? dgh.Slice(nt * gh, gh) : gx).CopyTo(sg);
            }
            // dh_prev = (direct part, or the unchanged gradient at padding) + dgates_h W_hh.
            CpuGemm.Multiply(false, false, n, hid, gh, 1f, stepG, whh, 1f, next, Threads);
            next.CopyTo(dh);
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
