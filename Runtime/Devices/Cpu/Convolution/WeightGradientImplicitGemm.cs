using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// The weight gradient of a one-group, undilated convolution with kernels up to <see cref="MaxKernelWidth"/> wide and
/// any stride (ResNet-20's 3x3 layers, its stride-2 3x3 and 1x1 ones, DenseNet's 3x3 layers, the 5x5 layers of TwoConv,
/// MnistNet and LeNet-5) as a GEMM over implicit
/// im2col columns: dW[o, (c, kh, kw)] += sum over n, oh, ow of dy[n, o, oh, ow] * x[n, c, oh*sh+kh-padTop, ow*sw+kw-padLeft],
/// with M = output channels in the vector lanes, N = the C*KH*KW taps and K = the batch's positions.
/// </summary>
/// <remarks>
/// <para>
/// Why. The direct 3x3 reduction (<see cref="WeightGradient3x3"/>) and the outer-product reduction
/// (<see cref="WeightGradientKxK"/>) keep one kernel row's taps per tile: with 16 output channels the latter has 3
/// accumulators for 2 FMA pipes of 4 cycles' latency, and the former ends each weight in a horizontal sum per
/// pass; neither covers strided layers, which took im2col + GEMM's dot products. In <c>bench conv</c> (batch 64, one
/// thread) this path took 0.71-0.86x the fastest of those on ResNet-20's stride-1 3x3 layers and 0.48-0.60x im2col +
/// GEMM's time on its stride-2 layers (<see cref="ConvPlan.ChooseWeightGradient"/>).
/// </para>
/// <para>
/// Layout. dy is transposed per sample to dyT [OH*OW, OcPad] (<see cref="WeightGradientKxK.CopySample"/>, dense rows of
/// positions); x's planes are copied into zero-bordered planes with rows <see cref="Layout.S"/> = padLeft + W + padRight
/// apart (read in place when there is no padding). Position (oh, ow) meets tap (c, kh, kw) at
/// c*XPlane + (oh*sh + kh)*S + ow*sw + kw of the padded planes: no bounds checks, no column matrix.
/// </para>
/// <para>
/// Tile. Up to <see cref="MaxRows"/> tap rows (c, kh) x KW kernel columns x up to 4 vectors of 16 output channels, at
/// most <see cref="MaxAccumulators"/> accumulators: per position the strip's dyT vectors are loaded once and each tap's
/// x value is broadcast into its FMAs, as in the packed GEMM's outer product with dyT as the packed panel and x read in
/// place as the other operand. With 16 channels (ResNet-20's first stage) the tile is 8 rows x 3 columns: 24 independent
/// accumulators, where the outer-product reduction had 3.
/// </para>
/// <para>
/// Chunks and threads. The reduction dimension is split: the batch falls into chunks of <see cref="Layout.ChunkSamples"/>
/// samples whose dyT and x planes fit in L2 (at least <see cref="MinChunks"/> of them), and threads split the chunks.
/// A thread copies each chunk's samples into one place and at once runs every item, (strip, group of tap rows), over
/// them, so the copies are read back from its own L2 and each thread reads only its part of x and dy. Each chunk has its
/// own [C*KH*KW, OcPad] sums (each weight one lane of one accumulator over the chunk's positions in order), added in
/// chunk order to dW at the end (<see cref="WeightGradientKxK.AddTo"/>): the order is a function of the geometry alone,
/// so the result is the same bit for bit whatever the thread count.
/// Against threads splitting the items over the whole batch's copies (four alternating <c>bench conv</c> runs on a
/// heavily loaded machine, ratio of the fastest): ResNet-20's 16-channel layer 0.92x the time on one thread and 0.74x
/// on two, its 64-channel 7x7 layer 0.98x and 1.32x (each chunk writes 147 KB of sums for 8 samples of 7x7 planes).
/// </para>
/// </remarks>
internal static unsafe class WeightGradientImplicitGemm
{
    /// <summary>Widest kernel the tiles cover (one accumulator per kernel column, tap row and vector).</summary>
    public const int MaxKernelWidth = 5;

    /// <summary>Most tap rows per tile: one x pointer each, so the row pointers, dyT's and the loop's stay in 16 registers.</summary>
    public const int MaxRows = 8;

    /// <summary>Most vectors of 16 output channels per strip.</summary>
    public const int MaxVectors = 4;

    /// <summary>Most accumulators per tile: 24 of the 32 vector registers, with up to 4 dyT vectors and a broadcast.</summary>
    public const int MaxAccumulators = 24;

    /// <summary>Bytes of planes (dyT and x's channels) a chunk of samples may take, so every item of the chunk finds them in L2.</summary>
    private const int L2Bytes = 512 * 1024;

    /// <summary>Fewest chunks a batch is cut into when it has the samples: 4 per thread on two threads, so that they end together.</summary>
    private const int MinChunks = 8;

    /// <summary>One group, no dilation, a kernel at most <see cref="MaxKernelWidth"/> wide, with 512-bit vectors available.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g is { DilationH: 1, DilationW: 1, Groups: 1 } && g.KernelW <= MaxKernelWidth && Vector512.IsHardwareAccelerated;

    /// <summary>The sizes of one call's copies and its items.</summary>
    public readonly struct Layout
    {
        public Layout(in Conv2dGeometry g)
        {
            G = g;
            CopiesX = g.PadTop != 0 || g.PadLeft != 0 || g.PadBottom != 0 || g.PadRight != 0;
            S = CopiesX ? g.PadLeft + g.Width + g.PadRight : g.Width;
            XPlane = CopiesX ? (g.PadTop + g.Height + g.PadBottom) * S : g.Height * g.Width;
            Positions = g.OutHeight * g.OutWidth;
            OcVectors = (g.OutChannels + 15) / 16;
            OcPad = OcVectors * 16;
            Strips = Math.Max(1, (OcVectors + MaxVectors - 1) / MaxVectors);
            int widest = (OcVectors + Strips - 1) / Strips;
            RowsPerItem = Math.Clamp(MaxAccumulators / (g.KernelW * Math.Max(1, widest)), 1, MaxRows);
            TapRows = g.InChannels * g.KernelH;
            Groups = (TapRows + RowsPerItem - 1) / RowsPerItem;
            Items = Strips * Groups;
            long perSample = ((long)Positions * OcPad + (long)g.InChannels * XPlane) * sizeof(float);
            ChunkSamples = EvenChunkSamples(g.Batch, (int)Math.Clamp(Math.Min(L2Bytes / Math.Max(1, perSample), (g.Batch + MinChunks - 1) / MinChunks), 1, Math.Max(1, g.Batch)));
            Chunks = (g.Batch + ChunkSamples - 1) / ChunkSamples;
        }

        /// <summary>
        /// The samples per chunk: the most, up to <paramref name="most"/> and down to half of it, that cut the batch into an
        /// even number of equal chunks, so two threads (and often four) get the same work; <paramref name="most"/> if none
        /// does. A function of the geometry alone, as the order of the sums must be. TwoConv's 5x5 layer (32 to 64
        /// channels at 14x14, 5 samples fit) had 13 chunks, 7 and 6 on two threads, and its join waited 0.44 ms a call.
        /// </summary>
        private static int EvenChunkSamples(int batch, int most)
        {
            for (int s = most; s >= (most + 1) / 2; s--)
            {
                if (batch % s == 0 && batch / s % 2 == 0)
                {
                    return s;
                }
            }
            return most;
        }

        public Conv2dGeometry G { get; }
        /// <summary>Whether x is copied into zero-bordered planes (any padding), else read in place.</summary>
        public bool CopiesX { get; }
        /// <summary>Row stride of the x planes read: padLeft + W + padRight.</summary>
        public int S { get; }
        /// <summary>Floats per x plane read.</summary>
        public int XPlane { get; }
        /// <summary>Positions per sample of dyT: OH*OW.</summary>
        public int Positions { get; }
        /// <summary>Vectors of output channels (the last padded with zeros).</summary>
        public int OcVectors { get; }
        /// <summary>Floats per dyT position: OC rounded up to whole vectors.</summary>
        public int OcPad { get; }
        /// <summary>Strips of output-channel vectors (split evenly, up to <see cref="MaxVectors"/> each).</summary>
        public int Strips { get; }
        /// <summary>Tap rows (c, kh) per item: as many as <see cref="MaxAccumulators"/> allow for the widest strip.</summary>
        public int RowsPerItem { get; }
        /// <summary>Tap rows in all: C*KH.</summary>
        public int TapRows { get; }
        /// <summary>Groups of <see cref="RowsPerItem"/> tap rows (the last may have fewer).</summary>
        public int Groups { get; }
        /// <summary>Work items: (strip, group of tap rows).</summary>
        public int Items { get; }
        /// <summary>Samples per chunk: their planes stay in L2 while every item sums over them.</summary>
        public int ChunkSamples { get; }
        /// <summary>Chunks of the batch, each with its own sums.</summary>
        public int Chunks { get; }
        public long PaddedXLength => CopiesX ? (long)G.Batch * G.InChannels * XPlane : 0;
        public long DyTLength => (long)G.Batch * Positions * OcPad;
        /// <summary>Floats of one chunk's [C*KH*KW, OcPad] sums.</summary>
        public long ChunkSumsLength => (long)TapRows * G.KernelW * OcPad;
        /// <summary>Floats of all chunks' sums.</summary>
        public long SumsLength => Chunks * ChunkSumsLength;
        /// <summary>Floats of the per-plane sums of dy (for db).</summary>
        public long PlaneSumsLength => (long)G.Batch * G.OutChannels;
        /// <summary>First vector of strip <paramref name="s"/>.</summary>
        public int StripStart(int s) => BatchSplitConv.StripStart(s, OcVectors, Strips);

        /// <summary>The copies <see cref="WeightGradientKxK.CopySample"/> makes: x planes with rows <see cref="S"/> apart, dense dyT rows.</summary>
        public WeightGradientKxK.PlaneCopies Copies => new(G, S, XPlane, G.OutWidth, OcPad, Wide: true, CopiesX);
    }

    /// <summary>Item = a chunk of samples: copied (x zero-bordered, dy transposed), then every (strip, group of tap rows) summed over it.</summary>
    public struct ReduceJob : IRangeJob
    {
        public Layout L;
        public float* X, Dy, PlaneSums;
        /// <summary>The batch's zero-bordered x copies (unused when <see cref="Layout.CopiesX"/> is false: the tiles read x itself).</summary>
        public float* Xp;
        public float* DyT, Sums;

        public readonly void Run(int start, int end)
        {
            var l = L;
            var g = l.G;
            var copies = l.Copies;
            int kh0 = g.KernelH, kw0 = g.KernelW;
            nint* offsets = stackalloc nint[MaxRows];
            Vector512<float>* acc = stackalloc Vector512<float>[MaxRows * MaxKernelWidth * MaxVectors];
            nint xSample = (nint)g.InChannels * l.XPlane, dySample = (nint)l.Positions * l.OcPad;
            nint xIn = (nint)g.InChannels * g.Height * g.Width, dyIn = (nint)g.OutChannels * g.OutHeight * g.OutWidth;
            // Every chunk of this range is copied into the first one's place: the copies stay in this thread's L2.
            float* xBuffer = Xp + start * l.ChunkSamples * xSample, dyBuffer = DyT + start * l.ChunkSamples * dySample;
            for (int chunk = start; chunk < end; chunk++)
            {
                int n0 = chunk * l.ChunkSamples, samples = Math.Min(l.ChunkSamples, g.Batch - n0);
                for (int i = 0; i < samples; i++)
                {
                    int n = n0 + i;
                    WeightGradientKxK.CopySample(copies, X + n * xIn, xBuffer + i * xSample, Dy + n * dyIn, dyBuffer + i * dySample,
                        PlaneSums == null ? null : PlaneSums + (nint)n * g.OutChannels);
                }
                float* xRead = l.CopiesX ? xBuffer : X + n0 * xIn;
                float* sums = Sums + chunk * l.ChunkSumsLength;
                for (int item = 0; item < l.Items; item++)
                {
                    int strip = item / l.Groups, r0 = (item - strip * l.Groups) * l.RowsPerItem;
                    int rows = Math.Min(l.RowsPerItem, l.TapRows - r0);
                    int v0 = l.StripStart(strip), nv = l.StripStart(strip + 1) - v0;
                    for (int r = 0; r < rows; r++)
                    {
                        int ic = (r0 + r) / kh0, kh = r0 + r - ic * kh0;
                        offsets[r] = (nint)ic * l.XPlane + (nint)kh * l.S;
                    }
                    Tile(rows, kw0, nv, xRead, offsets, xSample, dyBuffer + (nint)v0 * 16, dySample, l.OcPad, samples,
                        g.OutHeight, (nint)g.OutWidth * g.StrideW, g.StrideW, (nint)g.StrideH * l.S, acc);
                    for (int r = 0; r < rows; r++)
                    {
                        for (int k = 0; k < kw0; k++)
                        {
                            float* dst = sums + ((nint)(r0 + r) * kw0 + k) * l.OcPad + (nint)v0 * 16;
                            for (int v = 0; v < nv; v++)
                            {
                                Vector512.Store(acc[(r * MaxKernelWidth + k) * MaxVectors + v], dst + v * 16);
                            }
                        }
                    }
                }
            }
        }
    }

    private static void Tile(int rows, int kw, int nv, float* x, nint* offsets, nint xSample, float* dy, nint dySample, nint ld, int samples,
        int outH, nint colEnd, nint colStep, nint rowStep, Vector512<float>* acc)
    {
        switch (rows)
        {
            case 1: Tile<Rows1>(kw, nv, x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 2: Tile<Rows2>(kw, nv, x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 3: Tile<Rows3>(kw, nv, x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 4: Tile<Rows4>(kw, nv, x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 5: Tile<Rows5>(kw, nv, x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 6: Tile<Rows6>(kw, nv, x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 7: Tile<Rows7>(kw, nv, x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 8: Tile<Rows8>(kw, nv, x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            default: throw new InvalidOperationException($"{nameof(WeightGradientImplicitGemm)}: {rows} tap rows (1 to {MaxRows}).");
        }
    }

    private static void Tile<TR>(int kw, int nv, float* x, nint* offsets, nint xSample, float* dy, nint dySample, nint ld, int samples,
        int outH, nint colEnd, nint colStep, nint rowStep, Vector512<float>* acc)
        where TR : struct, IRowCount
    {
        switch (kw)
        {
            case 1: Tile<TR, Rows1>(nv, x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 2: Tile<TR, Rows2>(nv, x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 3: Tile<TR, Rows3>(nv, x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 4: Tile<TR, Rows4>(nv, x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 5: Tile<TR, Rows5>(nv, x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            default: throw new InvalidOperationException($"{nameof(WeightGradientImplicitGemm)}: a kernel {kw} wide (1 to {MaxKernelWidth}).");
        }
    }

    private static void Tile<TR, TW>(int nv, float* x, nint* offsets, nint xSample, float* dy, nint dySample, nint ld, int samples,
        int outH, nint colEnd, nint colStep, nint rowStep, Vector512<float>* acc)
        where TR : struct, IRowCount where TW : struct, IRowCount
    {
        switch (nv)
        {
            case 1: Tile<TR, TW, Rows1>(x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 2: Tile<TR, TW, Rows2>(x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 3: Tile<TR, TW, Rows3>(x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            case 4: Tile<TR, TW, Rows4>(x, offsets, xSample, dy, dySample, ld, samples, outH, colEnd, colStep, rowStep, acc); break;
            default: throw new InvalidOperationException($"{nameof(WeightGradientImplicitGemm)}: a strip of {nv} vectors (1 to {MaxVectors}).");
        }
    }

    /// <summary>
    /// acc[(r*MaxKernelWidth + k)*MaxVectors + v] = sum over the samples and positions (oh, ow) of x at p_r + oh*rowStep +
    /// ow*colStep + k times dyT's vector v at that position, for TR tap rows (p_r = x + offsets[r]), TW kernel columns and TV
    /// vectors of output channels (TR*TW*TV at most <see cref="MaxAccumulators"/>). Its own method so that nothing but the
    /// loop's values is live across the loop (see <see cref="MicroKernel512"/>). Written out for every (row, column, vector)
    /// up to 8 x 5 x 4; each instantiation keeps only its own accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TR, TW, TV>(float* x, nint* offsets, nint xSample, float* dy, nint dySample, nint ld, int samples, int outH,
        nint colEnd, nint colStep, nint rowStep, Vector512<float>* acc)
        where TR : struct, IRowCount where TW : struct, IRowCount where TV : struct, IRowCount
    {
        int rows = TR.Rows, kw = TW.Rows, nv = TV.Rows;
        Vector512<float> a000 = default, a001 = default, a002 = default, a003 = default;
        Vector512<float> a010 = default, a011 = default, a012 = default, a013 = default;
        Vector512<float> a020 = default, a021 = default, a022 = default, a023 = default;
        Vector512<float> a030 = default, a031 = default, a032 = default, a033 = default;
        Vector512<float> a040 = default, a041 = default, a042 = default, a043 = default;
        Vector512<float> a100 = default, a101 = default, a102 = default, a103 = default;
        Vector512<float> a110 = default, a111 = default, a112 = default, a113 = default;
        Vector512<float> a120 = default, a121 = default, a122 = default, a123 = default;
        Vector512<float> a130 = default, a131 = default, a132 = default, a133 = default;
        Vector512<float> a140 = default, a141 = default, a142 = default, a143 = default;
        Vector512<float> a200 = default, a201 = default, a202 = default, a203 = default;
        Vector512<float> a210 = default, a211 = default, a212 = default, a213 = default;
        Vector512<float> a220 = default, a221 = default, a222 = default, a223 = default;
        Vector512<float> a230 = default, a231 = default, a232 = default, a233 = default;
        Vector512<float> a240 = default, a241 = default, a242 = default, a243 = default;
        Vector512<float> a300 = default, a301 = default, a302 = default, a303 = default;
        Vector512<float> a310 = default, a311 = default, a312 = default, a313 = default;
        Vector512<float> a320 = default, a321 = default, a322 = default, a323 = default;
        Vector512<float> a330 = default, a331 = default, a332 = default, a333 = default;
        Vector512<float> a340 = default, a341 = default, a342 = default, a343 = default;
        Vector512<float> a400 = default, a401 = default, a402 = default, a403 = default;
        Vector512<float> a410 = default, a411 = default, a412 = default, a413 = default;
        Vector512<float> a420 = default, a421 = default, a422 = default, a423 = default;
        Vector512<float> a430 = default, a431 = default, a432 = default, a433 = default;
        Vector512<float> a440 = default, a441 = default, a442 = default, a443 = default;
        Vector512<float> a500 = default, a501 = default, a502 = default, a503 = default;
        Vector512<float> a510 = default, a511 = default, a512 = default, a513 = default;
        Vector512<float> a520 = default, a521 = default, a522 = default, a523 = default;
        Vector512<float> a530 = default, a531 = default, a532 = default, a533 = default;
        Vector512<float> a540 = default, a541 = default, a542 = default, a543 = default;
        Vector512<float> a600 = default, a601 = default, a602 = default, a603 = default;
        Vector512<float> a610 = default, a611 = default, a612 = default, a613 = default;
        Vector512<float> a620 = default, a621 = default, a622 = default, a623 = default;
        Vector512<float> a630 = default, a631 = default, a632 = default, a633 = default;
        Vector512<float> a640 = default, a641 = default, a642 = default, a643 = default;
        Vector512<float> a700 = default, a701 = default, a702 = default, a703 = default;
        Vector512<float> a710 = default, a711 = default, a712 = default, a713 = default;
        Vector512<float> a720 = default, a721 = default, a722 = default, a723 = default;
        Vector512<float> a730 = default, a731 = default, a732 = default, a733 = default;
        Vector512<float> a740 = default, a741 = default, a742 = default, a743 = default;
        for (int s = 0; s < samples; s++)
        {
            float* xs = x + s * xSample;
            float* p0 = xs + offsets[0];
            float* p1 = rows > 1 ? xs + offsets[1] : xs;
            float* p2 = rows > 2 ? xs + offsets[2] : xs;
            float* p3 = rows > 3 ? xs + offsets[3] : xs;
            float* p4 = rows > 4 ? xs + offsets[4] : xs;
            float* p5 = rows > 5 ? xs + offsets[5] : xs;
            float* p6 = rows > 6 ? xs + offsets[6] : xs;
            float* p7 = rows > 7 ? xs + offsets[7] : xs;
            float* d = dy + s * dySample;
            for (nint row = 0, end = outH * rowStep; row < end; row += rowStep)
            {
                for (nint i = row; i < row + colEnd; i += colStep, d += ld)
                {
                    Vector512<float> b0 = Vector512.Load(d);
                    Vector512<float> b1 = nv > 1 ? Vector512.Load(d + 16) : default;
                    Vector512<float> b2 = nv > 2 ? Vector512.Load(d + 32) : default;
                    Vector512<float> b3 = nv > 3 ? Vector512.Load(d + 48) : default;
                    {
                        Vector512<float> t00 = Vector512.Create(p0[i]);
                        a000 = Vector512.FusedMultiplyAdd(t00, b0, a000);
                        if (nv > 1) a001 = Vector512.FusedMultiplyAdd(t00, b1, a001);
                        if (nv > 2) a002 = Vector512.FusedMultiplyAdd(t00, b2, a002);
                        if (nv > 3) a003 = Vector512.FusedMultiplyAdd(t00, b3, a003);
                    }
                    if (kw > 1)
                    {
                        Vector512<float> t01 = Vector512.Create(p0[i + 1]);
                        a010 = Vector512.FusedMultiplyAdd(t01, b0, a010);
                        if (nv > 1) a011 = Vector512.FusedMultiplyAdd(t01, b1, a011);
                        if (nv > 2) a012 = Vector512.FusedMultiplyAdd(t01, b2, a012);
                        if (nv > 3) a013 = Vector512.FusedMultiplyAdd(t01, b3, a013);
                    }
                    if (kw > 2)
                    {
                        Vector512<float> t02 = Vector512.Create(p0[i + 2]);
                        a020 = Vector512.FusedMultiplyAdd(t02, b0, a020);
                        if (nv > 1) a021 = Vector512.FusedMultiplyAdd(t02, b1, a021);
                        if (nv > 2) a022 = Vector512.FusedMultiplyAdd(t02, b2, a022);
                        if (nv > 3) a023 = Vector512.FusedMultiplyAdd(t02, b3, a023);
                    }
                    if (kw > 3)
                    {
                        Vector512<float> t03 = Vector512.Create(p0[i + 3]);
                        a030 = Vector512.FusedMultiplyAdd(t03, b0, a030);
                        if (nv > 1) a031 = Vector512.FusedMultiplyAdd(t03, b1, a031);
                        if (nv > 2) a032 = Vector512.FusedMultiplyAdd(t03, b2, a032);
                        if (nv > 3) a033 = Vector512.FusedMultiplyAdd(t03, b3, a033);
                    }
                    if (kw > 4)
                    {
                        Vector512<float> t04 = Vector512.Create(p0[i + 4]);
                        a040 = Vector512.FusedMultiplyAdd(t04, b0, a040);
                        if (nv > 1) a041 = Vector512.FusedMultiplyAdd(t04, b1, a041);
                        if (nv > 2) a042 = Vector512.FusedMultiplyAdd(t04, b2, a042);
                        if (nv > 3) a043 = Vector512.FusedMultiplyAdd(t04, b3, a043);
                    }
                    if (rows > 1)
                    {
                        Vector512<float> t10 = Vector512.Create(p1[i]);
                        a100 = Vector512.FusedMultiplyAdd(t10, b0, a100);
                        if (nv > 1) a101 = Vector512.FusedMultiplyAdd(t10, b1, a101);
                        if (nv > 2) a102 = Vector512.FusedMultiplyAdd(t10, b2, a102);
                        if (nv > 3) a103 = Vector512.FusedMultiplyAdd(t10, b3, a103);
                    }
                    if (rows > 1 && kw > 1)
                    {
                        Vector512<float> t11 = Vector512.Create(p1[i + 1]);
                        a110 = Vector512.FusedMultiplyAdd(t11, b0, a110);
                        if (nv > 1) a111 = Vector512.FusedMultiplyAdd(t11, b1, a111);
                        if (nv > 2) a112 = Vector512.FusedMultiplyAdd(t11, b2, a112);
                        if (nv > 3) a113 = Vector512.FusedMultiplyAdd(t11, b3, a113);
                    }
                    if (rows > 1 && kw > 2)
                    {
                        Vector512<float> t12 = Vector512.Create(p1[i + 2]);
                        a120 = Vector512.FusedMultiplyAdd(t12, b0, a120);
                        if (nv > 1) a121 = Vector512.FusedMultiplyAdd(t12, b1, a121);
                        if (nv > 2) a122 = Vector512.FusedMultiplyAdd(t12, b2, a122);
                        if (nv > 3) a123 = Vector512.FusedMultiplyAdd(t12, b3, a123);
                    }
                    if (rows > 1 && kw > 3)
                    {
                        Vector512<float> t13 = Vector512.Create(p1[i + 3]);
                        a130 = Vector512.FusedMultiplyAdd(t13, b0, a130);
                        if (nv > 1) a131 = Vector512.FusedMultiplyAdd(t13, b1, a131);
                        if (nv > 2) a132 = Vector512.FusedMultiplyAdd(t13, b2, a132);
                        if (nv > 3) a133 = Vector512.FusedMultiplyAdd(t13, b3, a133);
                    }
                    if (rows > 1 && kw > 4)
                    {
                        Vector512<float> t14 = Vector512.Create(p1[i + 4]);
                        a140 = Vector512.FusedMultiplyAdd(t14, b0, a140);
                        if (nv > 1) a141 = Vector512.FusedMultiplyAdd(t14, b1, a141);
                        if (nv > 2) a142 = Vector512.FusedMultiplyAdd(t14, b2, a142);
                        if (nv > 3) a143 = Vector512.FusedMultiplyAdd(t14, b3, a143);
                    }
                    if (rows > 2)
                    {
                        Vector512<float> t20 = Vector512.Create(p2[i]);
                        a200 = Vector512.FusedMultiplyAdd(t20, b0, a200);
                        if (nv > 1) a201 = Vector512.FusedMultiplyAdd(t20, b1, a201);
                        if (nv > 2) a202 = Vector512.FusedMultiplyAdd(t20, b2, a202);
                        if (nv > 3) a203 = Vector512.FusedMultiplyAdd(t20, b3, a203);
                    }
                    if (rows > 2 && kw > 1)
                    {
                        Vector512<float> t21 = Vector512.Create(p2[i + 1]);
                        a210 = Vector512.FusedMultiplyAdd(t21, b0, a210);
                        if (nv > 1) a211 = Vector512.FusedMultiplyAdd(t21, b1, a211);
                        if (nv > 2) a212 = Vector512.FusedMultiplyAdd(t21, b2, a212);
                        if (nv > 3) a213 = Vector512.FusedMultiplyAdd(t21, b3, a213);
                    }
                    if (rows > 2 && kw > 2)
                    {
                        Vector512<float> t22 = Vector512.Create(p2[i + 2]);
                        a220 = Vector512.FusedMultiplyAdd(t22, b0, a220);
                        if (nv > 1) a221 = Vector512.FusedMultiplyAdd(t22, b1, a221);
                        if (nv > 2) a222 = Vector512.FusedMultiplyAdd(t22, b2, a222);
                        if (nv > 3) a223 = Vector512.FusedMultiplyAdd(t22, b3, a223);
                    }
                    if (rows > 2 && kw > 3)
                    {
                        Vector512<float> t23 = Vector512.Create(p2[i + 3]);
                        a230 = Vector512.FusedMultiplyAdd(t23, b0, a230);
                        if (nv > 1) a231 = Vector512.FusedMultiplyAdd(t23, b1, a231);
                        if (nv > 2) a232 = Vector512.FusedMultiplyAdd(t23, b2, a232);
                        if (nv > 3) a233 = Vector512.FusedMultiplyAdd(t23, b3, a233);
                    }
                    if (rows > 2 && kw > 4)
                    {
                        Vector512<float> t24 = Vector512.Create(p2[i + 4]);
                        a240 = Vector512.FusedMultiplyAdd(t24, b0, a240);
                        if (nv > 1) a241 = Vector512.FusedMultiplyAdd(t24, b1, a241);
                        if (nv > 2) a242 = Vector512.FusedMultiplyAdd(t24, b2, a242);
                        if (nv > 3) a243 = Vector512.FusedMultiplyAdd(t24, b3, a243);
                    }
                    if (rows > 3)
                    {
                        Vector512<float> t30 = Vector512.Create(p3[i]);
                        a300 = Vector512.FusedMultiplyAdd(t30, b0, a300);
                        if (nv > 1) a301 = Vector512.FusedMultiplyAdd(t30, b1, a301);
                        if (nv > 2) a302 = Vector512.FusedMultiplyAdd(t30, b2, a302);
                        if (nv > 3) a303 = Vector512.FusedMultiplyAdd(t30, b3, a303);
                    }
                    if (rows > 3 && kw > 1)
                    {
                        Vector512<float> t31 = Vector512.Create(p3[i + 1]);
                        a310 = Vector512.FusedMultiplyAdd(t31, b0, a310);
                        if (nv > 1) a311 = Vector512.FusedMultiplyAdd(t31, b1, a311);
                        if (nv > 2) a312 = Vector512.FusedMultiplyAdd(t31, b2, a312);
                        if (nv > 3) a313 = Vector512.FusedMultiplyAdd(t31, b3, a313);
                    }
                    if (rows > 3 && kw > 2)
                    {
                        Vector512<float> t32 = Vector512.Create(p3[i + 2]);
                        a320 = Vector512.FusedMultiplyAdd(t32, b0, a320);
                        if (nv > 1) a321 = Vector512.FusedMultiplyAdd(t32, b1, a321);
                        if (nv > 2) a322 = Vector512.FusedMultiplyAdd(t32, b2, a322);
                        if (nv > 3) a323 = Vector512.FusedMultiplyAdd(t32, b3, a323);
                    }
                    if (rows > 3 && kw > 3)
                    {
                        Vector512<float> t33 = Vector512.Create(p3[i + 3]);
                        a330 = Vector512.FusedMultiplyAdd(t33, b0, a330);
                        if (nv > 1) a331 = Vector512.FusedMultiplyAdd(t33, b1, a331);
                        if (nv > 2) a332 = Vector512.FusedMultiplyAdd(t33, b2, a332);
                        if (nv > 3) a333 = Vector512.FusedMultiplyAdd(t33, b3, a333);
                    }
                    if (rows > 3 && kw > 4)
                    {
                        Vector512<float> t34 = Vector512.Create(p3[i + 4]);
                        a340 = Vector512.FusedMultiplyAdd(t34, b0, a340);
                        if (nv > 1) a341 = Vector512.FusedMultiplyAdd(t34, b1, a341);
                        if (nv > 2) a342 = Vector512.FusedMultiplyAdd(t34, b2, a342);
                        if (nv > 3) a343 = Vector512.FusedMultiplyAdd(t34, b3, a343);
                    }
                    if (rows > 4)
                    {
                        Vector512<float> t40 = Vector512.Create(p4[i]);
                        a400 = Vector512.FusedMultiplyAdd(t40, b0, a400);
                        if (nv > 1) a401 = Vector512.FusedMultiplyAdd(t40, b1, a401);
                        if (nv > 2) a402 = Vector512.FusedMultiplyAdd(t40, b2, a402);
                        if (nv > 3) a403 = Vector512.FusedMultiplyAdd(t40, b3, a403);
                    }
                    if (rows > 4 && kw > 1)
                    {
                        Vector512<float> t41 = Vector512.Create(p4[i + 1]);
                        a410 = Vector512.FusedMultiplyAdd(t41, b0, a410);
                        if (nv > 1) a411 = Vector512.FusedMultiplyAdd(t41, b1, a411);
                        if (nv > 2) a412 = Vector512.FusedMultiplyAdd(t41, b2, a412);
                        if (nv > 3) a413 = Vector512.FusedMultiplyAdd(t41, b3, a413);
                    }
                    if (rows > 4 && kw > 2)
                    {
                        Vector512<float> t42 = Vector512.Create(p4[i + 2]);
                        a420 = Vector512.FusedMultiplyAdd(t42, b0, a420);
                        if (nv > 1) a421 = Vector512.FusedMultiplyAdd(t42, b1, a421);
                        if (nv > 2) a422 = Vector512.FusedMultiplyAdd(t42, b2, a422);
                        if (nv > 3) a423 = Vector512.FusedMultiplyAdd(t42, b3, a423);
                    }
                    if (rows > 4 && kw > 3)
                    {
                        Vector512<float> t43 = Vector512.Create(p4[i + 3]);
                        a430 = Vector512.FusedMultiplyAdd(t43, b0, a430);
                        if (nv > 1) a431 = Vector512.FusedMultiplyAdd(t43, b1, a431);
                        if (nv > 2) a432 = Vector512.FusedMultiplyAdd(t43, b2, a432);
                        if (nv > 3) a433 = Vector512.FusedMultiplyAdd(t43, b3, a433);
                    }
                    if (rows > 4 && kw > 4)
                    {
                        Vector512<float> t44 = Vector512.Create(p4[i + 4]);
                        a440 = Vector512.FusedMultiplyAdd(t44, b0, a440);
                        if (nv > 1) a441 = Vector512.FusedMultiplyAdd(t44, b1, a441);
                        if (nv > 2) a442 = Vector512.FusedMultiplyAdd(t44, b2, a442);
                        if (nv > 3) a443 = Vector512.FusedMultiplyAdd(t44, b3, a443);
                    }
                    if (rows > 5)
                    {
                        Vector512<float> t50 = Vector512.Create(p5[i]);
                        a500 = Vector512.FusedMultiplyAdd(t50, b0, a500);
                        if (nv > 1) a501 = Vector512.FusedMultiplyAdd(t50, b1, a501);
                        if (nv > 2) a502 = Vector512.FusedMultiplyAdd(t50, b2, a502);
                        if (nv > 3) a503 = Vector512.FusedMultiplyAdd(t50, b3, a503);
                    }
                    if (rows > 5 && kw > 1)
                    {
                        Vector512<float> t51 = Vector512.Create(p5[i + 1]);
                        a510 = Vector512.FusedMultiplyAdd(t51, b0, a510);
                        if (nv > 1) a511 = Vector512.FusedMultiplyAdd(t51, b1, a511);
                        if (nv > 2) a512 = Vector512.FusedMultiplyAdd(t51, b2, a512);
                        if (nv > 3) a513 = Vector512.FusedMultiplyAdd(t51, b3, a513);
                    }
                    if (rows > 5 && kw > 2)
                    {
                        Vector512<float> t52 = Vector512.Create(p5[i + 2]);
                        a520 = Vector512.FusedMultiplyAdd(t52, b0, a520);
                        if (nv > 1) a521 = Vector512.FusedMultiplyAdd(t52, b1, a521);
                        if (nv > 2) a522 = Vector512.FusedMultiplyAdd(t52, b2, a522);
                        if (nv > 3) a523 = Vector512.FusedMultiplyAdd(t52, b3, a523);
                    }
                    if (rows > 5 && kw > 3)
                    {
                        Vector512<float> t53 = Vector512.Create(p5[i + 3]);
                        a530 = Vector512.FusedMultiplyAdd(t53, b0, a530);
                        if (nv > 1) a531 = Vector512.FusedMultiplyAdd(t53, b1, a531);
                        if (nv > 2) a532 = Vector512.FusedMultiplyAdd(t53, b2, a532);
                        if (nv > 3) a533 = Vector512.FusedMultiplyAdd(t53, b3, a533);
                    }
                    if (rows > 5 && kw > 4)
                    {
                        Vector512<float> t54 = Vector512.Create(p5[i + 4]);
                        a540 = Vector512.FusedMultiplyAdd(t54, b0, a540);
                        if (nv > 1) a541 = Vector512.FusedMultiplyAdd(t54, b1, a541);
                        if (nv > 2) a542 = Vector512.FusedMultiplyAdd(t54, b2, a542);
                        if (nv > 3) a543 = Vector512.FusedMultiplyAdd(t54, b3, a543);
                    }
                    if (rows > 6)
                    {
                        Vector512<float> t60 = Vector512.Create(p6[i]);
                        a600 = Vector512.FusedMultiplyAdd(t60, b0, a600);
                        if (nv > 1) a601 = Vector512.FusedMultiplyAdd(t60, b1, a601);
                        if (nv > 2) a602 = Vector512.FusedMultiplyAdd(t60, b2, a602);
                        if (nv > 3) a603 = Vector512.FusedMultiplyAdd(t60, b3, a603);
                    }
                    if (rows > 6 && kw > 1)
                    {
                        Vector512<float> t61 = Vector512.Create(p6[i + 1]);
                        a610 = Vector512.FusedMultiplyAdd(t61, b0, a610);
                        if (nv > 1) a611 = Vector512.FusedMultiplyAdd(t61, b1, a611);
                        if (nv > 2) a612 = Vector512.FusedMultiplyAdd(t61, b2, a612);
                        if (nv > 3) a613 = Vector512.FusedMultiplyAdd(t61, b3, a613);
                    }
                    if (rows > 6 && kw > 2)
                    {
                        Vector512<float> t62 = Vector512.Create(p6[i + 2]);
                        a620 = Vector512.FusedMultiplyAdd(t62, b0, a620);
                        if (nv > 1) a621 = Vector512.FusedMultiplyAdd(t62, b1, a621);
                        if (nv > 2) a622 = Vector512.FusedMultiplyAdd(t62, b2, a622);
                        if (nv > 3) a623 = Vector512.FusedMultiplyAdd(t62, b3, a623);
                    }
                    if (rows > 6 && kw > 3)
                    {
                        Vector512<float> t63 = Vector512.Create(p6[i + 3]);
                        a630 = Vector512.FusedMultiplyAdd(t63, b0, a630);
                        if (nv > 1) a631 = Vector512.FusedMultiplyAdd(t63, b1, a631);
                        if (nv > 2) a632 = Vector512.FusedMultiplyAdd(t63, b2, a632);
                        if (nv > 3) a633 = Vector512.FusedMultiplyAdd(t63, b3, a633);
                    }
                    if (rows > 6 && kw > 4)
                    {
                        Vector512<float> t64 = Vector512.Create(p6[i + 4]);
                        a640 = Vector512.FusedMultiplyAdd(t64, b0, a640);
                        if (nv > 1) a641 = Vector512.FusedMultiplyAdd(t64, b1, a641);
                        if (nv > 2) a642 = Vector512.FusedMultiplyAdd(t64, b2, a642);
                        if (nv > 3) a643 = Vector512.FusedMultiplyAdd(t64, b3, a643);
                    }
                    if (rows > 7)
                    {
                        Vector512<float> t70 = Vector512.Create(p7[i]);
                        a700 = Vector512.FusedMultiplyAdd(t70, b0, a700);
                        if (nv > 1) a701 = Vector512.FusedMultiplyAdd(t70, b1, a701);
                        if (nv > 2) a702 = Vector512.FusedMultiplyAdd(t70, b2, a702);
                        if (nv > 3) a703 = Vector512.FusedMultiplyAdd(t70, b3, a703);
                    }
                    if (rows > 7 && kw > 1)
                    {
                        Vector512<float> t71 = Vector512.Create(p7[i + 1]);
                        a710 = Vector512.FusedMultiplyAdd(t71, b0, a710);
                        if (nv > 1) a711 = Vector512.FusedMultiplyAdd(t71, b1, a711);
                        if (nv > 2) a712 = Vector512.FusedMultiplyAdd(t71, b2, a712);
                        if (nv > 3) a713 = Vector512.FusedMultiplyAdd(t71, b3, a713);
                    }
                    if (rows > 7 && kw > 2)
                    {
                        Vector512<float> t72 = Vector512.Create(p7[i + 2]);
                        a720 = Vector512.FusedMultiplyAdd(t72, b0, a720);
                        if (nv > 1) a721 = Vector512.FusedMultiplyAdd(t72, b1, a721);
                        if (nv > 2) a722 = Vector512.FusedMultiplyAdd(t72, b2, a722);
                        if (nv > 3) a723 = Vector512.FusedMultiplyAdd(t72, b3, a723);
                    }
                    if (rows > 7 && kw > 3)
                    {
                        Vector512<float> t73 = Vector512.Create(p7[i + 3]);
                        a730 = Vector512.FusedMultiplyAdd(t73, b0, a730);
                        if (nv > 1) a731 = Vector512.FusedMultiplyAdd(t73, b1, a731);
                        if (nv > 2) a732 = Vector512.FusedMultiplyAdd(t73, b2, a732);
                        if (nv > 3) a733 = Vector512.FusedMultiplyAdd(t73, b3, a733);
                    }
                    if (rows > 7 && kw > 4)
                    {
                        Vector512<float> t74 = Vector512.Create(p7[i + 4]);
                        a740 = Vector512.FusedMultiplyAdd(t74, b0, a740);
                        if (nv > 1) a741 = Vector512.FusedMultiplyAdd(t74, b1, a741);
                        if (nv > 2) a742 = Vector512.FusedMultiplyAdd(t74, b2, a742);
                        if (nv > 3) a743 = Vector512.FusedMultiplyAdd(t74, b3, a743);
                    }
                }
            }
        }
        acc[0] = a000; if (nv > 1) acc[1] = a001; if (nv > 2) acc[2] = a002; if (nv > 3) acc[3] = a003;
        if (kw > 1)
        {
            acc[4] = a010; if (nv > 1) acc[5] = a011; if (nv > 2) acc[6] = a012; if (nv > 3) acc[7] = a013;
        }
        if (kw > 2)
        {
            acc[8] = a020; if (nv > 1) acc[9] = a021; if (nv > 2) acc[10] = a022; if (nv > 3) acc[11] = a023;
        }
        if (kw > 3)
        {
            acc[12] = a030; if (nv > 1) acc[13] = a031; if (nv > 2) acc[14] = a032; if (nv > 3) acc[15] = a033;
        }
        if (kw > 4)
        {
            acc[16] = a040; if (nv > 1) acc[17] = a041; if (nv > 2) acc[18] = a042; if (nv > 3) acc[19] = a043;
        }
        if (rows > 1)
        {
            acc[20] = a100; if (nv > 1) acc[21] = a101; if (nv > 2) acc[22] = a102; if (nv > 3) acc[23] = a103;
        }
        if (rows > 1 && kw > 1)
        {
            acc[24] = a110; if (nv > 1) acc[25] = a111; if (nv > 2) acc[26] = a112; if (nv > 3) acc[27] = a113;
        }
        if (rows > 1 && kw > 2)
        {
            acc[28] = a120; if (nv > 1) acc[29] = a121; if (nv > 2) acc[30] = a122; if (nv > 3) acc[31] = a123;
        }
        if (rows > 1 && kw > 3)
        {
            acc[32] = a130; if (nv > 1) acc[33] = a131; if (nv > 2) acc[34] = a132; if (nv > 3) acc[35] = a133;
        }
        if (rows > 1 && kw > 4)
        {
            acc[36] = a140; if (nv > 1) acc[37] = a141; if (nv > 2) acc[38] = a142; if (nv > 3) acc[39] = a143;
        }
        if (rows > 2)
        {
            acc[40] = a200; if (nv > 1) acc[41] = a201; if (nv > 2) acc[42] = a202; if (nv > 3) acc[43] = a203;
        }
        if (rows > 2 && kw > 1)
        {
            acc[44] = a210; if (nv > 1) acc[45] = a211; if (nv > 2) acc[46] = a212; if (nv > 3) acc[47] = a213;
        }
        if (rows > 2 && kw > 2)
        {
            acc[48] = a220; if (nv > 1) acc[49] = a221; if (nv > 2) acc[50] = a222; if (nv > 3) acc[51] = a223;
        }
        if (rows > 2 && kw > 3)
        {
            acc[52] = a230; if (nv > 1) acc[53] = a231; if (nv > 2) acc[54] = a232; if (nv > 3) acc[55] = a233;
        }
        if (rows > 2 && kw > 4)
        {
            acc[56] = a240; if (nv > 1) acc[57] = a241; if (nv > 2) acc[58] = a242; if (nv > 3) acc[59] = a243;
        }
        if (rows > 3)
        {
            acc[60] = a300; if (nv > 1) acc[61] = a301; if (nv > 2) acc[62] = a302; if (nv > 3) acc[63] = a303;
        }
        if (rows > 3 && kw > 1)
        {
            acc[64] = a310; if (nv > 1) acc[65] = a311; if (nv > 2) acc[66] = a312; if (nv > 3) acc[67] = a313;
        }
        if (rows > 3 && kw > 2)
        {
            acc[68] = a320; if (nv > 1) acc[69] = a321; if (nv > 2) acc[70] = a322; if (nv > 3) acc[71] = a323;
        }
        if (rows > 3 && kw > 3)
        {
            acc[72] = a330; if (nv > 1) acc[73] = a331; if (nv > 2) acc[74] = a332; if (nv > 3) acc[75] = a333;
        }
        if (rows > 3 && kw > 4)
        {
            acc[76] = a340; if (nv > 1) acc[77] = a341; if (nv > 2) acc[78] = a342; if (nv > 3) acc[79] = a343;
        }
        if (rows > 4)
        {
            acc[80] = a400; if (nv > 1) acc[81] = a401; if (nv > 2) acc[82] = a402; if (nv > 3) acc[83] = a403;
        }
        if (rows > 4 && kw > 1)
        {
            acc[84] = a410; if (nv > 1) acc[85] = a411; if (nv > 2) acc[86] = a412; if (nv > 3) acc[87] = a413;
        }
        if (rows > 4 && kw > 2)
        {
            acc[88] = a420; if (nv > 1) acc[89] = a421; if (nv > 2) acc[90] = a422; if (nv > 3) acc[91] = a423;
        }
        if (rows > 4 && kw > 3)
        {
            acc[92] = a430; if (nv > 1) acc[93] = a431; if (nv > 2) acc[94] = a432; if (nv > 3) acc[95] = a433;
        }
        if (rows > 4 && kw > 4)
        {
            acc[96] = a440; if (nv > 1) acc[97] = a441; if (nv > 2) acc[98] = a442; if (nv > 3) acc[99] = a443;
        }
        if (rows > 5)
        {
            acc[100] = a500; if (nv > 1) acc[101] = a501; if (nv > 2) acc[102] = a502; if (nv > 3) acc[103] = a503;
        }
        if (rows > 5 && kw > 1)
        {
            acc[104] = a510; if (nv > 1) acc[105] = a511; if (nv > 2) acc[106] = a512; if (nv > 3) acc[107] = a513;
        }
        if (rows > 5 && kw > 2)
        {
            acc[108] = a520; if (nv > 1) acc[109] = a521; if (nv > 2) acc[110] = a522; if (nv > 3) acc[111] = a523;
        }
        if (rows > 5 && kw > 3)
        {
            acc[112] = a530; if (nv > 1) acc[113] = a531; if (nv > 2) acc[114] = a532; if (nv > 3) acc[115] = a533;
        }
        if (rows > 5 && kw > 4)
        {
            acc[116] = a540; if (nv > 1) acc[117] = a541; if (nv > 2) acc[118] = a542; if (nv > 3) acc[119] = a543;
        }
        if (rows > 6)
        {
            acc[120] = a600; if (nv > 1) acc[121] = a601; if (nv > 2) acc[122] = a602; if (nv > 3) acc[123] = a603;
        }
        if (rows > 6 && kw > 1)
        {
            acc[124] = a610; if (nv > 1) acc[125] = a611; if (nv > 2) acc[126] = a612; if (nv > 3) acc[127] = a613;
        }
        if (rows > 6 && kw > 2)
        {
            acc[128] = a620; if (nv > 1) acc[129] = a621; if (nv > 2) acc[130] = a622; if (nv > 3) acc[131] = a623;
        }
        if (rows > 6 && kw > 3)
        {
            acc[132] = a630; if (nv > 1) acc[133] = a631; if (nv > 2) acc[134] = a632; if (nv > 3) acc[135] = a633;
        }
        if (rows > 6 && kw > 4)
        {
            acc[136] = a640; if (nv > 1) acc[137] = a641; if (nv > 2) acc[138] = a642; if (nv > 3) acc[139] = a643;
        }
        if (rows > 7)
        {
            acc[140] = a700; if (nv > 1) acc[141] = a701; if (nv > 2) acc[142] = a702; if (nv > 3) acc[143] = a703;
        }
        if (rows > 7 && kw > 1)
        {
            acc[144] = a710; if (nv > 1) acc[145] = a711; if (nv > 2) acc[146] = a712; if (nv > 3) acc[147] = a713;
        }
        if (rows > 7 && kw > 2)
        {
            acc[148] = a720; if (nv > 1) acc[149] = a721; if (nv > 2) acc[150] = a722; if (nv > 3) acc[151] = a723;
        }
        if (rows > 7 && kw > 3)
        {
            acc[152] = a730; if (nv > 1) acc[153] = a731; if (nv > 2) acc[154] = a732; if (nv > 3) acc[155] = a733;
        }
        if (rows > 7 && kw > 4)
        {
            acc[156] = a740; if (nv > 1) acc[157] = a741; if (nv > 2) acc[158] = a742; if (nv > 3) acc[159] = a743;
        }
    }
}
