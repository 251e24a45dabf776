using System.Numerics.Tensors;
using Dsl.Devices.Cpu.Convolution;

namespace Dsl.Devices.Cpu;

// Convolution as im2col + GEMM over a chunk of the batch (the whole batch when its columns fit ColumnBudget):
// col[C*KH*KW, n*OH*OW], then per group Y_g[OutC/G, n*OH*OW] = W_g * col_g, scattered to NCHW with the bias.
// Output channels are the GEMM rows so the long batch-times-positions dimension is the GEMM's columns.
public sealed partial class CpuDevice
{
    private ConvWorkspace? _convWorkspace;

    /// <summary>
    /// The most floats a convolution's column matrix may take; larger batches are processed in chunks of samples.
    /// 8 Mi floats (32 MiB) keeps every course network's batch in one chunk; tests lower it to exercise chunking.
    /// </summary>
    internal long ConvColumnBudget { get; set; } = 1L << 23;

    public override void Conv2d(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g)
    {
        ConvPlan.Validate(g, x, w, b, y, nameof(Conv2d), "y");
        var p = new ConvPlan(g, ConvColumnBudget);
        var xa = HostBuffers.Floats(x, nameof(Conv2d), out int xo);
        var wa = HostBuffers.Floats(w, nameof(Conv2d), out int wo);
        var ya = HostBuffers.Floats(y, nameof(Conv2d), out int yo);
        float[]? ba = b is null ? null : HostBuffers.Floats(b, nameof(Conv2d), out _);
        int bo = b is null ? 0 : (int)b.Offset;
        var ws = RentConvWorkspace();
        try
        {
            int outC = g.OutChannels;
            int sampleIn = g.InChannels * p.Plane;
            int sampleOut = outC * p.Positions;
            for (int n0 = 0; n0 < g.Batch; n0 += p.ChunkSamples)
            {
                int samples = Math.Min(p.ChunkSamples, g.Batch - n0);
                int cols = samples * p.Positions;
                float[] colArr;
                int colOff;
                if (p.Pointwise && samples == 1)
                {
                    colArr = xa;
                    colOff = xo + n0 * sampleIn;
                }
                else
                {
                    colArr = ws.Col((long)p.Rows * cols);
                    colOff = 0;
                    GatherColumns(p, xa, xo, n0, samples, colArr);
                }
                // One sample: the GEMM output [OutC, OH*OW] is already y's NCHW layout, so write it in place.
                bool direct = samples == 1;
                float[] matArr = direct ? ya : ws.Mat((long)outC * cols);
                int matOff = direct ? yo + n0 * sampleOut : 0;
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    CpuGemm.Multiply(false, false, p.GroupOutChannels, cols, p.GroupRows, 1f,
                        wa.AsSpan(wo + grp * p.GroupOutChannels * p.GroupRows, p.GroupOutChannels * p.GroupRows),
                        colArr.AsSpan(colOff + grp * p.GroupRows * cols, p.GroupRows * cols),
                        0f,
                        matArr.AsSpan(matOff + grp * p.GroupOutChannels * cols, p.GroupOutChannels * cols),
                        Threads);
                }
                int positions = p.Positions;
                int start = n0;
                ParallelRange(samples * outC, Math.Max(1, 16384 / positions), (s, e) =>
                {
                    for (int r = s; r < e; r++)
                    {
                        int i = r / outC;
                        int oc = r % outC;
                        var dst = ya.AsSpan(yo + (start + i) * sampleOut + oc * positions, positions);
                        var src = direct ? dst : matArr.AsSpan(oc * cols + i * positions, positions);
                        if (ba is not null)
                        {
                            TensorPrimitives.Add(src, ba[bo + oc], dst);
                        }
                        else if (!direct)
                        {
                            src.CopyTo(dst);
                        }
                    }
                });
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    public override void Conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor dw, Tensor? db, in Conv2dGeometry g, bool accumulateDx)
    {
        const string op = nameof(Conv2dBackward);
        ConvPlan.Validate(g, x, w, db, dy, op, "dy", "db");
        ConvPlan.Expect(dw, g.WeightLength, op, "dw", g.OutChannels, g.InChannels / g.Groups, g.KernelH, g.KernelW);
        if (dx is not null)
        {
            ConvPlan.Expect(dx, g.InputLength, op, "dx", g.Batch, g.InChannels, g.Height, g.Width);
        }
        var p = new ConvPlan(g, ConvColumnBudget);
        var xa = HostBuffers.Floats(x, op, out int xo);
        var wa = HostBuffers.Floats(w, op, out int wo);
        var dya = HostBuffers.Floats(dy, op, out int dyo);
        var dwa = HostBuffers.Floats(dw, op, out int dwo);
        float[]? dxa = dx is null ? null : HostBuffers.Floats(dx, op, out _);
        int dxo = dx is null ? 0 : (int)dx.Offset;
        Span<float> dbs = db is null ? default : F(db, op);
        var ws = RentConvWorkspace();
        try
        {
            int outC = g.OutChannels;
            int sampleIn = g.InChannels * p.Plane;
            int sampleOut = outC * p.Positions;
            int ocg = p.GroupOutChannels;
            int kg = p.GroupRows;
            for (int n0 = 0; n0 < g.Batch; n0 += p.ChunkSamples)
            {
                int samples = Math.Min(p.ChunkSamples, g.Batch - n0);
                int cols = samples * p.Positions;

                // dY as [OutC, samples*OH*OW]: dy itself for one sample, else gathered from NCHW.
                float[] dyMat;
                int dyMatOff;
                if (samples == 1)
                {
                    dyMat = dya;
                    dyMatOff = dyo + n0 * sampleOut;
                }
                else
                {
                    dyMat = ws.Mat((long)outC * cols);
                    dyMatOff = 0;
                    int positions = p.Positions;
                    int start = n0;
                    var mat = dyMat;
                    ParallelRange(samples * outC, Math.Max(1, 16384 / positions), (s, e) =>
                    {
                        for (int r = s; r < e; r++)
                        {
                            int i = r / outC;
                            int oc = r % outC;
                            dya.AsSpan(dyo + (start + i) * sampleOut + oc * positions, positions)
                                .CopyTo(mat.AsSpan(oc * cols + i * positions, positions));
                        }
                    });
                }
                if (db is not null)
                {
                    for (int oc = 0; oc < outC; oc++)
                    {
                        dbs[oc] += TensorPrimitives.Sum(dyMat.AsSpan(dyMatOff + oc * cols, cols));
                    }
                }

                float[] colArr;
                int colOff;
                if (p.Pointwise && samples == 1)
                {
                    colArr = xa;
                    colOff = xo + n0 * sampleIn;
                }
                else
                {
                    colArr = ws.Col((long)p.Rows * cols);
                    colOff = 0;
                    GatherColumns(p, xa, xo, n0, samples, colArr);
                }

                for (int grp = 0; grp < g.Groups; grp++)
                {
                    // dW_g[OutC/G, K] += dY_g[OutC/G, cols] * col_g[K, cols]^T
                    CpuGemm.Multiply(false, true, ocg, kg, cols, 1f,
                        dyMat.AsSpan(dyMatOff + grp * ocg * cols, ocg * cols),
                        colArr.AsSpan(colOff + grp * kg * cols, kg * cols),
                        1f,
                        dwa.AsSpan(dwo + grp * ocg * kg, ocg * kg),
                        Threads);
                }

                if (dxa is null)
                {
                    continue;
                }
                // dcol_g[K, cols] = W_g^T * dY_g; a pointwise single sample writes straight into dx, whose layout it already has.
                bool direct = p.Pointwise && samples == 1;
                float[] dcol = direct ? dxa : ws.DCol((long)p.Rows * cols);
                int dcolOff = direct ? dxo + n0 * sampleIn : 0;
                float beta = direct && accumulateDx ? 1f : 0f;
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    CpuGemm.Multiply(true, false, kg, cols, ocg, 1f,
                        wa.AsSpan(wo + grp * ocg * kg, ocg * kg),
                        dyMat.AsSpan(dyMatOff + grp * ocg * cols, ocg * cols),
                        beta,
                        dcol.AsSpan(dcolOff + grp * kg * cols, kg * cols),
                        Threads);
                }
                if (!direct)
                {
                    var plan = p;
                    int start = n0;
                    int work = Math.Max(1, p.KernelArea * p.Positions);
                    ParallelRange(samples * g.InChannels, Math.Max(1, 16384 / work), (s, e) =>
                        Im2Col.Scatter(plan, dcol, samples, dxa, dxo, start, s, e, accumulateDx));
                }
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    private void GatherColumns(in ConvPlan p, float[] x, int xOffset, int n0, int samples, float[] col)
    {
        var plan = p;
        int work = Math.Max(1, samples * p.Positions);
        ParallelRange(p.Rows, Math.Max(1, 16384 / work), (s, e) => Im2Col.Gather(plan, x, xOffset, n0, samples, col, s, e));
    }

    // One workspace per device; a second concurrent caller (tests running side by side) gets a fresh one instead of racing.
    private ConvWorkspace RentConvWorkspace() => Interlocked.Exchange(ref _convWorkspace, null) ?? new ConvWorkspace();

    private void ReturnConvWorkspace(ConvWorkspace ws) => Volatile.Write(ref _convWorkspace, ws);
}
