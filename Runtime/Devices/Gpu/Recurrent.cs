using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

// RNN, LSTM and GRU layer-directions: the input projections of all steps as one GEMM, then per step the recurrent GEMM
// and one cell launch over [N, H]; backward mirrors it and ends with the three big GEMMs (dx, dW_ih, dW_hh) and the bias
// column sums. The workspace layout is RecurrentWorkspace's, shared with the CPU.
public sealed partial class GpuDevice
{
    internal readonly record struct CellArgs(int Kind, int Batch, int Time, int Hidden, int Stride, int Offset, int Step, int Reverse,
        int HasLengths, int HasBiasIh, int HasBiasHh);

    protected override void RecurrentForwardCore(in RecurrentGeometry g, Tensor x, Tensor? lengths, Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh,
        Tensor? h0, Tensor? c0, Tensor output, Tensor hLast, Tensor? cLast, Tensor workspace)
    {
        const string op = nameof(RecurrentForward);
        int n = g.Batch, time = g.Time, hid = g.HiddenSize, gh = g.GateWidth, nt0 = n * time;
        int saved = SequenceMath.SavedWidth(g.Kind, hid);
        var lay = RecurrentWorkspace.Layout.Of(g.Kind, n, time, hid);
        var ws = F(workspace, op);
        var proj = ws.SubView(lay.Projections, Math.Max(1, (long)nt0 * gh));
        var save = ws.SubView(lay.Saved, Math.Max(1, (long)nt0 * saved));
        var prevH = ws.SubView(lay.PrevH, Math.Max(1, (long)nt0 * hid));
        var prevC = g.Kind == RecurrentKind.Lstm ? ws.SubView(lay.PrevC, Math.Max(1, (long)nt0 * hid)) : prevH;
        var step = ws.SubView(lay.StepGates, (long)n * gh);
        var h = ws.SubView(lay.H, (long)n * hid);
        var c = ws.SubView(lay.C, (long)n * hid);
        var outv = F(output, op);
        var lv = LengthsView(lengths, op, out int has);
        var bih = biasIh is null ? step : F(biasIh, op);
        var bhh = biasHh is null ? step : F(biasHh, op);
        var whh = F(weightHh, op);

        if (nt0 > 0)
        {
            GemmViews(false, true, nt0, gh, g.InputSize, 1f, F(x, op), F(weightIh, op), 0f, proj);
        }
        CopyOrZero(h0 is null ? null : F(h0, op), h);
        CopyOrZero(c0 is null ? null : F(c0, op), c);
        var cell = Kernel(nameof(RecurrentCellForwardKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<long>, CellArgs>(RecurrentCellForwardKernel));
        for (int s = 0; s < time; s++)
        {
            GemmViews(false, true, n, gh, hid, 1f, h, whh, 0f, step);
            var args = new CellArgs((int)g.Kind, n, time, hid, g.RowWidth, g.OutputOffset, s, g.Reverse ? 1 : 0, has, biasIh is null ? 0 : 1, biasHh is null ? 0 : 1);
            cell(n * hid, proj, step, bih, bhh, save, prevH, prevC, h, c, outv, lv, args);
        }
        CopyOrZero(h, F(hLast, op));
        if (cLast is not null)
        {
            CopyOrZero(c, F(cLast, op));
        }
    }

    protected override void RecurrentBackwardCore(in RecurrentGeometry g, Tensor x, Tensor? lengths, Tensor weightIh, Tensor weightHh,
        Tensor dOutput, Tensor? dhLast, Tensor? dcLast, Tensor workspace,
        Tensor? dx, Tensor? dh0, Tensor? dc0, Tensor dWeightIh, Tensor dWeightHh, Tensor? dBiasIh, Tensor? dBiasHh, bool accumulateDx)
    {
        const string op = nameof(RecurrentBackward);
        int n = g.Batch, time = g.Time, hid = g.HiddenSize, gh = g.GateWidth, nt0 = n * time;
        int saved = SequenceMath.SavedWidth(g.Kind, hid);
        var lay = RecurrentWorkspace.Layout.Of(g.Kind, n, time, hid);
        var ws = F(workspace, op);
        var dgx = ws.SubView(lay.Projections, Math.Max(1, (long)nt0 * gh));
        var dgh = ws.SubView(lay.HiddenGrad, Math.Max(1, (long)nt0 * gh));
        var save = ws.SubView(lay.Saved, Math.Max(1, (long)nt0 * saved));
        var prevH = ws.SubView(lay.PrevH, Math.Max(1, (long)nt0 * hid));
        var prevC = g.Kind == RecurrentKind.Lstm ? ws.SubView(lay.PrevC, Math.Max(1, (long)nt0 * hid)) : prevH;
        var stepG = ws.SubView(lay.StepGates, (long)n * gh);
        var dh = ws.SubView(lay.DH, (long)n * hid);
        var dc = ws.SubView(lay.DC, (long)n * hid);
        var next = ws.SubView(lay.StepH, (long)n * hid);
        var lv = LengthsView(lengths, op, out int has);
        var whh = F(weightHh, op);
        var dout = F(dOutput, op);

        CopyOrZero(dhLast is null ? null : F(dhLast, op), dh);
        CopyOrZero(dcLast is null ? null : F(dcLast, op), dc);
        var cell = Kernel(nameof(RecurrentCellBackwardKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<long>, CellArgs>(RecurrentCellBackwardKernel));
        for (int s = time - 1; s >= 0; s--)
        {
            var args = new CellArgs((int)g.Kind, n, time, hid, g.RowWidth, g.OutputOffset, s, g.Reverse ? 1 : 0, has, 0, 0);
            cell(n * hid, dout, save, prevH, prevC, dh, dc, next, stepG, dgx, dgh, lv, args);
            GemmViews(false, false, n, hid, gh, 1f, stepG, whh, 1f, next);
            CopyOrZero(next, dh);
        }
        if (dh0 is not null)
        {
            CopyOrZero(dh, F(dh0, op));
        }
        if (dc0 is not null)
        {
            CopyOrZero(dc, F(dc0, op));
        }
        if (nt0 == 0)
        {
            if (dx is not null && !accumulateDx)
            {
                Fill(dx, 0f);
            }
            return;
        }
        if (dx is not null)
        {
            GemmViews(false, false, nt0, g.InputSize, gh, 1f, dgx, F(weightIh, op), accumulateDx ? 1f : 0f, F(dx, op));
        }
        GemmViews(true, false, gh, g.InputSize, nt0, 1f, dgx, F(x, op), 1f, F(dWeightIh, op));
        GemmViews(true, false, gh, hid, nt0, 1f, dgh, prevH, 1f, F(dWeightHh, op));
        // Bias gradients: column sums of the [N*T, gates*hidden] gate gradients, the bias-gradient group reduction with inner = 1.
        if (dBiasIh is not null)
        {
            BiasGradViews(dgx, F(dBiasIh, op), gh, 1, nt0, accumulate: true);
        }
        if (dBiasHh is not null)
        {
            BiasGradViews(dgh, F(dBiasHh, op), gh, 1, nt0, accumulate: true);
        }
    }

    /// <summary>dst = src, or 0 when <paramref name="src"/> is null.</summary>
    private void CopyOrZero(ArrayView<float>? src, ArrayView<float> dst)
    {
        if (dst.Length == 0)
        {
            return;
        }
        if (src is null)
        {
            Kernel(nameof(SequenceFillKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(SequenceFillKernel))((int)dst.Length, dst, 0f);
        }
        else
        {
            Kernel(nameof(SequenceCopyKernel), a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(SequenceCopyKernel))((int)dst.Length, src.Value, dst);
        }
    }

    internal static void SequenceFillKernel(Index1D i, ArrayView<float> y, float value) => y[i] = value;

    internal static void SequenceCopyKernel(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = x[i];

    /// <summary>
    /// One step of the cell for (row, unit j), all gates of unit j in one thread; step[] holds h W_hh^T. Padding steps leave
    /// the state and write zero outputs and previous states (as the CPU).
    /// </summary>
    internal static void RecurrentCellForwardKernel(Index1D i, ArrayView<float> proj, ArrayView<float> step, ArrayView<float> bih, ArrayView<float> bhh,
        ArrayView<float> save, ArrayView<float> prevH, ArrayView<float> prevC, ArrayView<float> h, ArrayView<float> c, ArrayView<float> output,
        ArrayView<long> lengths, CellArgs a)
    {
        int hid = a.Hidden;
        int r = i / hid;
        int j = i - r * hid;
        int len = KernelLength(lengths, a.HasLengths, r, a.Time);
        int s = a.Step;
        if (s >= len)
        {
            int pad = r * a.Time + s;
            output[pad * a.Stride + a.Offset + j] = 0f;
            prevH[pad * hid + j] = 0f;
            if (a.Kind == (int)RecurrentKind.Lstm)
            {
                prevC[pad * hid + j] = 0f;
            }
            return;
        }
        int t = SequenceMath.TimeAt(s, len, a.Reverse != 0);
        int nt = r * a.Time + t;
        int gates = a.Kind == (int)RecurrentKind.Lstm ? 4 : a.Kind == (int)RecurrentKind.Gru ? 3 : 1;
        int gh = gates * hid;
        float hOld = h[i];
        prevH[nt * hid + j] = hOld;
        float hNew;
        if (a.Kind == (int)RecurrentKind.Lstm)
        {
            float iv = SequenceMath.Sigmoid(Pre(proj, step, bih, bhh, a, nt, r, gh, 0 * hid + j));
            float fv = SequenceMath.Sigmoid(Pre(proj, step, bih, bhh, a, nt, r, gh, 1 * hid + j));
            float gv = MathF.Tanh(Pre(proj, step, bih, bhh, a, nt, r, gh, 2 * hid + j));
            float ov = SequenceMath.Sigmoid(Pre(proj, step, bih, bhh, a, nt, r, gh, 3 * hid + j));
            float cOld = c[i];
            prevC[nt * hid + j] = cOld;
            float cNew = SequenceMath.LstmCell(iv, fv, gv, cOld);
            c[i] = cNew;
            hNew = ov * MathF.Tanh(cNew);
            int sv = nt * 4 * hid;
            save[sv + j] = iv;
            save[sv + hid + j] = fv;
            save[sv + 2 * hid + j] = gv;
            save[sv + 3 * hid + j] = ov;
        }
        else if (a.Kind == (int)RecurrentKind.Gru)
        {
            float rv = SequenceMath.Sigmoid(Pre(proj, step, bih, bhh, a, nt, r, gh, j));
            float zv = SequenceMath.Sigmoid(Pre(proj, step, bih, bhh, a, nt, r, gh, hid + j));
            int k = 2 * hid + j;
            float hn = step[r * gh + k] + (a.HasBiasHh != 0 ? bhh[k] : 0f);
            float nv = MathF.Tanh(proj[nt * gh + k] + (a.HasBiasIh != 0 ? bih[k] : 0f) + rv * hn);
            hNew = SequenceMath.GruState(zv, nv, hOld);
            int sv = nt * 4 * hid;
            save[sv + j] = rv;
            save[sv + hid + j] = zv;
            save[sv + 2 * hid + j] = nv;
            save[sv + 3 * hid + j] = hn;
        }
        else
        {
            hNew = SequenceMath.RnnActivation(Pre(proj, step, bih, bhh, a, nt, r, gh, j), a.Kind == (int)RecurrentKind.RnnRelu);
            save[nt * hid + j] = hNew;
        }
        h[i] = hNew;
        output[nt * a.Stride + a.Offset + j] = hNew;
    }

    /// <summary>The summed pre-activation of gate column <paramref name="k"/>: x W_ih^T + b_ih + h W_hh^T + b_hh.</summary>
    private static float Pre(ArrayView<float> proj, ArrayView<float> step, ArrayView<float> bih, ArrayView<float> bhh, CellArgs a, int nt, int r, int gh, int k)
        => proj[nt * gh + k] + step[r * gh + k] + (a.HasBiasIh != 0 ? bih[k] : 0f) + (a.HasBiasHh != 0 ? bhh[k] : 0f);

    /// <summary>
    /// One step of backpropagation through time for (row, unit j): the gate gradients (input side into dgx, hidden side into
    /// dgh and stepG for this step's GEMM), the cell state's gradient, and next = the direct part of dh_prev (the unchanged
    /// dh at padding), to which the host adds stepG W_hh.
    /// </summary>
    internal static void RecurrentCellBackwardKernel(Index1D i, ArrayView<float> dout, ArrayView<float> save, ArrayView<float> prevH, ArrayView<float> prevC,
        ArrayView<float> dh, ArrayView<float> dc, ArrayView<float> next, ArrayView<float> stepG, ArrayView<float> dgx, ArrayView<float> dgh,
        ArrayView<long> lengths, CellArgs a)
    {
        int hid = a.Hidden;
        int r = i / hid;
        int j = i - r * hid;
        int len = KernelLength(lengths, a.HasLengths, r, a.Time);
        int s = a.Step;
        int gates = a.Kind == (int)RecurrentKind.Lstm ? 4 : a.Kind == (int)RecurrentKind.Gru ? 3 : 1;
        int gh = gates * hid;
        if (s >= len)
        {
            int pad = r * a.Time + s;
            for (int k = 0; k < gates; k++)
            {
                dgx[pad * gh + k * hid + j] = 0f;
                dgh[pad * gh + k * hid + j] = 0f;
                stepG[r * gh + k * hid + j] = 0f;
            }
            next[i] = dh[i];
            return;
        }
        int t = SequenceMath.TimeAt(s, len, a.Reverse != 0);
        int nt = r * a.Time + t;
        float d = dh[i] + dout[nt * a.Stride + a.Offset + j];
        int gx = nt * gh;
        if (a.Kind == (int)RecurrentKind.Lstm)
        {
            int sv = nt * 4 * hid;
            float iv = save[sv + j], fv = save[sv + hid + j], gv = save[sv + 2 * hid + j], ov = save[sv + 3 * hid + j];
            float cp = prevC[nt * hid + j];
            float tc = MathF.Tanh(SequenceMath.LstmCell(iv, fv, gv, cp));
            float dct = dc[i] + d * ov * (1f - tc * tc);
            float di = dct * gv * iv * (1f - iv);
            float df = dct * cp * fv * (1f - fv);
            float dg = dct * iv * (1f - gv * gv);
            float dov = d * tc * ov * (1f - ov);
            dgx[gx + j] = di;
            dgx[gx + hid + j] = df;
            dgx[gx + 2 * hid + j] = dg;
            dgx[gx + 3 * hid + j] = dov;
            stepG[r * gh + j] = di;
            stepG[r * gh + hid + j] = df;
            stepG[r * gh + 2 * hid + j] = dg;
            stepG[r * gh + 3 * hid + j] = dov;
            dc[i] = dct * fv;
            next[i] = 0f;
        }
        else if (a.Kind == (int)RecurrentKind.Gru)
        {
            int sv = nt * 4 * hid;
            float rv = save[sv + j], zv = save[sv + hid + j], nv = save[sv + 2 * hid + j], hn = save[sv + 3 * hid + j];
            float dan = d * (1f - zv) * (1f - nv * nv);
            float dar = dan * hn * rv * (1f - rv);
            float daz = d * (prevH[nt * hid + j] - nv) * zv * (1f - zv);
            dgx[gx + j] = dar;
            dgx[gx + hid + j] = daz;
            dgx[gx + 2 * hid + j] = dan;
            dgh[gx + j] = dar;
            dgh[gx + hid + j] = daz;
            dgh[gx + 2 * hid + j] = dan * rv;
            stepG[r * gh + j] = dar;
            stepG[r * gh + hid + j] = daz;
            stepG[r * gh + 2 * hid + j] = dan * rv;
            next[i] = d * zv;
        }
        else
        {
            float da = d * SequenceMath.RnnDerivative(save[nt * hid + j], a.Kind == (int)RecurrentKind.RnnRelu);
            dgx[gx + j] = da;
            stepG[r * gh + j] = da;
            next[i] = 0f;
        }
    }
}
