using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// Direct convolution of any kernel up to <see cref="MaxTaps"/> taps, any padding and stride, no dilation, one group:
/// ResNet's stride-2 3x3 downsampling and 1x1 stride-2 projections, MnistNet's 5x5 layers, stems of 1-3 channels. No
/// column matrix: each input plane is copied once into zero-bordered <em>phase planes</em>, one per (row mod stride,
/// column mod stride) that a tap reads, so output column ow and tap (kh, kw) read column ow + kw / stride of phase
/// kw mod stride: 8 consecutive output columns are one unaligned load at a fixed offset per tap, whatever the stride,
/// and the borders need no tests. A 1x1 stride-2 layer copies only the even rows' even columns (the subsampled input),
/// which its tiles then multiply by the weights. The tile is <see cref="DirectConv2d"/>'s: 4 output channels x 3
/// chunks of 8 columns (12 accumulators), per input channel and tap 3 loads, 4 broadcasts of packed weights and 12
/// FMAs; bias and ReLU in the store. Work is split over (sample, block of output channels, tile), so batch 1 fills
/// both cores, and every output is summed in one fixed order (input channel, then tap) whatever the thread count.
/// </summary>
/// <remarks>
/// The input gradient is a transposed convolution, computed as the equivalent gather: for the input rows of phase
/// py (ih = a*stride + py) only the taps kh with (py + padTop - kh) divisible by the stride reach an output row,
/// oh = a + (py + padTop - kh) / stride, so each of the stride^2 phases of dx is a stride-1 direct convolution of dy
/// (zero-bordered once) with a sub-kernel of the flipped, transposed weights, stored at every stride-th column of dx.
/// No FLOP is spent on the zeros a scatter into a dilated dy would multiply.
/// </remarks>
internal static unsafe class DirectConvKxK
{
    /// <summary>Output channels per tile (broadcast weights).</summary>
    public const int OcBlock = 4;

    /// <summary>Chunks of 8 output columns per tile.</summary>
    public const int Chunks = 3;

    /// <summary>The most kernel taps (KH*KW) the kernel takes: 8x8, past the 7x7 stems it is meant for.</summary>
    public const int MaxTaps = 64;

    /// <summary>The largest stride per axis (each stride multiplies the phase planes of the input gradient).</summary>
    public const int MaxStride = 2;

    private const int Lanes = 8;

    /// <summary>The geometries this kernel computes.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.Groups == 1 && g.DilationH == 1 && g.DilationW == 1 && g.KernelH * g.KernelW <= MaxTaps
        && g.StrideH <= MaxStride && g.StrideW <= MaxStride;

    /// <summary>
    /// Zero-bordered phase planes of C channels of an H x W image: per channel, phase (py, px) holds at (q, j) the
    /// source element (q*Sh + py - PadTop, j*Sw + px - PadLeft), zero outside the image.
    /// </summary>
    public readonly struct PhasePlanes
    {
        public PhasePlanes(int channels, int height, int width, int strideH, int strideW, int padTop, int padLeft, int phasesH, int phasesW, int hq, int wq)
        {
            Channels = channels;
            Height = height;
            Width = width;
            StrideH = strideH;
            StrideW = strideW;
            PadTop = padTop;
            PadLeft = padLeft;
            PhasesH = phasesH;
            PhasesW = phasesW;
            Hq = hq;
            Wq = wq;
        }

        public int Channels { get; }
        public int Height { get; }
        public int Width { get; }
        public int StrideH { get; }
        public int StrideW { get; }
        public int PadTop { get; }
        public int PadLeft { get; }
        public int PhasesH { get; }
        public int PhasesW { get; }
        /// <summary>Rows of one phase plane.</summary>
        public int Hq { get; }
        /// <summary>Row stride of one phase plane.</summary>
        public int Wq { get; }
        public int PlaneQ => Hq * Wq;
        /// <summary>Floats per channel: all its phase planes.</summary>
        public int ChannelStride => PhasesH * PhasesW * PlaneQ;
        public long Length(int batch) => (long)batch * Channels * ChannelStride;
    }

    /// <summary>
    /// One direct pass: a grid of GH x GW outputs per output channel, output (a, b) read from the phase planes at
    /// a*Wq + b plus each tap's offset, stored at y[(a*RowStep + Row0), (b*ColStep + Col0)] of OutC planes of Hy x Wy.
    /// </summary>
    public readonly struct Pass
    {
        public Pass(in PhasePlanes input, int outC, int gh, int gw, int hy, int wy, int rowStep, int row0, int colStep, int col0, int tapCount)
        {
            In = input;
            OutC = outC;
            Gh = gh;
            Gw = gw;
            Hy = hy;
            Wy = wy;
            RowStep = rowStep;
            Row0 = row0;
            ColStep = colStep;
            Col0 = col0;
            TapCount = tapCount;
            ChunksPerRow = (gw + Lanes - 1) / Lanes;
            ChunkCount = gh * ChunksPerRow;
            Tiles = (ChunkCount + Chunks - 1) / Chunks;
            OcBlocks = (outC + OcBlock - 1) / OcBlock;
        }

        public PhasePlanes In { get; }
        public int OutC { get; }
        public int Gh { get; }
        public int Gw { get; }
        public int Hy { get; }
        public int Wy { get; }
        public int RowStep { get; }
        public int Row0 { get; }
        public int ColStep { get; }
        public int Col0 { get; }
        public int TapCount { get; }
        public int ChunksPerRow { get; }
        public int ChunkCount { get; }
        public int Tiles { get; }
        public int OcBlocks { get; }
        /// <summary>Floats of this pass's packed weights: [OcBlocks][input channel][tap][4].</summary>
        public long PackedWeightLength => (long)OcBlocks * OcBlock * In.Channels * TapCount;
    }

    /// <summary>The phase planes of the forward input: the phases the taps read, rows and columns enough for whole chunks.</summary>
    public static PhasePlanes ForwardPlanes(in Conv2dGeometry g)
    {
        int cpr = (g.OutWidth + Lanes - 1) / Lanes;
        return new PhasePlanes(g.InChannels, g.Height, g.Width, g.StrideH, g.StrideW, g.PadTop, g.PadLeft,
            Math.Min(g.StrideH, g.KernelH), Math.Min(g.StrideW, g.KernelW),
            g.OutHeight + (g.KernelH - 1) / g.StrideH, cpr * Lanes + (g.KernelW - 1) / g.StrideW);
    }

    /// <summary>The forward pass; <paramref name="taps"/> (KH*KW entries) receives each tap's offset in the phase planes.</summary>
    public static Pass ForwardPass(in Conv2dGeometry g, in PhasePlanes p, nint* taps)
    {
        for (int kh = 0; kh < g.KernelH; kh++)
        {
            for (int kw = 0; kw < g.KernelW; kw++)
            {
                int phase = kh % g.StrideH * p.PhasesW + kw % g.StrideW;
                taps[kh * g.KernelW + kw] = (nint)phase * p.PlaneQ + (nint)(kh / g.StrideH) * p.Wq + kw / g.StrideW;
            }
        }
        return new Pass(p, g.OutChannels, g.OutHeight, g.OutWidth, g.OutHeight, g.OutWidth, 1, 0, 1, 0, g.KernelH * g.KernelW);
    }

    /// <summary>Packs w [OutC, C, KH, KW] as [block][c][tap][4 output channels], zero for channels past OutC.</summary>
    public static void PackWeights(in Pass pass, float* w, float* dst)
    {
        int c = pass.In.Channels, outC = pass.OutC, taps = pass.TapCount;
        for (int blk = 0; blk < pass.OcBlocks; blk++)
        {
            float* d = dst + (nint)blk * c * taps * OcBlock;
            for (int ic = 0; ic < c; ic++)
            {
                for (int t = 0; t < taps; t++)
                {
                    for (int o = 0; o < OcBlock; o++)
                    {
                        int oc = blk * OcBlock + o;
                        d[((nint)ic * taps + t) * OcBlock + o] = oc < outC ? w[((nint)oc * c + ic) * taps + t] : 0f;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Row offsets d = (py + padTop - kh) / stride of the input gradient's taps: dy row a + d feeds dx row a*stride + py
    /// through kernel row kh when the division is exact. Returns the least and greatest d over all phases and taps.
    /// </summary>
    private static (int Min, int Max) GradientOffsets(int kernel, int stride, int pad)
    {
        int min = int.MaxValue, max = int.MinValue;
        for (int py = 0; py < stride; py++)
        {
            for (int k = 0; k < kernel; k++)
            {
                int num = py + pad - k;
                if (((num % stride) + stride) % stride == 0)
                {
                    min = Math.Min(min, num / stride);
                    max = Math.Max(max, num / stride);
                }
            }
        }
        return (min, max);
    }

    /// <summary>The zero-bordered planes of dy that every phase of the input gradient reads (stride 1, one phase).</summary>
    public static PhasePlanes GradientPlanes(in Conv2dGeometry g)
    {
        var (minH, maxH) = GradientOffsets(g.KernelH, g.StrideH, g.PadTop);
        var (minW, maxW) = GradientOffsets(g.KernelW, g.StrideW, g.PadLeft);
        int padTop = Math.Max(0, -minH), padLeft = Math.Max(0, -minW);
        int ghMax = (g.Height + g.StrideH - 1) / g.StrideH, gwMax = (g.Width + g.StrideW - 1) / g.StrideW;
        int cpr = (gwMax + Lanes - 1) / Lanes;
        int hq = Math.Max(1, ghMax + Math.Max(0, maxH) + padTop);
        int wq = Math.Max(1, cpr * Lanes + Math.Max(0, maxW) + padLeft);
        return new PhasePlanes(g.OutChannels, g.OutHeight, g.OutWidth, 1, 1, padTop, padLeft, 1, 1, hq, wq);
    }

    /// <summary>
    /// Phase (py, px) of the input gradient: fills <paramref name="taps"/> with the offsets of the taps that reach it
    /// and packs their weights (w [OutC, C, KH, KW] flipped and transposed: dy's channels in, dx's out) into
    /// <paramref name="packed"/> as [block of 4 dx channels][dy channel][tap][4]. A phase that no tap reaches (a 1x1
    /// stride-2 layer's odd rows) has no taps: its outputs are zero.
    /// </summary>
    public static Pass GradientPass(in Conv2dGeometry g, in PhasePlanes dyPlanes, int py, int px, nint* taps, float* w, float* packed)
    {
        int count = 0;
        Span<int> tapKh = stackalloc int[MaxTaps];
        Span<int> tapKw = stackalloc int[MaxTaps];
        for (int kh = 0; kh < g.KernelH; kh++)
        {
            int numH = py + g.PadTop - kh;
            if (((numH % g.StrideH) + g.StrideH) % g.StrideH != 0)
            {
                continue;
            }
            for (int kw = 0; kw < g.KernelW; kw++)
            {
                int numW = px + g.PadLeft - kw;
                if (((numW % g.StrideW) + g.StrideW) % g.StrideW != 0)
                {
                    continue;
                }
                taps[count] = (nint)(numH / g.StrideH + dyPlanes.PadTop) * dyPlanes.Wq + numW / g.StrideW + dyPlanes.PadLeft;
                tapKh[count] = kh;
                tapKw[count] = kw;
                count++;
            }
        }
        int gh = (g.Height - py + g.StrideH - 1) / g.StrideH, gw = (g.Width - px + g.StrideW - 1) / g.StrideW;
        var pass = new Pass(dyPlanes, g.InChannels, gh, gw, g.Height, g.Width, g.StrideH, py, g.StrideW, px, count);
        int o = g.OutChannels, c = g.InChannels, area = g.KernelH * g.KernelW;
        for (int blk = 0; blk < pass.OcBlocks; blk++)
        {
            float* d = packed + (nint)blk * o * count * OcBlock;
            for (int oc = 0; oc < o; oc++)
            {
                for (int t = 0; t < count; t++)
                {
                    for (int j = 0; j < OcBlock; j++)
                    {
                        int ic = blk * OcBlock + j;
                        d[((nint)oc * count + t) * OcBlock + j] = ic < c ? w[((nint)oc * c + ic) * area + tapKh[t] * g.KernelW + tapKw[t]] : 0f;
                    }
                }
            }
        }
        return pass;
    }

    /// <summary>Item = one source plane (sample, channel): writes its phase planes, zero outside the image.</summary>
    public struct PadJob : IRangeJob
    {
        public PhasePlanes P;
        public float* X, Xp;

        public readonly void Run(int start, int end)
        {
            var p = P;
            int h = p.Height, w = p.Width, wq = p.Wq;
            for (int plane = start; plane < end; plane++)
            {
                float* src = X + (nint)plane * h * w;
                float* dst = Xp + (nint)plane * p.ChannelStride;
                for (int py = 0; py < p.PhasesH; py++)
                {
                    for (int px = 0; px < p.PhasesW; px++)
                    {
                        int offset = px - p.PadLeft;
                        var (lo, hi) = Im2Col.ValidRange(offset, p.StrideW, w, wq);
                        for (int q = 0; q < p.Hq; q++, dst += wq)
                        {
                            int ih = q * p.StrideH + py - p.PadTop;
                            if ((uint)ih >= (uint)h || lo >= hi)
                            {
                                new Span<float>(dst, wq).Clear();
                                continue;
                            }
                            new Span<float>(dst, lo).Clear();
                            new Span<float>(dst + hi, wq - hi).Clear();
                            float* row = src + (nint)ih * w + offset;
                            if (p.StrideW == 1)
                            {
                                new ReadOnlySpan<float>(row + lo, hi - lo).CopyTo(new Span<float>(dst + lo, hi - lo));
                            }
                            else
                            {
                                for (int j = lo; j < hi; j++)
                                {
                                    dst[j] = row[(nint)j * p.StrideW];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Input channels times taps of <paramref name="pass"/>: the length of its <see cref="FillOffsets"/> table.</summary>
    public static int OffsetCount(in Pass pass) => pass.In.Channels * pass.TapCount;

    /// <summary>offsets[ic * taps + t] = ic's first float in a sample's planes + tap t's offset, in the order the weights are packed.</summary>
    public static void FillOffsets(in Pass pass, nint* taps, int* offsets)
    {
        int cs = pass.In.ChannelStride;
        for (int ic = 0; ic < pass.In.Channels; ic++)
        {
            for (int t = 0; t < pass.TapCount; t++)
            {
                offsets[ic * pass.TapCount + t] = checked((int)((nint)ic * cs + taps[t]));
            }
        }
    }

    /// <summary>Item = (sample, block of output channels, tile of chunks), in that order of nesting.</summary>
    public struct ForwardJob : IRangeJob
    {
        public Pass L;
        public GemmKernel Kind;
        public float* Xp, PackedW, Y, Bias;
        public nint* Taps;
        /// <summary>Each (input channel, tap)'s offset from a chunk's first column in a sample's planes (<see cref="FillOffsets"/>).</summary>
        public int* Offsets;
        public bool Relu;
        /// <summary>Add the result to y instead of overwriting it (the input gradient with accumulateDx).</summary>
        public bool Accumulate;

        public readonly void Run(int start, int end)
        {
            var l = L;
            int perSample = l.OcBlocks * l.Tiles;
            bool simd = Kind != GemmKernel.Scalar && Vector256.IsHardwareAccelerated;
            for (int item = start; item < end; item++)
            {
                int n = item / perSample;
                int rest = item - n * perSample;
                int blk = rest / l.Tiles;
                int tile = rest - blk * l.Tiles;
                if (simd)
                {
                    Tile256(l, n, blk, tile, Xp, Offsets, PackedW, Y, Bias, Relu, Accumulate);
                }
                else
                {
                    TileScalar(l, n, blk, tile, Xp, Taps, PackedW, Y, Bias, Relu, Accumulate);
                }
            }
        }
    }

    /// <summary>Grid row and first column of chunk <paramref name="chunk"/> (inlined: a call per chunk cost as much as a 1-channel tile's FMAs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int Row, int Col) ChunkAt(in Pass l, int chunk)
    {
        int row = chunk / l.ChunksPerRow;
        return (row, (chunk - row * l.ChunksPerRow) * Lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile256(in Pass l, int n, int blk, int tile, float* xp, int* offsets, float* packedW, float* y, float* bias, bool relu, bool accumulate)
    {
        int c = l.In.Channels, wq = l.In.Wq, cs = l.In.ChannelStride, tapCount = l.TapCount, first = tile * Chunks;
        int count = Math.Min(Chunks, l.ChunkCount - first);
        var (r0, c0) = ChunkAt(l, first);
        var (r1, c1) = count > 1 ? ChunkAt(l, first + 1) : (r0, c0);
        var (r2, c2) = count > 2 ? ChunkAt(l, first + 2) : (r0, c0);
        float* xs = xp + (nint)n * c * cs;
        float* p0 = xs + (nint)r0 * wq + c0;
        float* p1 = xs + (nint)r1 * wq + c1;
        float* p2 = xs + (nint)r2 * wq + c2;
        float* wk = packedW + (nint)blk * c * tapCount * OcBlock;
        Vector256<float> a00 = default, a01 = default, a02 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default;
        Vector256<float> a30 = default, a31 = default, a32 = default;
        // One flat loop over (input channel, tap): a 1x1 layer's or a gradient phase's one or two taps per channel
        // would otherwise pay an inner loop's setup for every 12 FMAs.
        int steps = c * tapCount;
        for (int i = 0; i < steps; i++)
        {
            nint off = offsets[i];
            Vector256<float> x0 = Vector256.Load(p0 + off);
            Vector256<float> x1 = Vector256.Load(p1 + off);
            Vector256<float> x2 = Vector256.Load(p2 + off);
            Vector256<float> w;
            w = Vector256.Create(wk[0]);
            a00 = Vector256.FusedMultiplyAdd(w, x0, a00);
            a01 = Vector256.FusedMultiplyAdd(w, x1, a01);
            a02 = Vector256.FusedMultiplyAdd(w, x2, a02);
            w = Vector256.Create(wk[1]);
            a10 = Vector256.FusedMultiplyAdd(w, x0, a10);
            a11 = Vector256.FusedMultiplyAdd(w, x1, a11);
            a12 = Vector256.FusedMultiplyAdd(w, x2, a12);
            w = Vector256.Create(wk[2]);
            a20 = Vector256.FusedMultiplyAdd(w, x0, a20);
            a21 = Vector256.FusedMultiplyAdd(w, x1, a21);
            a22 = Vector256.FusedMultiplyAdd(w, x2, a22);
            w = Vector256.Create(wk[3]);
            a30 = Vector256.FusedMultiplyAdd(w, x0, a30);
            a31 = Vector256.FusedMultiplyAdd(w, x1, a31);
            a32 = Vector256.FusedMultiplyAdd(w, x2, a32);
            wk += OcBlock;
        }
        int oc0 = blk * OcBlock;
        int plane = l.Hy * l.Wy;
        float* ys = y + ((nint)n * l.OutC + oc0) * plane;
        int valid = Math.Min(OcBlock, l.OutC - oc0);
        Store(ys, l, r0, c0, a00, bias, oc0, relu, accumulate);
        if (valid > 1) Store(ys + plane, l, r0, c0, a10, bias, oc0 + 1, relu, accumulate);
        if (valid > 2) Store(ys + 2 * plane, l, r0, c0, a20, bias, oc0 + 2, relu, accumulate);
        if (valid > 3) Store(ys + 3 * plane, l, r0, c0, a30, bias, oc0 + 3, relu, accumulate);
        if (count > 1)
        {
            Store(ys, l, r1, c1, a01, bias, oc0, relu, accumulate);
            if (valid > 1) Store(ys + plane, l, r1, c1, a11, bias, oc0 + 1, relu, accumulate);
            if (valid > 2) Store(ys + 2 * plane, l, r1, c1, a21, bias, oc0 + 2, relu, accumulate);
            if (valid > 3) Store(ys + 3 * plane, l, r1, c1, a31, bias, oc0 + 3, relu, accumulate);
        }
        if (count > 2)
        {
            Store(ys, l, r2, c2, a02, bias, oc0, relu, accumulate);
            if (valid > 1) Store(ys + plane, l, r2, c2, a12, bias, oc0 + 1, relu, accumulate);
            if (valid > 2) Store(ys + 2 * plane, l, r2, c2, a22, bias, oc0 + 2, relu, accumulate);
            if (valid > 3) Store(ys + 3 * plane, l, r2, c2, a32, bias, oc0 + 3, relu, accumulate);
        }
    }

    /// <summary>
    /// Stores one chunk of one output channel: bias and ReLU in the register, then 8 floats (or the row's tail, or every
    /// ColStep-th float of the input gradient's phase), added to them when accumulating.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* yPlane, in Pass l, int row, int col, Vector256<float> v, float* bias, int oc, bool relu, bool accumulate)
    {
        int lanes = Math.Min(Lanes, l.Gw - col);
        int step = l.ColStep;
        float* dst = yPlane + (nint)(row * l.RowStep + l.Row0) * l.Wy + (nint)col * step + l.Col0;
        bool whole = lanes == Lanes && step == 1;
        if (!accumulate)
        {
            if (bias != null)
            {
                v += Vector256.Create(bias[oc]);
            }
            if (relu)
            {
                v = Vector256.Max(v, Vector256<float>.Zero);
            }
        }
        if (whole)
        {
            if (accumulate)
            {
                v += Vector256.Load(dst);
            }
            v.Store(dst);
            return;
        }
        for (int i = 0; i < lanes; i++)
        {
            if (accumulate)
            {
                dst[(nint)i * step] += v.GetElement(i);
            }
            else
            {
                dst[(nint)i * step] = v.GetElement(i);
            }
        }
    }

    /// <summary>The same tile with scalar arithmetic, in the same order of summation (the fallback without SIMD).</summary>
    private static void TileScalar(in Pass l, int n, int blk, int tile, float* xp, nint* taps, float* packedW, float* y, float* bias, bool relu, bool accumulate)
    {
        int c = l.In.Channels, wq = l.In.Wq, cs = l.In.ChannelStride, tapCount = l.TapCount, plane = l.Hy * l.Wy;
        int first = tile * Chunks, count = Math.Min(Chunks, l.ChunkCount - first);
        float* xs = xp + (nint)n * c * cs;
        Span<float> acc = stackalloc float[OcBlock * Lanes];
        for (int q = 0; q < count; q++)
        {
            var (row, col) = ChunkAt(l, first + q);
            int lanes = Math.Min(Lanes, l.Gw - col);
            acc.Clear();
            float* wk = packedW + (nint)blk * c * tapCount * OcBlock;
            float* p = xs + (nint)row * wq + col;
            for (int ic = 0; ic < c; ic++)
            {
                for (int t = 0; t < tapCount; t++)
                {
                    float* xt = p + taps[t];
                    for (int o = 0; o < OcBlock; o++)
                    {
                        float wv = wk[o];
                        for (int i = 0; i < lanes; i++)
                        {
                            acc[o * Lanes + i] = MathF.FusedMultiplyAdd(wv, xt[i], acc[o * Lanes + i]);
                        }
                    }
                    wk += OcBlock;
                }
                p += cs;
            }
            for (int o = 0; o < OcBlock && blk * OcBlock + o < l.OutC; o++)
            {
                int oc = blk * OcBlock + o;
                float* dst = y + ((nint)n * l.OutC + oc) * plane + (nint)(row * l.RowStep + l.Row0) * l.Wy + (nint)col * l.ColStep + l.Col0;
                for (int i = 0; i < lanes; i++)
                {
                    float* d = dst + (nint)i * l.ColStep;
                    if (accumulate)
                    {
                        *d += acc[o * Lanes + i];
                        continue;
                    }
                    float v = bias != null ? acc[o * Lanes + i] + bias[oc] : acc[o * Lanes + i];
                    *d = relu ? MathF.Max(v, 0f) : v;
                }
            }
        }
    }
}
