using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// Direct 3x3 convolution, stride 1, padding 1, no dilation, one group (ResNet's and DenseNet's 3x3 layers): no column
/// matrix. Each sample's planes are copied once into a zero-bordered layout ([C][H+2][Wp], Wp = whole 8-float chunks of a
/// row + 2), so every tap of a chunk of 8 output columns is one unaligned load at a fixed offset and the borders need no
/// tests. A tile is 4 output channels x 3 chunks (12 accumulators): per input channel and tap, 3 loads, 4 broadcasts of
/// packed weights and 12 FMAs. Work is split over (sample, block of 4 output channels, tile of chunks), so batch 1 and
/// narrow layers still fill both cores; each output is summed in one fixed order (input channel, then row, then column
/// of the kernel), whatever the thread count. Bias and ReLU are applied in registers before the store.
/// </summary>
internal static unsafe class DirectConv2d
{
    /// <summary>Output channels per tile (broadcast weights).</summary>
    public const int OcBlock = 4;

    /// <summary>Chunks of 8 output columns per tile.</summary>
    public const int Chunks = 3;

    private const int Lanes = 8;

    /// <summary>The geometries this kernel computes.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.KernelH == 3 && g.KernelW == 3 && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1
        && g.PadTop == 1 && g.PadBottom == 1 && g.PadLeft == 1 && g.PadRight == 1 && g.Groups == 1;

    /// <summary>The sizes of one call's padded input and packed weights.</summary>
    public readonly struct Layout
    {
        public Layout(in Conv2dGeometry g)
        {
            G = g;
            ChunksPerRow = (g.Width + Lanes - 1) / Lanes;
            Wp = ChunksPerRow * Lanes + 2;
            PlaneP = (g.Height + 2) * Wp;
            OcBlocks = (g.OutChannels + OcBlock - 1) / OcBlock;
            ChunkCount = g.Height * ChunksPerRow;
            Tiles = (ChunkCount + Chunks - 1) / Chunks;
        }

        public Conv2dGeometry G { get; }
        /// <summary>Chunks of 8 output columns per row (the last may be partial).</summary>
        public int ChunksPerRow { get; }
        /// <summary>Row stride of the padded planes: the chunks' columns plus a border on each side.</summary>
        public int Wp { get; }
        /// <summary>Floats per padded plane: (H+2) * Wp.</summary>
        public int PlaneP { get; }
        public int OcBlocks { get; }
        /// <summary>Chunks per output plane.</summary>
        public int ChunkCount { get; }
        /// <summary>Tiles of <see cref="Chunks"/> chunks per output plane.</summary>
        public int Tiles { get; }
        /// <summary>Floats of the padded input of the whole batch.</summary>
        public long PaddedLength => (long)G.Batch * G.InChannels * PlaneP;
        /// <summary>Floats of the packed weights: [OcBlocks][C][9][4], missing channels zero.</summary>
        public long PackedWeightLength => (long)OcBlocks * OcBlock * G.InChannels * 9;
    }

    /// <summary>Packs w [OutC, C, 3, 3] as [block][c][tap][4 output channels], zero for channels past OutC.</summary>
    public static void PackWeights(in Layout l, float* w, float* dst)
    {
        int c = l.G.InChannels, outC = l.G.OutChannels;
        for (int blk = 0; blk < l.OcBlocks; blk++)
        {
            float* d = dst + (nint)blk * c * 9 * OcBlock;
            for (int ic = 0; ic < c; ic++)
            {
                for (int t = 0; t < 9; t++)
                {
                    for (int o = 0; o < OcBlock; o++)
                    {
                        int oc = blk * OcBlock + o;
                        d[((nint)ic * 9 + t) * OcBlock + o] = oc < outC ? w[((nint)oc * c + ic) * 9 + t] : 0f;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Packs the flipped, transposed kernel of <see cref="Conv2dGeometry.StrideOneInputGradient"/> from w [OutC, C, 3, 3], in the
    /// layout of <see cref="PackWeights"/> for that geometry (<paramref name="l"/> is its layout).
    /// </summary>
    public static void PackWeightsTransposed(in Layout l, float* w, float* dst)
    {
        int outC = l.G.InChannels, c = l.G.OutChannels; // forward's output channels (dy) and input channels (dx)
        for (int blk = 0; blk < l.OcBlocks; blk++)
        {
            float* d = dst + (nint)blk * outC * 9 * OcBlock;
            for (int o = 0; o < outC; o++)
            {
                for (int t = 0; t < 9; t++)
                {
                    for (int j = 0; j < OcBlock; j++)
                    {
                        int ic = blk * OcBlock + j;
                        d[((nint)o * 9 + t) * OcBlock + j] = ic < c ? w[((nint)o * c + ic) * 9 + (8 - t)] : 0f;
                    }
                }
            }
        }
    }

    /// <summary>Item = one input plane (sample, channel): copies it into its zero-bordered padded plane.</summary>
    public struct PadJob : IRangeJob
    {
        public Layout L;
        public float* X, Xp;

        public readonly void Run(int start, int end)
        {
            var l = L;
            int h = l.G.Height, w = l.G.Width, wp = l.Wp;
            for (int plane = start; plane < end; plane++)
            {
                float* src = X + (nint)plane * h * w;
                float* dst = Xp + (nint)plane * l.PlaneP;
                new Span<float>(dst, wp).Clear();
                for (int r = 0; r < h; r++)
                {
                    float* row = dst + (nint)(r + 1) * wp;
                    row[0] = 0f;
                    new ReadOnlySpan<float>(src + (nint)r * w, w).CopyTo(new Span<float>(row + 1, w));
                    new Span<float>(row + 1 + w, wp - 1 - w).Clear();
                }
                new Span<float>(dst + (nint)(h + 1) * wp, wp).Clear();
            }
        }
    }

    /// <summary>Item = (sample, block of output channels, tile of chunks), in that order of nesting.</summary>
    public struct ForwardJob : IRangeJob
    {
        public Layout L;
        public GemmKernel Kind;
        public float* Xp, PackedW, Y, Bias;
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
                    Tile256(l, n, blk, tile, Xp, PackedW, Y, Bias, Relu, Accumulate);
                }
                else
                {
                    TileScalar(l, n, blk, tile, Xp, PackedW, Y, Bias, Relu, Accumulate);
                }
            }
        }
    }

    /// <summary>Output row and first column of chunk <paramref name="chunk"/> of a plane.</summary>
    private static (int Row, int Col) ChunkAt(in Layout l, int chunk)
    {
        int row = chunk / l.ChunksPerRow;
        return (row, (chunk - row * l.ChunksPerRow) * Lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile256(in Layout l, int n, int blk, int tile, float* xp, float* packedW, float* y, float* bias, bool relu, bool accumulate)
    {
        var g = l.G;
        int c = g.InChannels, wp = l.Wp, first = tile * Chunks;
        int count = Math.Min(Chunks, l.ChunkCount - first);
        var (r0, c0) = ChunkAt(l, first);
        var (r1, c1) = count > 1 ? ChunkAt(l, first + 1) : (r0, c0);
        var (r2, c2) = count > 2 ? ChunkAt(l, first + 2) : (r0, c0);
        float* xs = xp + (nint)n * c * l.PlaneP;
        // Padded coordinates: output (r, col) reads rows r..r+2 and columns col..col+2 of the padded plane.
        float* p0 = xs + (nint)r0 * wp + c0;
        float* p1 = xs + (nint)r1 * wp + c1;
        float* p2 = xs + (nint)r2 * wp + c2;
        float* wk = packedW + (nint)blk * c * 9 * OcBlock;
        Vector256<float> a00 = default, a01 = default, a02 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default;
        Vector256<float> a30 = default, a31 = default, a32 = default;
        for (int ic = 0; ic < c; ic++)
        {
            for (int kh = 0; kh < 3; kh++)
            {
                nint rowOff = (nint)kh * wp;
                for (int kw = 0; kw < 3; kw++)
                {
                    nint off = rowOff + kw;
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
            }
            p0 += l.PlaneP;
            p1 += l.PlaneP;
            p2 += l.PlaneP;
        }
        int oc0 = blk * OcBlock;
        int plane = g.Height * g.Width;
        float* ys = y + ((nint)n * g.OutChannels + oc0) * plane;
        int valid = Math.Min(OcBlock, g.OutChannels - oc0);
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

    /// <summary>Stores one chunk of one output channel: bias and ReLU in the register, then 8 floats or the row's tail (added to them when accumulating).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* yPlane, in Layout l, int row, int col, Vector256<float> v, float* bias, int oc, bool relu, bool accumulate)
    {
        int width = l.G.Width;
        float* dst = yPlane + (nint)row * width + col;
        bool whole = col + Lanes <= width;
        if (accumulate)
        {
            if (whole)
            {
                Vector256.Store(Vector256.Load(dst) + v, dst);
                return;
            }
            for (int i = 0; i < width - col; i++)
            {
                dst[i] += v.GetElement(i);
            }
            return;
        }
        if (bias != null)
        {
            v += Vector256.Create(bias[oc]);
        }
        if (relu)
        {
            v = Vector256.Max(v, Vector256<float>.Zero);
        }
        if (whole)
        {
            v.Store(dst);
            return;
        }
        for (int i = 0; i < width - col; i++)
        {
            dst[i] = v.GetElement(i);
        }
    }

    /// <summary>The same tile with scalar arithmetic, in the same order of summation (the fallback without SIMD).</summary>
    private static void TileScalar(in Layout l, int n, int blk, int tile, float* xp, float* packedW, float* y, float* bias, bool relu, bool accumulate)
    {
        var g = l.G;
        int c = g.InChannels, wp = l.Wp, width = g.Width, plane = g.Height * g.Width;
        int first = tile * Chunks, count = Math.Min(Chunks, l.ChunkCount - first);
        float* xs = xp + (nint)n * c * l.PlaneP;
        Span<float> acc = stackalloc float[OcBlock * Lanes];
        for (int q = 0; q < count; q++)
        {
            var (row, col) = ChunkAt(l, first + q);
            int lanes = Math.Min(Lanes, width - col);
            acc.Clear();
            float* wk = packedW + (nint)blk * c * 9 * OcBlock;
            float* p = xs + (nint)row * wp + col;
            for (int ic = 0; ic < c; ic++)
            {
                for (int t = 0; t < 9; t++)
                {
                    float* xt = p + (nint)(t / 3) * wp + t % 3;
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
                p += l.PlaneP;
            }
            for (int o = 0; o < OcBlock && blk * OcBlock + o < g.OutChannels; o++)
            {
                int oc = blk * OcBlock + o;
                float* dst = y + ((nint)n * g.OutChannels + oc) * plane + (nint)row * width + col;
                for (int i = 0; i < lanes; i++)
                {
                    if (accumulate)
                    {
                        dst[i] += acc[o * Lanes + i];
                        continue;
                    }
                    float v = bias != null ? acc[o * Lanes + i] + bias[oc] : acc[o * Lanes + i];
                    dst[i] = relu ? MathF.Max(v, 0f) : v;
                }
            }
        }
    }
}
