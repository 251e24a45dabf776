using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// Winograd F(4x4, 3x3) convolution (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016) for 3x3,
/// stride-1, undilated, one-group layers with any padding: each 4x4 output tile is A^T [ (G g G^T) ⊙ (B^T d B) ] A for the
/// 6x6 input tile d around it, so the 36 multiplies per input channel and tile replace 144 (4x fewer). Interpolation points
/// 0, ±1, ±2 and ∞, the standard set. The element-wise products summed over input channels are 36 GEMMs, one per point:
/// M_p[OutC, tiles] = U_p[OutC, C] * V_p[C, tiles], run by the packed GEMM on the tiles of several samples at once.
/// </summary>
/// <remarks>
/// Steps per call: the weights are transformed (U, once per call, as weights change every step); the input planes are
/// copied into zero-bordered planes whose size is whole tiles (so no transform tests a border); then the batch's tiles,
/// numbered (sample, tile row, tile column), are split in contiguous ranges over threads, and each thread, chunk by chunk
/// of <see cref="Layout.ChunkTiles"/> tiles (V and M of a chunk sized to stay in L2), transforms 8 tiles at a time with
/// one vector lane per tile, runs the 36 GEMMs and transforms the products back, adding bias and ReLU (or adding to the
/// output, for the input gradient with accumulation) as it stores. Each output is one fixed sum whatever the chunk or
/// thread count (the GEMM sums a column in the same order wherever it sits), so results do not depend on threads.
/// Error: the transforms scale values by up to 8^2 and 4^2 on the way, so rounding is larger than the direct sum's;
/// measured and bounded in the tests (WinogradConvTests).
/// </remarks>
internal static unsafe class WinogradConv
{
    /// <summary>Output tile side.</summary>
    public const int Tile = 4;

    /// <summary>Input tile side (Tile + 2).</summary>
    public const int Alpha = 6;

    /// <summary>Transform points per tile (Alpha^2): the GEMMs per chunk.</summary>
    public const int Points = Alpha * Alpha;

    /// <summary>Tiles per vector (one lane each).</summary>
    public const int Lanes = 8;

    /// <summary>Floats of one chunk's V and M together, per thread: half of this machine class's 1 MiB L2.</summary>
    private const int ChunkFloats = 1 << 17;

    /// <summary>The geometries this algorithm computes.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.KernelH == 3 && g.KernelW == 3 && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1
        && g.Groups == 1 && g.OutHeight >= 1 && g.OutWidth >= 1 && new Layout(g).Fits
        && (uint)g.PadTop <= 2 && (uint)g.PadLeft <= 2 && (uint)g.PadBottom <= 2 && (uint)g.PadRight <= 2;

    /// <summary>
    /// The input gradient of a 3x3 stride-1 convolution with padding p is a 3x3 stride-1 convolution of dy with the kernel
    /// transposed (channels swapped) and flipped, padded by 2 - p on each side: dx[n, c, h, w] = sum over o, kh, kw of
    /// dy[n, o, h + top - kh, w + left - kw] * w[o, c, kh, kw]. This is its geometry (pads of at most 2 keep it valid).
    /// </summary>
    public static Conv2dGeometry InputGradientGeometry(in Conv2dGeometry g) =>
        new(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels, 3, 3, 1, 1,
            2 - g.PadTop, 2 - g.PadLeft, 2 - g.PadBottom, 2 - g.PadRight);

    /// <summary>The sizes of one call: tiles, padded planes and chunks.</summary>
    public readonly struct Layout
    {
        public Layout(in Conv2dGeometry g)
        {
            G = g;
            TilesH = (g.OutHeight + Tile - 1) / Tile;
            TilesW = (g.OutWidth + Tile - 1) / Tile;
            Hp = TilesH * Tile + 2;
            Wp = TilesW * Tile + 2;
            long tiles = (long)g.Batch * TilesH * TilesW;
            Fits = (long)g.Batch * g.InChannels * Hp * Wp < int.MaxValue && tiles < int.MaxValue / Lanes
                && (long)Lanes * 9 * g.InChannels * g.OutChannels < int.MaxValue;
            Tiles = (int)Math.Min(tiles, int.MaxValue);
            int perTile = Points * (g.InChannels + g.OutChannels);
            ChunkTiles = Math.Clamp(ChunkFloats / perTile / 16 * 16, 16, 256);
        }

        public Conv2dGeometry G { get; }
        public int TilesH { get; }
        public int TilesW { get; }
        /// <summary>Rows of a padded plane: whole input tiles.</summary>
        public int Hp { get; }
        /// <summary>Row stride of a padded plane: whole input tiles.</summary>
        public int Wp { get; }
        public int PlaneP => Hp * Wp;
        /// <summary>Tiles of the whole batch.</summary>
        public int Tiles { get; }
        /// <summary>Whether every offset fits the int32 arithmetic (gather indices) used here.</summary>
        public bool Fits { get; }
        /// <summary>Tiles a thread transforms and multiplies at once (a multiple of <see cref="Lanes"/>).</summary>
        public int ChunkTiles { get; }
        /// <summary>Groups of <see cref="Lanes"/> tiles of the batch (the last may be partial).</summary>
        public int Groups => (Tiles + Lanes - 1) / Lanes;
        public long PaddedLength => (long)G.Batch * G.InChannels * PlaneP;
        /// <summary>Floats of the transformed weights U[36][OutC][C].</summary>
        public long WeightLength => (long)Points * G.OutChannels * G.InChannels;
        /// <summary>Floats of one thread's V[36][C][chunk] and M[36][OutC][chunk].</summary>
        public int ChunkLength => Points * (G.InChannels + G.OutChannels) * ChunkTiles;
    }

    /// <summary>
    /// Item = an output channel (GEMM row) r: U[p][r][k] = (G g G^T)[p] for k over the GEMM's shared dimension, where g is
    /// the 3x3 kernel at W + r*RowStride + k*ColStride, read flipped (tap 8 - t) when <see cref="Flip"/>.
    /// Forward: r = output channel, k = input channel. Input gradient: r = input channel, k = output channel, flipped.
    /// </summary>
    public struct WeightJob : IRangeJob
    {
        public float* W, U;
        public int Rows, Cols, RowStride, ColStride;
        public bool Flip;

        public readonly void Run(int start, int end)
        {
            Vector256<float>* g = stackalloc Vector256<float>[9];
            Vector256<float>* u = stackalloc Vector256<float>[Points];
            Vector256<float>* gg = stackalloc Vector256<float>[18];
            float* lanes = stackalloc float[Lanes];
            var index = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * Vector256.Create(ColStride);
            for (int r = start; r < end; r++)
            {
                float* row = W + (nint)r * RowStride;
                for (int k0 = 0; k0 < Cols; k0 += Lanes)
                {
                    int count = Math.Min(Lanes, Cols - k0);
                    float* src = row + (nint)k0 * ColStride;
                    for (int t = 0; t < 9; t++)
                    {
                        int tap = Flip ? 8 - t : t;
                        if (count == Lanes && Avx2.IsSupported)
                        {
                            g[t] = Avx2.GatherVector256(src + tap, index, 4);
                        }
                        else
                        {
                            for (int j = 0; j < Lanes; j++)
                            {
                                lanes[j] = j < count ? src[(nint)j * ColStride + tap] : 0f;
                            }
                            g[t] = Vector256.Load(lanes);
                        }
                    }
                    TransformKernel(g, gg, u);
                    nint plane = (nint)Rows * Cols;
                    float* dst = U + (nint)r * Cols + k0;
                    for (int p = 0; p < Points; p++)
                    {
                        if (count == Lanes)
                        {
                            u[p].Store(dst + p * plane);
                        }
                        else
                        {
                            for (int j = 0; j < count; j++)
                            {
                                dst[p * plane + j] = u[p].GetElement(j);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>u = G g G^T for 8 kernels at once (g: 3x3 row-major, t: scratch, u: 6x6 row-major).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransformKernel(Vector256<float>* g, Vector256<float>* t, Vector256<float>* u)
    {
        // G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]; t = G g (6 x 3).
        for (int j = 0; j < 3; j++)
        {
            G(g[j], g[3 + j], g[6 + j], t + j, 3);
        }
        for (int i = 0; i < Alpha; i++)
        {
            G(t[i * 3], t[i * 3 + 1], t[i * 3 + 2], u + i * Alpha, 1);
        }
    }

    /// <summary>The six rows of G times the column (a, b, c), stored at stride <paramref name="stride"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void G(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float>* o, int stride)
    {
        var ac = a + c;
        var q = Vector256.FusedMultiplyAdd(a, Vector256.Create(1f / 24), c * Vector256.Create(1f / 6));
        var b12 = b * Vector256.Create(1f / 12);
        o[0] = a * Vector256.Create(0.25f);
        o[stride] = (ac + b) * Vector256.Create(-1f / 6);
        o[2 * stride] = (ac - b) * Vector256.Create(-1f / 6);
        o[3 * stride] = q + b12;
        o[4 * stride] = q - b12;
        o[5 * stride] = c;
    }

    /// <summary>Item = one input plane (sample, channel): copies it into its zero-bordered plane of whole tiles.</summary>
    public struct PadJob : IRangeJob
    {
        public Layout L;
        public float* X, Xp;

        public readonly void Run(int start, int end)
        {
            var l = L;
            var g = l.G;
            int h = g.Height, w = g.Width, wp = l.Wp, hp = l.Hp, top = g.PadTop, left = g.PadLeft;
            for (int plane = start; plane < end; plane++)
            {
                float* src = X + (nint)plane * h * w;
                float* dst = Xp + (nint)plane * l.PlaneP;
                new Span<float>(dst, top * wp).Clear();
                for (int r = 0; r < h; r++)
                {
                    float* row = dst + (nint)(r + top) * wp;
                    new Span<float>(row, left).Clear();
                    new ReadOnlySpan<float>(src + (nint)r * w, w).CopyTo(new Span<float>(row + left, w));
                    new Span<float>(row + left + w, wp - left - w).Clear();
                }
                new Span<float>(dst + (nint)(h + top) * wp, (hp - h - top) * wp).Clear();
            }
        }
    }

    [ThreadStatic] private static PackBuffer? t_chunk;

    /// <summary>Item = a group of <see cref="Lanes"/> tiles of the batch; a thread's range is processed chunk by chunk.</summary>
    public struct TileJob : IRangeJob
    {
        public Layout L;
        public GemmKernel Kind;
        public float* Xp, U, Y, Bias;
        public bool Relu;
        /// <summary>Add the result to y instead of overwriting it (the input gradient with accumulateDx); no bias or ReLU then.</summary>
        public bool Accumulate;

        public readonly void Run(int start, int end)
        {
            var l = L;
            int c = l.G.InChannels, outC = l.G.OutChannels, chunk = l.ChunkTiles, groupsPerChunk = chunk / Lanes;
            float* v = (t_chunk ??= new PackBuffer()).Get(l.ChunkLength);
            float* m = v + (nint)Points * c * chunk;
            bool gather = Kind != GemmKernel.Scalar && Avx2.IsSupported;
            for (int g0 = start; g0 < end; g0 += groupsPerChunk)
            {
                int groups = Math.Min(groupsPerChunk, end - g0);
                int n = groups * Lanes;
                for (int q = 0; q < groups; q++)
                {
                    InputTransform(l, g0 + q, Xp, v + q * Lanes, n, gather);
                }
                for (int p = 0; p < Points; p++)
                {
                    PackedGemm.Run(Kind, false, false, outC, n, c, 1f, U + (nint)p * outC * c, v + (nint)p * c * n, 0f,
                        m + (nint)p * outC * n, 0, outC, 0, n);
                }
                for (int q = 0; q < groups; q++)
                {
                    OutputTransform(l, g0 + q, m + q * Lanes, n, Y, Bias, Relu, Accumulate);
                }
            }
        }
    }

    /// <summary>Sample, tile row and tile column of tile <paramref name="tile"/> of the batch.</summary>
    private static (int N, int Row, int Col) TileAt(in Layout l, int tile)
    {
        int perSample = l.TilesH * l.TilesW;
        int n = tile / perSample;
        int rest = tile - n * perSample;
        int row = rest / l.TilesW;
        return (n, row, rest - row * l.TilesW);
    }

    /// <summary>
    /// V[p][c][column .. column+8) = (B^T d B)[p] of the 8 tiles of group <paramref name="group"/>, for every input channel
    /// c; <paramref name="ld"/> is V's row length (the chunk's tile count). Lanes past the batch's last tile repeat it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputTransform(in Layout l, int group, float* xp, float* v, int ld, bool gather)
    {
        int c = l.G.InChannels, wp = l.Wp, planeP = l.PlaneP;
        int* offsets = stackalloc int[Lanes];
        for (int j = 0; j < Lanes; j++)
        {
            var (n, row, col) = TileAt(l, Math.Min(group * Lanes + j, l.Tiles - 1));
            offsets[j] = (n * c * planeP) + (row * Tile * wp) + (col * Tile);
        }
        var index = Vector256.Load(offsets);
        Vector256<float>* t = stackalloc Vector256<float>[Points];
        Vector256<float>* d = stackalloc Vector256<float>[Alpha];
        float* lanes = stackalloc float[Lanes];
        nint vPoint = (nint)c * ld;
        for (int ch = 0; ch < c; ch++)
        {
            float* basePtr = xp + (nint)ch * planeP;
            // t = B^T d, column by column of the 6x6 tile (t[i*6 + k] is row i, column k).
            for (int k = 0; k < Alpha; k++)
            {
                for (int r = 0; r < Alpha; r++)
                {
                    float* at = basePtr + (nint)r * wp + k;
                    if (gather)
                    {
                        d[r] = Avx2.GatherVector256(at, index, 4);
                    }
                    else
                    {
                        for (int j = 0; j < Lanes; j++)
                        {
                            lanes[j] = at[offsets[j]];
                        }
                        d[r] = Vector256.Load(lanes);
                    }
                }
                BT(d[0], d[1], d[2], d[3], d[4], d[5], t + k, Alpha);
            }
            // V = t B, row by row, each of the 36 points stored at its GEMM's row ch.
            float* dst = v + (nint)ch * ld;
            for (int i = 0; i < Alpha; i++)
            {
                Vector256<float>* s = t + i * Alpha;
                BTStore(s[0], s[1], s[2], s[3], s[4], s[5], dst + (nint)(i * Alpha) * vPoint, vPoint);
            }
        }
    }

    // B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BT(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3,
        Vector256<float> d4, Vector256<float> d5, Vector256<float>* o, int stride)
    {
        var four = Vector256.Create(4f);
        var five = Vector256.Create(-5f);
        var two = Vector256.Create(2f);
        var a = Vector256.FusedMultiplyAdd(d2, Vector256.Create(-4f), d4); // d4 - 4 d2
        var b = Vector256.FusedMultiplyAdd(d1, Vector256.Create(-4f), d3); // d3 - 4 d1
        var e = d4 - d2;
        var f = (d3 - d1) * two;                                           // 2 (d3 - d1)
        o[0] = Vector256.FusedMultiplyAdd(d0, four, Vector256.FusedMultiplyAdd(d2, five, d4));
        o[stride] = a + b;
        o[2 * stride] = a - b;
        o[3 * stride] = e + f;
        o[4 * stride] = e - f;
        o[5 * stride] = Vector256.FusedMultiplyAdd(d1, four, Vector256.FusedMultiplyAdd(d3, five, d5));
    }

    /// <summary><see cref="BT"/> stored to memory at a float stride (the 6 points of a row of V).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BTStore(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3,
        Vector256<float> d4, Vector256<float> d5, float* o, nint stride)
    {
        var four = Vector256.Create(4f);
        var five = Vector256.Create(-5f);
        var a = Vector256.FusedMultiplyAdd(d2, Vector256.Create(-4f), d4);
        var b = Vector256.FusedMultiplyAdd(d1, Vector256.Create(-4f), d3);
        var e = d4 - d2;
        var f = (d3 - d1) * Vector256.Create(2f);
        Vector256.FusedMultiplyAdd(d0, four, Vector256.FusedMultiplyAdd(d2, five, d4)).Store(o);
        (a + b).Store(o + stride);
        (a - b).Store(o + 2 * stride);
        (e + f).Store(o + 3 * stride);
        (e - f).Store(o + 4 * stride);
        Vector256.FusedMultiplyAdd(d1, four, Vector256.FusedMultiplyAdd(d3, five, d5)).Store(o + 5 * stride);
    }

    // A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AT(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3,
        Vector256<float> m4, Vector256<float> m5, Vector256<float>* o, int stride)
    {
        var s12 = m1 + m2;
        var d12 = m1 - m2;
        var s34 = m3 + m4;
        var d34 = m3 - m4;
        o[0] = m0 + s12 + s34;
        o[stride] = Vector256.FusedMultiplyAdd(d34, Vector256.Create(2f), d12);
        o[2 * stride] = Vector256.FusedMultiplyAdd(s34, Vector256.Create(4f), s12);
        o[3 * stride] = Vector256.FusedMultiplyAdd(d34, Vector256.Create(8f), d12) + m5;
    }

    /// <summary>
    /// The 4x4 outputs of the 8 tiles of group <paramref name="group"/> for every output channel, from M[p][oc][column ..]
    /// (row length <paramref name="ld"/>): A^T m A, then bias and ReLU (or accumulation), stored inside the output only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputTransform(in Layout l, int group, float* m, int ld, float* y, float* bias, bool relu, bool accumulate)
    {
        var g = l.G;
        int outC = g.OutChannels, outH = g.OutHeight, outW = g.OutWidth, plane = outH * outW;
        int valid = Math.Min(Lanes, l.Tiles - group * Lanes);
        // Per lane: where the tile starts in a channel's output plane, how many rows and columns of it are inside.
        int* start = stackalloc int[Lanes];
        int* rows = stackalloc int[Lanes];
        int* cols = stackalloc int[Lanes];
        int* sampleBase = stackalloc int[Lanes];
        for (int j = 0; j < valid; j++)
        {
            var (n, row, col) = TileAt(l, group * Lanes + j);
            start[j] = row * Tile * outW + col * Tile;
            rows[j] = Math.Min(Tile, outH - row * Tile);
            cols[j] = Math.Min(Tile, outW - col * Tile);
            sampleBase[j] = n * outC;
        }
        Vector256<float>* t = stackalloc Vector256<float>[Tile * Alpha];
        Vector256<float>* o = stackalloc Vector256<float>[Tile * Tile];
        nint mPoint = (nint)outC * ld;
        for (int oc = 0; oc < outC; oc++)
        {
            float* src = m + (nint)oc * ld;
            // t = A^T m, column by column (t[i*6 + k]: row i, column k).
            for (int k = 0; k < Alpha; k++)
            {
                float* s = src + k * mPoint;
                AT(Vector256.Load(s), Vector256.Load(s + Alpha * mPoint), Vector256.Load(s + 2 * Alpha * mPoint),
                    Vector256.Load(s + 3 * Alpha * mPoint), Vector256.Load(s + 4 * Alpha * mPoint), Vector256.Load(s + 5 * Alpha * mPoint),
                    t + k, Alpha);
            }
            Vector256<float> b = bias != null && !accumulate ? Vector256.Create(bias[oc]) : Vector256<float>.Zero;
            for (int i = 0; i < Tile; i++)
            {
                Vector256<float>* r = t + i * Alpha;
                AT(r[0], r[1], r[2], r[3], r[4], r[5], o + i * Tile, 1);
                for (int k = 0; k < Tile; k++)
                {
                    if (!accumulate)
                    {
                        var e = o[i * Tile + k] + b;
                        o[i * Tile + k] = relu ? Vector256.Max(e, Vector256<float>.Zero) : e;
                    }
                }
            }
            float* of = (float*)o;
            for (int j = 0; j < valid; j++)
            {
                float* dst = y + (nint)(sampleBase[j] + oc) * plane + start[j];
                for (int i = 0; i < rows[j]; i++)
                {
                    float* dRow = dst + (nint)i * outW;
                    float* sRow = of + i * Tile * Lanes + j;
                    for (int k = 0; k < cols[j]; k++)
                    {
                        if (accumulate)
                        {
                            dRow[k] += sRow[k * Lanes];
                        }
                        else
                        {
                            dRow[k] = sRow[k * Lanes];
                        }
                    }
                }
            }
        }
    }
}
