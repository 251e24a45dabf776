using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu;

// Convolution as im2col + GEMM with output channels as the GEMM rows, so the long samples-times-positions dimension is
// the GEMM's columns. The batch is split over threads (BatchSplitConv): each thread builds the columns of a few samples
// at a time in its own L2-sized buffer and multiplies them by the weights, packed once per call. Stride-1 convolutions
// of 1-high images (Conv1d) skip im2col: one GEMM per kernel tap over the whole batch's columns (DirectConv1d); 3x3
// stride-1 "same" layers read zero-bordered copies of the input planes with register-blocked tiles (DirectConv2d). The
// choice per geometry is ConvPlan.Choose's. Backward is im2col + GEMM except for the Conv1d path and the direct 3x3
// path's input gradient (a direct 3x3 convolution of dy with the flipped, transposed kernel).
public sealed partial class CpuDevice
{
    private ConvWorkspace? _convWorkspace;

    /// <summary>
    /// The most floats a convolution's column matrix may take per chunk of samples; a chunk is also capped to stay in L2
    /// (<see cref="BatchSplitConv.ChunkFloats"/>). Tests lower it to exercise chunking.
    /// </summary>
    internal long ConvColumnBudget { get; set; } = 1L << 23;

    /// <summary>
    /// Forces the forward algorithm of convolutions on this device (tests and <c>bench conv</c> compare the candidates);
    /// null (the default) lets the device choose per geometry. A forced algorithm that cannot compute a geometry throws.
    /// </summary>
    public ConvAlgorithm? ConvAlgorithmOverride { get; set; }

    /// <summary>The forward algorithm the device chooses for <paramref name="g"/> when none is forced.</summary>
    public static ConvAlgorithm ChosenConvAlgorithm(in Conv2dGeometry g) => ConvPlan.Choose(g);

    /// <summary>Whether <paramref name="algorithm"/> can compute <paramref name="g"/>.</summary>
    public static bool ConvAlgorithmSupports(ConvAlgorithm algorithm, in Conv2dGeometry g) => ConvPlan.Supports(algorithm, g);

    protected override void Conv2dCore(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g, bool relu)
    {
        ConvAlgorithm algorithm = ConvAlgorithmOverride ?? ConvPlan.Choose(g);
        if (!ConvPlan.Supports(algorithm, g))
        {
            throw new ArgumentException($"{nameof(Conv2d)}: the {algorithm} algorithm cannot compute {g}.");
        }
        switch (algorithm)
        {
            case ConvAlgorithm.DirectConv1d:
                Conv1dDirect(x, w, b, y, g, relu);
                break;
            case ConvAlgorithm.Direct3x3:
                Conv3x3Direct(x, w, b, y, g, relu);
                break;
            case ConvAlgorithm.Im2ColGemm:
                ConvIm2Col(x, w, b, y, g, relu);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown convolution algorithm");
        }
    }

    // 3x3, stride 1, padding 1: the batch's planes copied once into zero-bordered planes, then register-blocked tiles.
    private unsafe void Conv3x3Direct(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g, bool relu)
    {
        const string op = nameof(Conv2d);
        var l = new DirectConv2d.Layout(g);
        var xa = HostBuffers.Floats(x, op, out int xo);
        var wa = HostBuffers.Floats(w, op, out int wo);
        var ya = HostBuffers.Floats(y, op, out int yo);
        float[]? ba = b is null ? null : HostBuffers.Floats(b, op, out _);
        int bo = b is null ? 0 : (int)b.Offset;
        var ws = RentConvWorkspace();
        try
        {
            float[] packed = ws.Weights(l.PackedWeightLength);
            float[] padded = ws.Columns(l.PaddedLength);
            fixed (float* px = xa, pw = wa, py = ya, pb = ba, pp = packed, pxp = padded)
            {
                DirectConv2d.PackWeights(l, pw + wo, pp);
                int planes = g.Batch * g.InChannels;
                var pad = new DirectConv2d.PadJob { L = l, X = px + xo, Xp = pxp };
                ForkJoin.Run(planes, ForkJoin.Parts(planes, 4, Threads), ref pad);
                int items = g.Batch * l.OcBlocks * l.Tiles;
                var job = new DirectConv2d.ForwardJob
                {
                    L = l, Kind = CpuGemm.CurrentKernel, Xp = pxp, PackedW = pp, Y = py + yo, Bias = pb == null ? null : pb + bo, Relu = relu,
                };
                ForkJoin.Run(items, Math.Min(Threads, ForkJoin.MaxParts), ref job);
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    private unsafe void ConvIm2Col(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g, bool relu)
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
                    X = xa, XOffset = xo, PackedW = pp, Y = py + yo, Bias = pb == null ? null : pb + bo, Relu = relu,
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
        if (DirectConv1d.Applies(g))
        {
            Conv1dDirectBackward(x, w, dy, dx, dw, db, g, accumulateDx);
            return;
        }
        if (dx is not null && (ConvAlgorithmOverride ?? ConvPlan.Choose(g)) == ConvAlgorithm.Direct3x3 && DirectConv2d.Applies(g))
        {
            // dW and db from im2col + GEMM; dx is itself a direct 3x3 convolution of dy (DirectConv2d.InputGradientGeometry).
            ConvIm2ColBackward(x, w, dy, null, dw, db, g, accumulateDx);
            Conv3x3DirectInputGradient(w, dy, dx, g, accumulateDx);
            return;
        }
        ConvIm2ColBackward(x, w, dy, dx, dw, db, g, accumulateDx);
    }

    private unsafe void Conv3x3DirectInputGradient(Tensor w, Tensor dy, Tensor dx, in Conv2dGeometry g, bool accumulateDx)
    {
        const string op = nameof(Conv2dBackward);
        var gt = DirectConv2d.InputGradientGeometry(g);
        var l = new DirectConv2d.Layout(gt);
        var wa = HostBuffers.Floats(w, op, out int wo);
        var dya = HostBuffers.Floats(dy, op, out int dyo);
        var dxa = HostBuffers.Floats(dx, op, out int dxo);
        var ws = RentConvWorkspace();
        try
        {
            float[] packed = ws.Weights(l.PackedWeightLength);
            float[] padded = ws.Gradients(l.PaddedLength);
            fixed (float* pw = wa, pdy = dya, pdx = dxa, pp = packed, pdyp = padded)
            {
                DirectConv2d.PackWeightsTransposed(l, pw + wo, pp);
                int planes = gt.Batch * gt.InChannels;
                var pad = new DirectConv2d.PadJob { L = l, X = pdy + dyo, Xp = pdyp };
                ForkJoin.Run(planes, ForkJoin.Parts(planes, 4, Threads), ref pad);
                int items = gt.Batch * l.OcBlocks * l.Tiles;
                var job = new DirectConv2d.ForwardJob
                {
                    L = l, Kind = CpuGemm.CurrentKernel, Xp = pdyp, PackedW = pp, Y = pdx + dxo, Accumulate = accumulateDx,
                };
                ForkJoin.Run(items, Math.Min(Threads, ForkJoin.MaxParts), ref job);
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    private unsafe void ConvIm2ColBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor dw, Tensor? db, in Conv2dGeometry g, bool accumulateDx)
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

    // Stride-1 convolution along one axis (Conv1d): the batch's columns side by side, one GEMM per kernel tap (DirectConv1d).
    private unsafe void Conv1dDirect(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g, bool relu)
    {
        const string op = nameof(Conv2d);
        GemmKernel kind = CpuGemm.CurrentKernel;
        int mr = PackedGemm.Mr(kind), nr = PackedGemm.Nr(kind);
        var l = new DirectConv1d.Layout(g, nr);
        var xa = HostBuffers.Floats(x, op, out int xo);
        var wa = HostBuffers.Floats(w, op, out int wo);
        var ya = HostBuffers.Floats(y, op, out int yo);
        float[]? ba = b is null ? null : HostBuffers.Floats(b, op, out _);
        int bo = b is null ? 0 : (int)b.Offset;
        var ws = RentConvWorkspace();
        try
        {
            float[] packed = ws.Weights(g.WeightLength);
            float[] columns = ws.Columns(l.XcLength);
            fixed (float* px = xa, pw = wa, py = ya, pb = ba, pp = packed, pxc = columns)
            {
                DirectConv1d.PackWeights(l, pw + wo, mr, pp);
                var layout = new DirectConv1d.LayoutJob { L = l, X = px + xo, Xc = pxc };
                ForkJoin.Run(g.InChannels, ForkJoin.Parts(g.InChannels, 8, Threads), ref layout);
                int parts = Math.Min(Math.Min(Threads, g.Batch), ForkJoin.MaxParts);
                var job = new DirectConv1d.ForwardJob
                {
                    L = l, Kind = kind, Mr = mr, Nr = nr, Chunk = l.ChunkSamples((g.Batch + parts - 1) / parts),
                    Xc = pxc, PackedW = pp, Y = py + yo, Bias = pb == null ? null : pb + bo, Relu = relu,
                };
                ForkJoin.Run(g.Batch, parts, ref job);
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    private unsafe void Conv1dDirectBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor dw, Tensor? db, in Conv2dGeometry g, bool accumulateDx)
    {
        const string op = nameof(Conv2dBackward);
        GemmKernel kind = CpuGemm.CurrentKernel;
        int mr = PackedGemm.Mr(kind), nr = PackedGemm.Nr(kind);
        var l = new DirectConv1d.Layout(g, nr);
        var xa = HostBuffers.Floats(x, op, out int xo);
        var wa = HostBuffers.Floats(w, op, out int wo);
        var dya = HostBuffers.Floats(dy, op, out int dyo);
        var dwa = HostBuffers.Floats(dw, op, out int dwo);
        float[]? dxa = dx is null ? null : HostBuffers.Floats(dx, op, out _);
        int dxo = dx is null ? 0 : (int)dx.Offset;
        float[]? dba = db is null ? null : HostBuffers.Floats(db, op, out _);
        int dbo = db is null ? 0 : (int)db.Offset;
        var ws = RentConvWorkspace();
        try
        {
            float[] packed = ws.Weights(g.WeightLength);
            float[] gradients = ws.Gradients(l.DycLength);
            float[] transposed = ws.Transposed(l.XcTLength(nr));
            float[] packedDy = ws.PackedGradients((long)g.OutChannels * l.Cols);
            fixed (float* px = xa, pw = wa, pdy = dya, pdw = dwa, pdx = dxa, pdb = dba, pp = packed, pdyc = gradients,
                pxt = transposed, ppdy = packedDy)
            {
                int rows = g.Batch + g.OutChannels;
                var layout = new DirectConv1d.LayoutJob { L = l, First = g.InChannels, Dy = pdy + dyo, Dyc = pdyc };
                ForkJoin.Run(g.OutChannels, ForkJoin.Parts(g.OutChannels, 8, Threads), ref layout);
                var gradientLayout = new DirectConv1d.GradientLayoutJob { L = l, Mr = mr, X = px + xo, Dy = pdy + dyo, XcT = pxt, PackedDy = ppdy };
                ForkJoin.Run(rows, ForkJoin.Parts(rows, 8, Threads), ref gradientLayout);
                int items = DirectConv1d.GradientItems(l);
                var grads = new DirectConv1d.WeightGradientJob
                {
                    L = l, Kind = kind, Mr = mr, Nr = nr, XcT = pxt, PackedDy = ppdy, Dyc = pdyc,
                    Dw = pdw + dwo, Db = pdb == null ? null : pdb + dbo,
                };
                ForkJoin.Run(items, Math.Min(Threads, ForkJoin.MaxParts), ref grads);
                if (pdx != null)
                {
                    DirectConv1d.PackWeightsTransposed(l, pw + wo, mr, pp);
                    int parts = Math.Min(Math.Min(Threads, g.Batch), ForkJoin.MaxParts);
                    var job = new DirectConv1d.InputGradientJob
                    {
                        L = l, Kind = kind, Mr = mr, Nr = nr, Chunk = l.ChunkSamples((g.Batch + parts - 1) / parts),
                        Dyc = pdyc, PackedWT = pp, Dx = pdx + dxo, Accumulate = accumulateDx,
                    };
                    ForkJoin.Run(g.Batch, parts, ref job);
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
