using Dsl.Devices.Cpu.Convolution;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu;

// Convolution as im2col + GEMM with output channels as the GEMM rows, so the long samples-times-positions dimension is
// the GEMM's columns. The batch is split over threads (BatchSplitConv): each thread builds the columns of a few samples
// at a time in its own L2-sized buffer and multiplies them by the weights, packed once per call. Stride-1 convolutions
// of 1-high images (Conv1d) skip im2col: one GEMM per kernel tap over the whole batch's columns (DirectConv1d); 3x3
// stride-1 "same" layers read zero-bordered copies of the input planes with register-blocked tiles (DirectConv2d); with
// 512-bit vectors, 5x5 stride-1 and 3x3 stride-2 layers run in the blocked channel layout (BlockedConv: each sample
// copied into blocks of 16 channels, tiles of pixels x 32 output channels). The choice per geometry and GEMM kernel width
// is ConvPlan.Choose's (with 512-bit kernels it never takes the 256-bit direct kernels, nor Winograd in the blocked
// layout, BlockedWinograd, which only a forced algorithm runs). Backward is im2col + GEMM except
// for the Conv1d path, the input gradients of the direct, Winograd and stride-1 blocked paths (a convolution of dy with
// the flipped, transposed kernel, or for DirectKxK's strides its gather form) and the weight gradient
// of 3x3 stride-1 "same" layers (a direct reduction, WeightGradient3x3), of 5x5 stride-1 layers (an outer-product
// reduction over dy transposed to rows of channels, WeightGradientKxK) and of kernels up to 3 wide at any stride (a GEMM
// over implicit im2col columns, WeightGradientImplicitGemm); ConvPlan.ChooseWeightGradient decides.
public sealed partial class CpuDevice
{
    private readonly ConvWorkspace?[] _convWorkspaces = new ConvWorkspace?[ForkJoin.MaxParts + 1];
    private readonly WinogradConv.WeightCache _winogradWeights = new();

    /// <summary>How many times a Winograd convolution transformed its weights (for tests of <see cref="WinogradConv.WeightCache"/>).</summary>
    internal long WinogradWeightTransforms => _winogradWeights.Transforms;

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
    public static ConvAlgorithm ChosenConvAlgorithm(in Conv2dGeometry g) => ConvPlan.Choose(g, CpuGemm.CurrentKernel);

    /// <summary>The algorithm whose kernel computes the input gradient of <paramref name="g"/> when none is forced (a forced one computes both).</summary>
    public static ConvAlgorithm ChosenInputGradient(in Conv2dGeometry g) => ConvPlan.ChooseInputGradient(g, CpuGemm.CurrentKernel);

    /// <summary>Whether <paramref name="algorithm"/> can compute <paramref name="g"/>.</summary>
    public static bool ConvAlgorithmSupports(ConvAlgorithm algorithm, in Conv2dGeometry g) => ConvPlan.Supports(algorithm, g);

    protected override void Conv2dCore(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g, bool relu)
    {
        ConvAlgorithm algorithm = ConvAlgorithmOverride ?? ConvPlan.Choose(g, CpuGemm.CurrentKernel);
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
            case ConvAlgorithm.DirectKxK:
                ConvKxKDirect(x, w, b, y, g, relu);
                break;
            case ConvAlgorithm.Winograd:
                ConvWinograd(x, w, b, null, y, g, relu, blocked: false);
                break;
            case ConvAlgorithm.Blocked:
                RunBlocked(BlockedConv.ForwardPass(g), x, w, b, y, relu, accumulate: false, nameof(Conv2d));
                break;
            case ConvAlgorithm.BlockedWinograd:
                ConvWinograd(x, w, b, null, y, g, relu, blocked: true);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown convolution algorithm");
        }
    }

    // Winograd adds the residual in its output transform, while the tile is in registers; the other algorithms store the
    // convolution, then add it in a second pass (Device's default).
    protected override void Conv2dResidualCore(Tensor x, Tensor w, Tensor? b, Tensor residual, Tensor y, in Conv2dGeometry g, bool relu)
    {
        ConvAlgorithm algorithm = ConvAlgorithmOverride ?? ConvPlan.Choose(g, CpuGemm.CurrentKernel);
        if ((algorithm is ConvAlgorithm.Winograd or ConvAlgorithm.BlockedWinograd) && ConvPlan.Supports(algorithm, g))
        {
            ConvWinograd(x, w, b, residual, y, g, relu, blocked: algorithm == ConvAlgorithm.BlockedWinograd);
            return;
        }
        base.Conv2dResidualCore(x, w, b, residual, y, g, relu);
    }

    // 3x3, stride 1, padding 1: the batch's planes copied once into zero-bordered planes, then register-blocked tiles.
    private unsafe void Conv3x3Direct(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g, bool relu)
    {
        const string op = nameof(Conv2d);
        var l = new DirectConv2d.Layout(g);
        var xa = HostBuffers.Floats(x, op, out int xo);
        var wa = HostBuffers.Floats(w, op, out int wo);
        var ya = HostBuffers.Floats(y, op, out int yo);
        float[]? ba = HostBuffers.FloatsOrNull(b, op, out int bo);
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
                ForkJoin.RunBalanced(items, 1, Threads, ref job);
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
        float[]? ba = HostBuffers.FloatsOrNull(b, nameof(Conv2d), out int bo);
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
                ForkJoin.RunBalanced(g.Batch, 1, parts, ref job);
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    /// <summary>
    /// Forces the weight-gradient algorithm of convolutions on this device (tests and <c>bench conv</c> compare the
    /// candidates); null (the default) lets the device choose per geometry. A forced algorithm that cannot compute a
    /// geometry throws. The Conv1d path (<see cref="ConvAlgorithm.DirectConv1d"/>) keeps its own weight gradient.
    /// </summary>
    public WeightGradientAlgorithm? WeightGradientOverride { get; set; }

    /// <summary>The weight-gradient algorithm the device chooses for <paramref name="g"/> when none is forced.</summary>
    public static WeightGradientAlgorithm ChosenWeightGradient(in Conv2dGeometry g) => ConvPlan.ChooseWeightGradient(g, CpuGemm.CurrentKernel);

    /// <summary>Whether <paramref name="algorithm"/> can compute the weight gradient of <paramref name="g"/>.</summary>
    public static bool WeightGradientSupports(WeightGradientAlgorithm algorithm, in Conv2dGeometry g) => ConvPlan.SupportsWeightGradient(algorithm, g);

    protected override unsafe void Conv2dBackwardCore(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor dw, Tensor? db, in Conv2dGeometry g, bool accumulateDx)
    {
        if (DirectConv1d.Applies(g))
        {
            Conv1dDirectBackward(x, w, dy, dx, dw, db, g, accumulateDx);
            return;
        }
        WeightGradientAlgorithm dwAlgorithm = WeightGradientOverride ?? ChosenWeightGradient(g);
        if (!ConvPlan.SupportsWeightGradient(dwAlgorithm, g))
        {
            throw new ArgumentException($"{nameof(Conv2dBackward)}: the {dwAlgorithm} weight gradient cannot compute {g}.");
        }
        Tensor? dwRest = dw, dbRest = db;
        switch (dwAlgorithm)
        {
            case WeightGradientAlgorithm.Direct3x3:
                Conv3x3WeightGradient(x, dy, dw, db, g);
                dwRest = null;
                dbRest = null;
                break;
            case WeightGradientAlgorithm.DirectKxK:
            case WeightGradientAlgorithm.ImplicitGemm:
                ConvOuterProductWeightGradient(x, dy, dw, db, g, implicitGemm: dwAlgorithm == WeightGradientAlgorithm.ImplicitGemm);
                dwRest = null;
                dbRest = null;
                break;
            case WeightGradientAlgorithm.Im2ColGemm:
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dwAlgorithm), dwAlgorithm, "unknown weight-gradient algorithm");
        }
        // dx by the forward algorithm's own kernel where it has one (a convolution of dy with the flipped, transposed kernel,
        // or the gather form of the transposed convolution), or by the kernel ConvPlan.ChooseInputGradient prefers; dW and
        // db, unless done above, from im2col + GEMM.
        ConvAlgorithm dxAlgorithm = ConvAlgorithmOverride ?? ConvPlan.ChooseInputGradient(g, CpuGemm.CurrentKernel);
        bool ownDx = dxAlgorithm switch
        {
            ConvAlgorithm.Winograd or ConvAlgorithm.BlockedWinograd or ConvAlgorithm.Direct3x3 or ConvAlgorithm.DirectKxK => ConvPlan.Supports(dxAlgorithm, g),
            ConvAlgorithm.Blocked => BlockedConv.HasInputGradient(g),
            ConvAlgorithm.Im2ColGemm or ConvAlgorithm.DirectConv1d => false,
            _ => throw new ArgumentOutOfRangeException(nameof(dxAlgorithm), dxAlgorithm, "unknown convolution algorithm"),
        };
        if (dx is not null && ownDx)
        {
            if (dwRest is not null)
            {
                ConvIm2ColBackward(x, w, dy, null, dwRest, dbRest, g, accumulateDx);
            }
            switch (dxAlgorithm)
            {
                case ConvAlgorithm.Winograd:
                    ConvWinogradInputGradient(w, dy, dx, g, accumulateDx, blocked: false);
                    break;
                case ConvAlgorithm.BlockedWinograd:
                    ConvWinogradInputGradient(w, dy, dx, g, accumulateDx, blocked: true);
                    break;
                case ConvAlgorithm.Direct3x3:
                    Conv3x3DirectInputGradient(w, dy, dx, g, accumulateDx);
                    break;
                case ConvAlgorithm.DirectKxK:
                    ConvKxKDirectInputGradient(w, dy, dx, g, accumulateDx);
                    break;
                case ConvAlgorithm.Blocked:
                    RunBlocked(BlockedConv.InputGradientPass(g), dy, w, null, dx, relu: false, accumulateDx, nameof(Conv2dBackward));
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(dxAlgorithm), dxAlgorithm, "no direct input gradient for this algorithm");
            }
            return;
        }
        if (dx is not null || dwRest is not null)
        {
            ConvIm2ColBackward(x, w, dy, dx, dwRest, dbRest, g, accumulateDx);
        }
    }

    // dW and db of a 3x3 stride-1 "same" convolution as a direct reduction over zero-bordered planes (WeightGradient3x3).
    private unsafe void Conv3x3WeightGradient(Tensor x, Tensor dy, Tensor dw, Tensor? db, in Conv2dGeometry g)
    {
        const string op = nameof(Conv2dBackward);
        var l = new WeightGradient3x3.Layout(g, CpuGemm.CurrentKernel);
        var xa = HostBuffers.Floats(x, op, out int xo);
        var dya = HostBuffers.Floats(dy, op, out int dyo);
        var dwa = HostBuffers.Floats(dw, op, out int dwo);
        float[]? dba = HostBuffers.FloatsOrNull(db, op, out int dbo);
        var ws = RentConvWorkspace();
        try
        {
            float[] paddedX = ws.Columns(l.PaddedXLength);
            float[] paddedDy = ws.PackedGradients(l.PaddedDyLength);
            float[] sums = ws.Transposed(l.PlaneSumsLength);
            fixed (float* px = xa, pdy = dya, pdw = dwa, pdb = dba, pxp = paddedX, pdyp = paddedDy, ps = sums)
            {
                int planes = g.Batch * (g.InChannels + g.OutChannels);
                var pad = new WeightGradient3x3.PadJob
                {
                    L = l, X = px + xo, Xp = pxp, Dy = pdy + dyo, Dyp = pdyp, PlaneSums = pdb == null ? null : ps,
                };
                ForkJoin.Run(planes, ForkJoin.Parts(planes, 4, Threads), ref pad);
                int items = l.Blocks * g.InChannels;
                var job = new WeightGradient3x3.ReduceJob { L = l, Xp = pxp, Dyp = pdyp, Dw = pdw + dwo };
                ForkJoin.Run(items, Math.Min(Math.Min(Threads, items), ForkJoin.MaxParts), ref job);
                if (pdb != null)
                {
                    WeightGradient3x3.AddBias(l, ps, pdb + dbo);
                }
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    // dW and db as an outer-product reduction over dy transposed to rows of output channels and x copied into
    // zero-bordered planes: stride-1 kernels up to 7 wide, one kernel row per tile (WeightGradientKxK), or kernels up to 3
    // wide at any stride, several tap rows per tile (WeightGradientImplicitGemm).
    private unsafe void ConvOuterProductWeightGradient(Tensor x, Tensor dy, Tensor dw, Tensor? db, in Conv2dGeometry g, bool implicitGemm)
    {
        const string op = nameof(Conv2dBackward);
        if (g.Batch == 0)
        {
            return;
        }
        var kxk = implicitGemm ? default : new WeightGradientKxK.Layout(g, CpuGemm.CurrentKernel);
        var gemm = implicitGemm ? new WeightGradientImplicitGemm.Layout(g) : default;
        var copies = implicitGemm ? gemm.Copies : kxk.Copies;
        var xa = HostBuffers.Floats(x, op, out int xo);
        var dya = HostBuffers.Floats(dy, op, out int dyo);
        var dwa = HostBuffers.Floats(dw, op, out int dwo);
        float[]? dba = HostBuffers.FloatsOrNull(db, op, out int dbo);
        var ws = RentConvWorkspace();
        try
        {
            float[] paddedX = ws.Columns(implicitGemm ? gemm.PaddedXLength : kxk.PaddedXLength);
            float[] dyT = ws.PackedGradients(implicitGemm ? gemm.DyTLength : kxk.DyTLength);
            float[] planeSums = ws.Transposed((long)g.Batch * g.OutChannels);
            float[] sums = ws.Gradients(implicitGemm ? gemm.SumsLength : kxk.SumsLength);
            fixed (float* px = xa, pdy = dya, pdw = dwa, pdb = dba, pxp = paddedX, pdyt = dyT, pps = planeSums, psums = sums)
            {
                float* sampleSums = pdb == null ? null : pps;
                if (implicitGemm)
                {
                    // Each chunk of samples is copied by the thread that reduces it, just before (WeightGradientImplicitGemm).
                    var job = new WeightGradientImplicitGemm.ReduceJob
                    {
                        L = gemm, X = px + xo, Dy = pdy + dyo, PlaneSums = sampleSums, Xp = pxp, DyT = pdyt, Sums = psums,
                    };
                    ForkJoin.Run(gemm.Chunks, Math.Min(Math.Min(Threads, gemm.Chunks), ForkJoin.MaxParts), ref job);
                }
                else
                {
                    var pad = new WeightGradientKxK.PadJob { P = copies, X = px + xo, Xp = pxp, Dy = pdy + dyo, DyT = pdyt, PlaneSums = sampleSums };
                    ForkJoin.Run(g.Batch, ForkJoin.Parts(g.Batch, 2, Threads), ref pad);
                    var job = new WeightGradientKxK.ReduceJob { L = kxk, Xp = pxp, DyT = pdyt, Sums = psums };
                    ForkJoin.Run(kxk.Items, Math.Min(Math.Min(Threads, kxk.Items), ForkJoin.MaxParts), ref job);
                }
                int chunks = implicitGemm ? gemm.Chunks : 1;
                long chunkLength = implicitGemm ? gemm.ChunkSumsLength : 0;
                WeightGradientKxK.AddTo(g, copies.OcPad, chunks, chunkLength, psums, pdw + dwo, sampleSums, pdb == null ? null : pdb + dbo);
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    // Any kernel, stride 1 or 2 (DirectConvKxK): the batch's planes copied once into zero-bordered phase planes, then
    // register-blocked tiles.
    private unsafe void ConvKxKDirect(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g, bool relu)
    {
        const string op = nameof(Conv2d);
        var planes = DirectConvKxK.ForwardPlanes(g);
        nint* taps = stackalloc nint[DirectConvKxK.MaxTaps];
        var pass = DirectConvKxK.ForwardPass(g, planes, taps);
        var xa = HostBuffers.Floats(x, op, out int xo);
        var wa = HostBuffers.Floats(w, op, out int wo);
        var ya = HostBuffers.Floats(y, op, out int yo);
        float[]? ba = HostBuffers.FloatsOrNull(b, op, out int bo);
        var ws = RentConvWorkspace();
        try
        {
            float[] packed = ws.Weights(pass.PackedWeightLength);
            float[] padded = ws.Columns(planes.Length(g.Batch));
            int[] offsets = ws.Offsets(DirectConvKxK.OffsetCount(pass));
            fixed (float* px = xa, pw = wa, py = ya, pb = ba, pp = packed, pxp = padded)
            fixed (int* po = offsets)
            {
                DirectConvKxK.PackWeights(pass, pw + wo, pp);
                DirectConvKxK.FillOffsets(pass, taps, po);
                int count = g.Batch * g.InChannels;
                var pad = new DirectConvKxK.PadJob { P = planes, X = px + xo, Xp = pxp };
                ForkJoin.Run(count, ForkJoin.Parts(count, 4, Threads), ref pad);
                int items = g.Batch * pass.OcBlocks * pass.Tiles;
                var job = new DirectConvKxK.ForwardJob
                {
                    L = pass, Kind = CpuGemm.CurrentKernel, Xp = pxp, Taps = taps, Offsets = po, PackedW = pp, Y = py + yo,
                    Bias = pb == null ? null : pb + bo, Relu = relu,
                };
                ForkJoin.RunBalanced(items, 1, Threads, ref job);
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    // One pass of BlockedConv (a forward convolution, or the input gradient of a stride-1 one): the weights packed into
    // blocks of 16 x 16 channels, then each thread copies its samples into the blocked layout and convolves them.
    private unsafe void RunBlocked(in BlockedConv.Pass pass, Tensor input, Tensor w, Tensor? b, Tensor output, bool relu, bool accumulate, string op)
    {
        var ia = HostBuffers.Floats(input, op, out int io);
        var wa = HostBuffers.Floats(w, op, out int wo);
        var oa = HostBuffers.Floats(output, op, out int oo);
        float[]? ba = HostBuffers.FloatsOrNull(b, op, out int bo);
        var ws = RentConvWorkspace();
        try
        {
            float[] packed = ws.Weights(pass.PackedWeightLength);
            int[] offsets = ws.Offsets(pass.Slices);
            fixed (float* pi = ia, pw = wa, po = oa, pb = ba, pp = packed)
            fixed (int* poff = offsets)
            {
                BlockedConv.PackWeights(pass, pw + wo, pp);
                BlockedConv.FillOffsets(pass, poff);
                var job = new BlockedConv.Job
                {
                    P = pass, X = pi + io, PackedW = pp, Y = po + oo, Bias = pb == null ? null : pb + bo, Offsets = poff,
                    Relu = relu, Accumulate = accumulate,
                };
                ForkJoin.RunBalanced(pass.G.Batch, 1, Threads, ref job);
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    // dx of DirectConvKxK's geometries: dy copied once into zero-bordered planes, then one direct pass per phase
    // (row mod stride, column mod stride) of dx with the taps that reach it (DirectConvKxK.GradientPass).
    private unsafe void ConvKxKDirectInputGradient(Tensor w, Tensor dy, Tensor dx, in Conv2dGeometry g, bool accumulateDx)
    {
        const string op = nameof(Conv2dBackward);
        var planes = DirectConvKxK.GradientPlanes(g);
        nint* taps = stackalloc nint[DirectConvKxK.MaxTaps];
        var wa = HostBuffers.Floats(w, op, out int wo);
        var dya = HostBuffers.Floats(dy, op, out int dyo);
        var dxa = HostBuffers.Floats(dx, op, out int dxo);
        long packedLength = (long)(g.InChannels + DirectConvKxK.OcBlock - 1) / DirectConvKxK.OcBlock * DirectConvKxK.OcBlock
            * g.OutChannels * g.KernelH * g.KernelW;
        var ws = RentConvWorkspace();
        try
        {
            float[] packed = ws.Weights(packedLength);
            float[] padded = ws.Gradients(planes.Length(g.Batch));
            int[] offsets = ws.Offsets(g.OutChannels * g.KernelH * g.KernelW);
            fixed (float* pw = wa, pdy = dya, pdx = dxa, pp = packed, pdyp = padded)
            fixed (int* po = offsets)
            {
                int count = g.Batch * g.OutChannels;
                var pad = new DirectConvKxK.PadJob { P = planes, X = pdy + dyo, Xp = pdyp };
                ForkJoin.Run(count, ForkJoin.Parts(count, 4, Threads), ref pad);
                float* phaseWeights = pp;
                for (int phaseY = 0; phaseY < g.StrideH; phaseY++)
                {
                    for (int phaseX = 0; phaseX < g.StrideW; phaseX++)
                    {
                        var pass = DirectConvKxK.GradientPass(g, planes, phaseY, phaseX, taps, pw + wo, phaseWeights);
                        int items = g.Batch * pass.OcBlocks * pass.Tiles;
                        if (items > 0)
                        {
                            DirectConvKxK.FillOffsets(pass, taps, po);
                            var job = new DirectConvKxK.ForwardJob
                            {
                                L = pass, Kind = CpuGemm.CurrentKernel, Xp = pdyp, Taps = taps, Offsets = po, PackedW = phaseWeights, Y = pdx + dxo,
                                Accumulate = accumulateDx,
                            };
                            ForkJoin.RunBalanced(items, 1, Threads, ref job);
                        }
                        phaseWeights += pass.PackedWeightLength;
                    }
                }
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    private unsafe void Conv3x3DirectInputGradient(Tensor w, Tensor dy, Tensor dx, in Conv2dGeometry g, bool accumulateDx)
    {
        const string op = nameof(Conv2dBackward);
        var gt = g.StrideOneInputGradient();
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
                ForkJoin.RunBalanced(items, 1, Threads, ref job);
            }
        }
        finally
        {
            ReturnConvWorkspace(ws);
        }
    }

    // Winograd F(4x4, 3x3): weights transformed when they changed since the last call (WinogradConv.WeightCache), then
    // the batch's tiles split over threads (WinogradConv), the input read in place with its padding masked; or, blocked,
    // the samples split over threads, each copied into the blocked layout (BlockedWinograd: the same sums).
    private unsafe void ConvWinograd(Tensor x, Tensor w, Tensor? b, Tensor? residual, Tensor y, in Conv2dGeometry g, bool relu, bool blocked)
    {
        const string op = nameof(Conv2d);
        var xa = HostBuffers.Floats(x, op, out int xo);
        var wa = HostBuffers.Floats(w, op, out int wo);
        var ya = HostBuffers.Floats(y, op, out int yo);
        float[]? ba = HostBuffers.FloatsOrNull(b, op, out int bo);
        float[]? ra = HostBuffers.FloatsOrNull(residual, op, out int ro);
        var l = new WinogradConv.Layout(g);
        var weights = new WinogradConv.WeightJob
        {
            Rows = g.OutChannels, Cols = g.InChannels, RowStride = g.InChannels * 9, ColStride = 9,
        };
        fixed (float* px = xa, py = ya, pb = ba, pr = ra)
        {
            RunWinograd(l, wa, wo, g.WeightLength, weights, px + xo, py + yo, pb == null ? null : pb + bo, pr == null ? null : pr + ro, relu, accumulate: false, blocked);
        }
    }

    private unsafe void ConvWinogradInputGradient(Tensor w, Tensor dy, Tensor dx, in Conv2dGeometry g, bool accumulateDx, bool blocked)
    {
        const string op = nameof(Conv2dBackward);
        var gt = g.StrideOneInputGradient();
        var l = new WinogradConv.Layout(gt);
        var wa = HostBuffers.Floats(w, op, out int wo);
        var dya = HostBuffers.Floats(dy, op, out int dyo);
        var dxa = HostBuffers.Floats(dx, op, out int dxo);
        // GEMM row r = input channel of x, shared index k = output channel: w[k, r] flipped.
        var weights = new WinogradConv.WeightJob
        {
            Rows = g.InChannels, Cols = g.OutChannels, RowStride = 9, ColStride = g.InChannels * 9, Flip = true,
        };
        fixed (float* pdy = dya, pdx = dxa)
        {
            RunWinograd(l, wa, wo, g.WeightLength, weights, pdy + dyo, pdx + dxo, null, null, relu: false, accumulateDx, blocked);
        }
    }

    /// <summary>
    /// U of the weights wa[wo ..] (<see cref="WinogradConv.WeightCache"/>: transformed only when they changed since), then the
    /// tiles split over the threads, or with <paramref name="blocked"/> the samples (<see cref="BlockedWinograd"/>, U in its layout).
    /// </summary>
    private unsafe void RunWinograd(in WinogradConv.Layout l, float[] wa, int wo, long weightLength, WinogradConv.WeightJob weights,
        float* x, float* y, float* bias, float* residual, bool relu, bool accumulate, bool blocked)
    {
        var entry = _winogradWeights.Find(wa, wo, weights, l.WeightLength);
        fixed (float* pw = wa, pu = entry.U)
        {
            weights.W = pw + wo;
            weights.U = pu;
            _winogradWeights.Refresh(entry, wa.AsSpan(wo, (int)weightLength), ref weights, l.OcBlocks * WinogradConv.OcBlock, Threads);
            if (blocked)
            {
                var pass = new BlockedWinograd.Pass(l.G);
                float[] ub = _winogradWeights.Blocked(entry, pass, l.OcBlocks);
                fixed (float* pub = ub)
                {
                    var bjob = new BlockedWinograd.Job
                    {
                        P = pass, X = x, PackedU = pub, Y = y, Bias = bias, Residual = residual, Relu = relu, Accumulate = accumulate,
                    };
                    ForkJoin.RunBalanced(l.G.Batch, 1, Threads, ref bjob);
                }
                return;
            }
            var job = new WinogradConv.TileJob
            {
                L = l, Kind = CpuGemm.CurrentKernel, X = x, U = pu, Y = y, Bias = bias, Residual = residual, Relu = relu, Accumulate = accumulate,
            };
            // Parts of at least a chunk of tiles, so splitting finer never shrinks the products that reuse U.
            ForkJoin.RunBalanced(l.Groups, Math.Max(1, l.ChunkTiles / WinogradConv.Lanes), Threads, ref job);
        }
    }

    // dx (when given) and dW/db (when dw is given) from im2col + GEMM.
    private unsafe void ConvIm2ColBackward(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor? dw, Tensor? db, in Conv2dGeometry g, bool accumulateDx)
    {
        const string op = nameof(Conv2dBackward);
        var p = new ConvPlan(g, ConvColumnBudget);
        var xa = HostBuffers.Floats(x, op, out int xo);
        var wa = HostBuffers.Floats(w, op, out int wo);
        var dya = HostBuffers.Floats(dy, op, out int dyo);
        float[]? dwa = HostBuffers.FloatsOrNull(dw, op, out int dwo);
        float[]? dxa = HostBuffers.FloatsOrNull(dx, op, out int dxo);
        float[]? dba = db is null || dw is null ? null : HostBuffers.Floats(db, op, out _);
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
                    X = xa, XOffset = xo, Dy = pdy + dyo, Dw = pdw == null ? null : pdw + dwo, Db = pdb == null ? null : pdb + dbo,
                    PackedWT = pp, Dx = dxa, DxOffset = dxo, AccumulateDx = accumulateDx, DwParts = partials,
                };
                ForkJoin.Run(g.Batch, parts, ref job);
                for (int t = 0; pdw != null && t < parts - 1; t++)
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
        float[]? ba = HostBuffers.FloatsOrNull(b, op, out int bo);
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
        float[]? dxa = HostBuffers.FloatsOrNull(dx, op, out int dxo);
        float[]? dba = HostBuffers.FloatsOrNull(db, op, out int dbo);
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
                int rows = DirectConv1d.GradientLayoutItems(l, mr);
                var layout = new DirectConv1d.LayoutJob { L = l, First = g.InChannels, Dy = pdy + dyo, Dyc = pdyc };
                ForkJoin.Run(g.OutChannels, ForkJoin.Parts(g.OutChannels, 8, Threads), ref layout);
                var gradientLayout = new DirectConv1d.GradientLayoutJob { L = l, Kind = kind, Mr = mr, X = px + xo, Dy = pdy + dyo, XcT = pxt, PackedDy = ppdy };
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

    // One workspace per concurrent caller, kept: the row parts of a split evaluation forward (one per thread) each rent one
    // per convolution, and tests running side by side may add a caller; one past those is made fresh and dropped after.
    private ConvWorkspace RentConvWorkspace()
    {
        for (int i = 0; i < _convWorkspaces.Length; i++)
        {
            if (Interlocked.Exchange(ref _convWorkspaces[i], null) is { } ws)
            {
                return ws;
            }
        }
        return new ConvWorkspace();
    }

    private void ReturnConvWorkspace(ConvWorkspace ws)
    {
        for (int i = 0; i < _convWorkspaces.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _convWorkspaces[i], ws, null) is null)
            {
                return;
            }
        }
    }
}
