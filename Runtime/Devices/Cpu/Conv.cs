using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu;

// Convolution as im2col + GEMM with output channels as the GEMM rows, so the long samples-times-positions dimension is
// the GEMM's columns. The batch is split over threads (BatchSplitConv): each thread builds the columns of a few samples
// at a time in its own L2-sized buffer and multiplies them by the weights, packed once per call.
public sealed partial class CpuDevice
{
    private ConvWorkspace? _convWorkspace;

    /// <summary>
    /// The most floats a convolution's column matrix may take per chunk of samples; a chunk is also capped to stay in L2
    /// (<see cref="BatchSplitConv.ChunkFloats"/>). Tests lower it to exercise chunking.
    /// </summary>
    internal long ConvColumnBudget { get; set; } = 1L << 23;

    protected override unsafe void Conv2dCore(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g)
    {
        var p = new ConvPlan(g, ConvColumnBudget);
        var xa = HostBuffers.Floats(x, nameof(Conv2d), out int xo);
        var wa = HostBuffers.Floats(w, nameof(Conv2d), out int wo);
        var ya = HostBuffers.Floats(y, nameof(Conv2d), out int yo);
        float[]? ba = b is null ? null : HostBuffers.Floats(b, nameof(Conv2d), out _);
        int bo = b is null ? 0 : (int)b.Offset;
        GemmKernel kind = CpuGemm.CurrentKernel;
        int mr = PackedGemm.Mr(kind);
        int parts = Math.Min(Math.Min(Threads, g.Batch), ForkJoin.MaxParts);
        var ws = RentConvWorkspace();
        try
        {
            float[] packed = ws.Weights(g.WeightLength);
            fixed (float* pw = wa, py = ya, pb = ba, pp = packed)
            {
                BatchSplitConv.PackWeights(p, pw + wo, mr, pp);
                var job = new BatchSplitConv.ForwardJob
                {
                    Plan = p, Kind = kind, Mr = mr, Nr = PackedGemm.Nr(kind),
                    Chunk = BatchSplitConv.ChunkSamples(p, ConvColumnBudget, (g.Batch + parts - 1) / parts),
                    X = xa, XOffset = xo, PackedW = pp, Y = py + yo, Bias = pb == null ? null : pb + bo,
                };
                ForkJoin.Run(g.Batch, parts, ref job);
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    protected override unsafe void Conv2dBackwardCore(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor dw, Tensor? db, in Conv2dGeometry g, bool accumulateDx)
    {
        const string op = nameof(Conv2dBackward);
        var p = new ConvPlan(g, ConvColumnBudget);
        var xa = HostBuffers.Floats(x, op, out int xo);
        var wa = HostBuffers.Floats(w, op, out int wo);
        var dya = HostBuffers.Floats(dy, op, out int dyo);
        var dwa = HostBuffers.Floats(dw, op, out int dwo);
        float[]? dxa = dx is null ? null : HostBuffers.Floats(dx, op, out _);
        int dxo = dx is null ? 0 : (int)dx.Offset;
        float[]? dba = db is null ? null : HostBuffers.Floats(db, op, out _);
        int dbo = db is null ? 0 : (int)db.Offset;
        GemmKernel kind = CpuGemm.CurrentKernel;
        int mr = PackedGemm.Mr(kind);
        int parts = Math.Min(Math.Min(Threads, g.Batch), ForkJoin.MaxParts);
        int weightLength = (int)g.WeightLength;
        int outC = g.OutChannels;
        var ws = RentConvWorkspace();
        try
        {
            float[] packed = ws.Weights(g.WeightLength);
            float[][] partials = ws.Parts(parts - 1, weightLength + outC);
            fixed (float* pw = wa, pdy = dya, pdw = dwa, pdb = dba, pp = packed)
            {
                if (dxa is not null)
                {
                    BatchSplitConv.PackWeightsTransposed(p, pw + wo, mr, pp);
                }
                var job = new BatchSplitConv.BackwardJob
                {
                    Plan = p, Kind = kind, Mr = mr, Nr = PackedGemm.Nr(kind), Parts = parts, Batch = g.Batch,
                    Chunk = BatchSplitConv.ChunkSamples(p, ConvColumnBudget, (g.Batch + parts - 1) / parts, BatchSplitConv.BackwardChunkFloats),
                    X = xa, XOffset = xo, Dy = pdy + dyo, Dw = pdw + dwo, Db = pdb == null ? null : pdb + dbo,
                    PackedWT = pp, Dx = dxa, DxOffset = dxo, AccumulateDx = accumulateDx, DwParts = partials,
                };
                ForkJoin.Run(g.Batch, parts, ref job);
                for (int t = 0; t < parts - 1; t++)
                {
                    var part = partials[t];
                    System.Numerics.Tensors.TensorPrimitives.Add(new Span<float>(pdw + dwo, weightLength), part.AsSpan(0, weightLength), new Span<float>(pdw + dwo, weightLength));
                    if (pdb != null)
                    {
                        System.Numerics.Tensors.TensorPrimitives.Add(new Span<float>(pdb + dbo, outC), part.AsSpan(weightLength, outC), new Span<float>(pdb + dbo, outC));
                    }
                }
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    // One workspace per device; a second concurrent caller (tests running side by side) gets a fresh one instead of racing.
    private ConvWorkspace RentConvWorkspace() => Interlocked.Exchange(ref _convWorkspace, null) ?? new ConvWorkspace();

    private void ReturnConvWorkspace(ConvWorkspace ws) => Volatile.Write(ref _convWorkspace, ws);
}
