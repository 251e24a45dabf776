using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// Direct convolution in the blocked channel layout (oneDNN's nChw16c): channels in blocks of <see cref="Block"/> floats,
/// one 512-bit register. Each sample's input is copied once into [channel block][row][column][16] with its zero
/// border, the weights into [output block][input block][kh][kw][16 input][16 output channels]; a tile then holds up to
/// <see cref="MaxPixels"/> consecutive output pixels of one row times one or two output blocks (up to 24 accumulators),
/// and per input channel, tap and pixel it does one broadcast of the input and one FMA per output block against the
/// weights' vector, which every pixel of the tile reuses. No column matrix, no per-tap copies: strides (up to
/// <see cref="MaxStride"/>), padding and dilation are only offsets into the blocked copy. Channel counts that are not
/// multiples of 16 are padded with zero lanes. Both conversions go 16 channels x 16 pixels at a time through register
/// transposes (<see cref="Transpose16"/>); bias and ReLU are applied to a row's sums before it is written back to the
/// NCHW output. Work is split over samples (each thread copies and convolves its own), and every output is summed in
/// one fixed order (input block, kh, kw, input channel) whatever the thread count.
/// </summary>
/// <remarks>
/// The input gradient of a stride-1 layer is the same kernel run on dy with the flipped, transposed weights and padding
/// (K - 1) * dilation - pad (<see cref="InputGradientPass"/>); strided layers leave it to im2col + GEMM.
/// The layout lives inside this kernel only: the network's tensors stay NCHW, so each call converts its input and output.
/// A build that skipped both conversions (timing only, wrong sums; <c>bench conv</c>, batch 64, two threads) measured
/// what a layout kept between layers would save: 3% of TwoConv's 5x5 layer, 10% and 33% of ResNet-20's stride-2 3x3
/// layers, 14-21% of its stride-1 3x3 layers (one thread) and 46-66% of its 1x1 projections. Even without them the kernel
/// took 1.2-1.4x Winograd's time on those stride-1 layers (<see cref="WinogradConv"/>: a quarter of the multiplies), which
/// carry most of the network's work.
/// </remarks>
internal static unsafe class BlockedConv
{
    /// <summary>Channels per block: one 512-bit vector of floats.</summary>
    public const int Block = 16;

    /// <summary>Floats of one (input block, tap) slice of packed weights: 16 input x 16 output channels.</summary>
    public const int BlockSquare = Block * Block;

    /// <summary>Most output pixels per tile (12 x 2 blocks = 24 accumulators, with two weight vectors and a broadcast).</summary>
    public const int MaxPixels = 12;

    /// <summary>The largest stride per axis (the pixel step of a tile is a compile-time constant per stride).</summary>
    public const int MaxStride = 4;

    /// <summary>Floats of one pixel's row in a tile's store: two output blocks.</summary>
    private const int TileRow = 2 * Block;

    /// <summary>The geometries the forward kernel computes (512-bit vectors required).</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported && g.Groups == 1 && g.StrideH <= MaxStride && g.StrideW <= MaxStride;

    /// <summary>Whether the input gradient of <paramref name="g"/> runs on this kernel (stride 1); otherwise im2col + GEMM computes it.</summary>
    public static bool HasInputGradient(in Conv2dGeometry g) => Applies(g) && g.StrideH == 1 && g.StrideW == 1;

    /// <summary>
    /// One convolution of <see cref="G"/> (its input [N][InChannels][Height][Width] into [N][OutChannels][OutHeight][OutWidth]),
    /// with the sizes of its blocked layout; <see cref="Flip"/> reads the weights flipped and transposed (the input gradient,
    /// whose geometry is <see cref="Conv2dGeometry.StrideOneInputGradient"/>).
    /// </summary>
    public readonly struct Pass
    {
        public Pass(in Conv2dGeometry g, bool flip)
        {
            G = g;
            Flip = flip;
            InBlocks = (g.InChannels + Block - 1) / Block;
            OutBlocks = (g.OutChannels + Block - 1) / Block;
            Hp = Math.Max(1, (g.OutHeight - 1) * g.StrideH + (g.KernelH - 1) * g.DilationH + 1);
            Wp = Math.Max(1, (g.OutWidth - 1) * g.StrideW + (g.KernelW - 1) * g.DilationW + 1);
            TilesPerRow = Math.Max(1, (g.OutWidth + MaxPixels - 1) / MaxPixels);
            TileWidth = (g.OutWidth + TilesPerRow - 1) / TilesPerRow;
        }

        public Conv2dGeometry G { get; }
        public bool Flip { get; }
        public int InBlocks { get; }
        public int OutBlocks { get; }
        /// <summary>Rows of the blocked copy: every row a tap of an output row reads, from input row -PadTop.</summary>
        public int Hp { get; }
        /// <summary>Columns of the blocked copy, from input column -PadLeft.</summary>
        public int Wp { get; }
        public int TilesPerRow { get; }
        /// <summary>Pixels of every tile of a row but the last, which has the rest.</summary>
        public int TileWidth { get; }
        /// <summary>(input block, kh, kw) slices of one output block's weights.</summary>
        public int Slices => InBlocks * G.KernelH * G.KernelW;
        /// <summary>Floats of one sample's blocked copy.</summary>
        public long BlockedLength => (long)InBlocks * Hp * Wp * Block;
        /// <summary>Floats of the packed weights: [output block][input block][kh][kw][16][16].</summary>
        public long PackedWeightLength => (long)OutBlocks * Slices * BlockSquare;
    }

    public static Pass ForwardPass(in Conv2dGeometry g) => new(g, flip: false);

    /// <summary>dx = the stride-1 convolution of dy with the flipped, transposed kernel (<see cref="Conv2dGeometry.StrideOneInputGradient"/>).</summary>
    public static Pass InputGradientPass(in Conv2dGeometry g) => new(g.StrideOneInputGradient(), flip: true);

    /// <summary>
    /// Packs w [forward out, forward in, KH, KW] as [output block][input block][kh][kw][16 input][16 output channels] of
    /// <paramref name="p"/>'s channels, zero past them; flipped and transposed when <see cref="Pass.Flip"/>. Reads w in
    /// order (each pair of channels' KH*KW taps in a row), so the scattered writes stay within a few 1 KiB slices.
    /// </summary>
    public static void PackWeights(in Pass p, float* w, float* dst)
    {
        int kh = p.G.KernelH, kw = p.G.KernelW, area = kh * kw;
        if (p.G.InChannels % Block != 0 || p.G.OutChannels % Block != 0)
        {
            new Span<float>(dst, checked((int)p.PackedWeightLength)).Clear();
        }
        // w's rows are (forward out, forward in): (pass out, pass in) forward, (pass in, pass out) flipped.
        int rows = p.Flip ? p.G.InChannels : p.G.OutChannels, cols = p.Flip ? p.G.OutChannels : p.G.InChannels;
        float* src = w;
        for (int a = 0; a < rows; a++)
        {
            for (int b = 0; b < cols; b++, src += area)
            {
                int outC = p.Flip ? b : a, inC = p.Flip ? a : b;
                float* d = dst + ((nint)(outC / Block) * p.InBlocks + inC / Block) * kh * kw * BlockSquare + inC % Block * Block + outC % Block;
                for (int t = 0; t < area; t++)
                {
                    // Tap t of the source is tap area - 1 - t of the flipped kernel.
                    d[(nint)(p.Flip ? area - 1 - t : t) * BlockSquare] = src[t];
                }
            }
        }
    }

    /// <summary>offsets[(ib * KH + r) * KW + c] = the float of tap (r, c) of input block ib for a tile's first pixel, in packing order.</summary>
    public static void FillOffsets(in Pass p, int* offsets)
    {
        for (int ib = 0; ib < p.InBlocks; ib++)
        {
            for (int r = 0; r < p.G.KernelH; r++)
            {
                for (int c = 0; c < p.G.KernelW; c++)
                {
                    offsets[(ib * p.G.KernelH + r) * p.G.KernelW + c] = checked((((ib * p.Hp) + r * p.G.DilationH) * p.Wp + c * p.G.DilationW) * Block);
                }
            }
        }
    }

    /// <summary>
    /// Copies one sample's [InC][InH][InW] planes into the blocked, zero-bordered [block][Hp][Wp][16]: 16 channels' row
    /// segments at a time, transposed in registers (<see cref="Transpose16"/>); lanes past InC and the border are zero.
    /// </summary>
    public static void ToBlocked(in Pass p, float* x, float* xb) => ToBlocked(p.G, p.InBlocks, p.Hp, p.Wp, x, xb);

    /// <summary>
    /// <see cref="ToBlocked(in Pass, float*, float*)"/> for <paramref name="g"/>'s input into <paramref name="inBlocks"/>
    /// blocks of <paramref name="hp"/> x <paramref name="wp"/>, from input row -PadTop and column -PadLeft.
    /// </summary>
    public static void ToBlocked(in Conv2dGeometry g, int inBlocks, int hp, int wp, float* x, float* xb)
    {
        int h = g.Height, w = g.Width;
        int c0 = Math.Max(0, -g.PadLeft), c1 = Math.Min(w, wp - g.PadLeft);
        int left = g.PadLeft + c0, right = g.PadLeft + c1;
        nint plane = (nint)h * w, rowFloats = (nint)wp * Block;
        var all = Vector512.LessThan(Vector512<float>.Indices, Vector512.Create((float)Block));
        for (int cb = 0; cb < inBlocks; cb++)
        {
            int rows = Math.Min(Block, g.InChannels - cb * Block);
            float* block = xb + (nint)cb * hp * rowFloats;
            for (int r = 0; r < hp; r++)
            {
                float* dst = block + r * rowFloats;
                int ih = r - g.PadTop;
                if ((uint)ih >= (uint)h || c0 >= c1)
                {
                    ZeroPixels(dst, wp);
                    continue;
                }
                ZeroPixels(dst, left);
                ZeroPixels(dst + (nint)right * Block, wp - right);
                float* src = x + (nint)cb * Block * plane + (nint)ih * w;
                for (int e0 = c0; e0 < c1; e0 += Block)
                {
                    Transpose16.Block(src + e0, plane, rows, Math.Min(Block, c1 - e0), dst + (nint)(g.PadLeft + e0) * Block, Block, all, masked: false);
                }
            }
        }
    }

    /// <summary>
    /// Zeroes <paramref name="count"/> pixels of 16 floats at <paramref name="dst"/> with vector stores: a border is a pixel or
    /// two, for which a span clear (a call) costs more than the stores.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ZeroPixels(float* dst, int count)
    {
        for (int i = 0; i < count; i++)
        {
            Vector512<float>.Zero.Store(dst + (nint)i * Block);
        }
    }

    /// <summary>Item = one sample: its blocked copy (in this thread's buffer), then every tile of its output, a row at a time.</summary>
    public struct Job : IRangeJob
    {
        public Pass P;
        public float* X, PackedW, Y, Bias;
        public int* Offsets;
        public bool Relu, Accumulate;

        public readonly void Run(int start, int end)
        {
            var p = P;
            t_blocked ??= new PackBuffer();
            t_row ??= new PackBuffer();
            float* xb = t_blocked.Get(checked((int)p.BlockedLength));
            // One output row of two blocks, [OutW][32], and a 16 x 16 square for the accumulating store.
            float* row = t_row.Get(checked(p.G.OutWidth * TileRow + BlockSquare));
            long inSample = (long)p.G.InChannels * p.G.Height * p.G.Width, outSample = (long)p.G.OutChannels * p.G.OutHeight * p.G.OutWidth;
            nint blockStride = (nint)p.Slices * BlockSquare;
            // Bias and ReLU are applied to the row before it is stored; the store only adds for accumulateDx.
            var store = new WinogradConv.OutputStore(Y, null, relu: false, Accumulate);
            for (int n = start; n < end; n++)
            {
                ToBlocked(p, X + n * inSample, xb);
                float* y = Y + n * outSample;
                for (int ob = 0; ob < p.OutBlocks; ob += 2)
                {
                    int blocks = Math.Min(2, p.OutBlocks - ob);
                    float* w = PackedW + ob * blockStride;
                    for (int oh = 0; oh < p.G.OutHeight; oh++)
                    {
                        float* inRow = xb + (nint)oh * p.G.StrideH * p.Wp * Block;
                        for (int ow = 0; ow < p.G.OutWidth; ow += p.TileWidth)
                        {
                            int pixels = Math.Min(p.TileWidth, p.G.OutWidth - ow);
                            Tile(pixels, blocks, p.G.StrideW, inRow + (nint)ow * p.G.StrideW * Block, Offsets, p.Slices, w, blockStride, row + ow * TileRow);
                        }
                        StoreRow(p, row, blocks, ob, oh, y, row + p.G.OutWidth * TileRow, store);
                    }
                }
            }
        }

        /// <summary>
        /// Adds the bias and applies the ReLU to a row's [OutW][32] sums, then writes (or adds) them to the NCHW output,
        /// 16 pixels x 16 channels at a time through a register transpose.
        /// </summary>
        private readonly void StoreRow(in Pass p, float* row, int blocks, int ob, int oh, float* y, float* square, WinogradConv.OutputStore store)
        {
            nint plane = (nint)p.G.OutHeight * p.G.OutWidth;
            for (int b = 0; b < blocks; b++)
            {
                int c0 = (ob + b) * Block, lanes = Math.Min(Block, p.G.OutChannels - c0);
                if (Bias != null || Relu)
                {
                    var bias = Vector512<float>.Zero;
                    if (Bias != null)
                    {
                        var inLanes = Vector512.LessThan(Vector512<float>.Indices, Vector512.Create((float)lanes));
                        bias = Avx512F.MaskLoad(Bias + c0, inLanes, Vector512<float>.Zero);
                    }
                    for (int px = 0; px < p.G.OutWidth; px++)
                    {
                        float* v = row + px * TileRow + b * Block;
                        var s = Vector512.Load(v) + bias;
                        (Relu ? VectorMax.Take(s, Vector512<float>.Zero) : s).Store(v);
                    }
                }
                float* dst = y + (nint)c0 * plane + (nint)oh * p.G.OutWidth;
                for (int px0 = 0; px0 < p.G.OutWidth; px0 += Block)
                {
                    StoreToPlanes(row + px0 * TileRow + b * Block, TileRow, Math.Min(Block, p.G.OutWidth - px0), lanes, dst + px0, plane, square, store);
                }
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="pixels"/> (up to 16) pixels x <paramref name="lanes"/> channels, held pixel-major at
    /// <paramref name="src"/> (pixels <paramref name="lds"/> floats apart, a channel per lane), to the NCHW planes from
    /// <paramref name="dst"/> (planes <paramref name="plane"/> floats apart) through one 16x16 register transpose: straight
    /// into the planes when the store adds nothing, else through <paramref name="square"/> (256 floats), each channel's
    /// row added to the destination or the residual by <paramref name="store"/>.
    /// </summary>
    public static void StoreToPlanes(float* src, nint lds, int pixels, int lanes, float* dst, nint plane, float* square, WinogradConv.OutputStore store)
    {
        var inRow = Vector512.LessThan(Vector512<float>.Indices, Vector512.Create((float)pixels));
        if (!store.AddsAtStore)
        {
            Transpose16.Block(src, lds, pixels, lanes, dst, plane, inRow, masked: pixels < Block);
            return;
        }
        Transpose16.Block(src, lds, pixels, lanes, square, Block, inRow, masked: false);
        for (int ch = 0; ch < lanes; ch++, dst += plane)
        {
            Avx512F.MaskStore(dst, inRow, store.Apply(dst, Vector512.Load(square + ch * Block), inRow));
        }
    }

    [ThreadStatic] private static PackBuffer? t_row;
    [ThreadStatic] private static PackBuffer? t_blocked;

    /// <summary>
    /// tile[px * 32 + b * 16 + o] for <paramref name="pixels"/> pixels <paramref name="stride"/> apart and
    /// <paramref name="blocks"/> output blocks (see the generic kernel below).
    /// </summary>
    internal static void Tile(int pixels, int blocks, int stride, float* x, int* offsets, int count, float* w, nint blockStride, float* tile)
    {
        switch (stride)
        {
            case 1: Tile<Rows1>(pixels, blocks, x, offsets, count, w, blockStride, tile); break;
            case 2: Tile<Rows2>(pixels, blocks, x, offsets, count, w, blockStride, tile); break;
            case 3: Tile<Rows3>(pixels, blocks, x, offsets, count, w, blockStride, tile); break;
            case 4: Tile<Rows4>(pixels, blocks, x, offsets, count, w, blockStride, tile); break;
            default: throw new ArgumentOutOfRangeException(nameof(stride), stride, $"the blocked kernel takes strides up to {MaxStride}");
        }
    }

    private static void Tile<TS>(int pixels, int blocks, float* x, int* offsets, int count, float* w, nint blockStride, float* tile)
        where TS : struct, IRowCount
    {
        if (blocks == 2)
        {
            Tile<TS, Rows2>(pixels, x, offsets, count, w, blockStride, tile);
        }
        else
        {
            Tile<TS, Rows1>(pixels, x, offsets, count, w, blockStride, tile);
        }
    }

    private static void Tile<TS, TB>(int pixels, float* x, int* offsets, int count, float* w, nint blockStride, float* tile)
        where TS : struct, IRowCount where TB : struct, IRowCount
    {
        switch (pixels)
        {
            case 1: Tile<TS, TB, Rows1>(x, offsets, count, w, blockStride, tile); break;
            case 2: Tile<TS, TB, Rows2>(x, offsets, count, w, blockStride, tile); break;
            case 3: Tile<TS, TB, Rows3>(x, offsets, count, w, blockStride, tile); break;
            case 4: Tile<TS, TB, Rows4>(x, offsets, count, w, blockStride, tile); break;
            case 5: Tile<TS, TB, Rows5>(x, offsets, count, w, blockStride, tile); break;
            case 6: Tile<TS, TB, Rows6>(x, offsets, count, w, blockStride, tile); break;
            case 7: Tile<TS, TB, Rows7>(x, offsets, count, w, blockStride, tile); break;
            case 8: Tile<TS, TB, Rows8>(x, offsets, count, w, blockStride, tile); break;
            case 9: Tile<TS, TB, Rows9>(x, offsets, count, w, blockStride, tile); break;
            case 10: Tile<TS, TB, Rows10>(x, offsets, count, w, blockStride, tile); break;
            case 11: Tile<TS, TB, Rows11>(x, offsets, count, w, blockStride, tile); break;
            case 12: Tile<TS, TB, Rows12>(x, offsets, count, w, blockStride, tile); break;
            default: throw new ArgumentOutOfRangeException(nameof(pixels), pixels, $"a tile holds 1 to {MaxPixels} pixels");
        }
    }

    /// <summary>
    /// tile[px * 32 + b * 16 + o] = sum over the slices k (input block, kh, kw) and their 16 input channels i of
    /// x[offsets[k] + px * stride * 16 + i] * w[b * blockStride + k * 256 + i * 16 + o], for TP pixels and TB output
    /// blocks. Written out for 12 pixels x 2 blocks; each instantiation keeps only its own accumulators (its own method so
    /// that nothing but the loop's values is live across the loop, see <see cref="MicroKernel512"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TS, TB, TP>(float* x, int* offsets, int count, float* w, nint blockStride, float* tile)
        where TS : struct, IRowCount where TB : struct, IRowCount where TP : struct, IRowCount
    {
        int pixels = TP.Rows, blocks = TB.Rows;
        nint step = TS.Rows * Block;
        Vector512<float> a0_0 = default, a0_1 = default, a0_2 = default, a0_3 = default, a0_4 = default, a0_5 = default, a0_6 = default, a0_7 = default, a0_8 = default, a0_9 = default, a0_10 = default, a0_11 = default;
        Vector512<float> a1_0 = default, a1_1 = default, a1_2 = default, a1_3 = default, a1_4 = default, a1_5 = default, a1_6 = default, a1_7 = default, a1_8 = default, a1_9 = default, a1_10 = default, a1_11 = default;
        for (int k = 0; k < count; k++)
        {
            float* xp = x + offsets[k];
            float* wk = w + (nint)k * BlockSquare;
            for (int ic = 0; ic < Block; ic++, xp++, wk += Block)
            {
                Vector512<float> w0 = Vector512.Load(wk);
                Vector512<float> w1 = blocks > 1 ? Vector512.Load(wk + blockStride) : default;
                {
                    Vector512<float> b = Vector512.Create(xp[0]);
                    a0_0 = Vector512.FusedMultiplyAdd(b, w0, a0_0);
                    if (blocks > 1) a1_0 = Vector512.FusedMultiplyAdd(b, w1, a1_0);
                }
                if (pixels > 1)
                {
                    Vector512<float> b = Vector512.Create(xp[1 * step]);
                    a0_1 = Vector512.FusedMultiplyAdd(b, w0, a0_1);
                    if (blocks > 1) a1_1 = Vector512.FusedMultiplyAdd(b, w1, a1_1);
                }
                if (pixels > 2)
                {
                    Vector512<float> b = Vector512.Create(xp[2 * step]);
                    a0_2 = Vector512.FusedMultiplyAdd(b, w0, a0_2);
                    if (blocks > 1) a1_2 = Vector512.FusedMultiplyAdd(b, w1, a1_2);
                }
                if (pixels > 3)
                {
                    Vector512<float> b = Vector512.Create(xp[3 * step]);
                    a0_3 = Vector512.FusedMultiplyAdd(b, w0, a0_3);
                    if (blocks > 1) a1_3 = Vector512.FusedMultiplyAdd(b, w1, a1_3);
                }
                if (pixels > 4)
                {
                    Vector512<float> b = Vector512.Create(xp[4 * step]);
                    a0_4 = Vector512.FusedMultiplyAdd(b, w0, a0_4);
                    if (blocks > 1) a1_4 = Vector512.FusedMultiplyAdd(b, w1, a1_4);
                }
                if (pixels > 5)
                {
                    Vector512<float> b = Vector512.Create(xp[5 * step]);
                    a0_5 = Vector512.FusedMultiplyAdd(b, w0, a0_5);
                    if (blocks > 1) a1_5 = Vector512.FusedMultiplyAdd(b, w1, a1_5);
                }
                if (pixels > 6)
                {
                    Vector512<float> b = Vector512.Create(xp[6 * step]);
                    a0_6 = Vector512.FusedMultiplyAdd(b, w0, a0_6);
                    if (blocks > 1) a1_6 = Vector512.FusedMultiplyAdd(b, w1, a1_6);
                }
                if (pixels > 7)
                {
                    Vector512<float> b = Vector512.Create(xp[7 * step]);
                    a0_7 = Vector512.FusedMultiplyAdd(b, w0, a0_7);
                    if (blocks > 1) a1_7 = Vector512.FusedMultiplyAdd(b, w1, a1_7);
                }
                if (pixels > 8)
                {
                    Vector512<float> b = Vector512.Create(xp[8 * step]);
                    a0_8 = Vector512.FusedMultiplyAdd(b, w0, a0_8);
                    if (blocks > 1) a1_8 = Vector512.FusedMultiplyAdd(b, w1, a1_8);
                }
                if (pixels > 9)
                {
                    Vector512<float> b = Vector512.Create(xp[9 * step]);
                    a0_9 = Vector512.FusedMultiplyAdd(b, w0, a0_9);
                    if (blocks > 1) a1_9 = Vector512.FusedMultiplyAdd(b, w1, a1_9);
                }
                if (pixels > 10)
                {
                    Vector512<float> b = Vector512.Create(xp[10 * step]);
                    a0_10 = Vector512.FusedMultiplyAdd(b, w0, a0_10);
                    if (blocks > 1) a1_10 = Vector512.FusedMultiplyAdd(b, w1, a1_10);
                }
                if (pixels > 11)
                {
                    Vector512<float> b = Vector512.Create(xp[11 * step]);
                    a0_11 = Vector512.FusedMultiplyAdd(b, w0, a0_11);
                    if (blocks > 1) a1_11 = Vector512.FusedMultiplyAdd(b, w1, a1_11);
                }
            }
        }
        {
            a0_0.Store(tile + 0 * TileRow);
            if (blocks > 1) a1_0.Store(tile + 0 * TileRow + Block);
        }
        if (pixels > 1)
        {
            a0_1.Store(tile + 1 * TileRow);
            if (blocks > 1) a1_1.Store(tile + 1 * TileRow + Block);
        }
        if (pixels > 2)
        {
            a0_2.Store(tile + 2 * TileRow);
            if (blocks > 1) a1_2.Store(tile + 2 * TileRow + Block);
        }
        if (pixels > 3)
        {
            a0_3.Store(tile + 3 * TileRow);
            if (blocks > 1) a1_3.Store(tile + 3 * TileRow + Block);
        }
        if (pixels > 4)
        {
            a0_4.Store(tile + 4 * TileRow);
            if (blocks > 1) a1_4.Store(tile + 4 * TileRow + Block);
        }
        if (pixels > 5)
        {
            a0_5.Store(tile + 5 * TileRow);
            if (blocks > 1) a1_5.Store(tile + 5 * TileRow + Block);
        }
        if (pixels > 6)
        {
            a0_6.Store(tile + 6 * TileRow);
            if (blocks > 1) a1_6.Store(tile + 6 * TileRow + Block);
        }
        if (pixels > 7)
        {
            a0_7.Store(tile + 7 * TileRow);
            if (blocks > 1) a1_7.Store(tile + 7 * TileRow + Block);
        }
        if (pixels > 8)
        {
            a0_8.Store(tile + 8 * TileRow);
            if (blocks > 1) a1_8.Store(tile + 8 * TileRow + Block);
        }
        if (pixels > 9)
        {
            a0_9.Store(tile + 9 * TileRow);
            if (blocks > 1) a1_9.Store(tile + 9 * TileRow + Block);
        }
        if (pixels > 10)
        {
            a0_10.Store(tile + 10 * TileRow);
            if (blocks > 1) a1_10.Store(tile + 10 * TileRow + Block);
        }
        if (pixels > 11)
        {
            a0_11.Store(tile + 11 * TileRow);
            if (blocks > 1) a1_11.Store(tile + 11 * TileRow + Block);
        }

    }
}
