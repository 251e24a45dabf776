using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// Winograd F(4x4, 3x3) (<see cref="WinogradConv"/>'s transforms, the same operations on each value) in the blocked channel
/// layout: one 512-bit vector holds 16 channels of one tile position instead of one channel of 16 tiles. Each sample is
/// copied into [channel block][row][column][16] with a zero border wide enough for every tile (<see cref="BlockedConv.ToBlocked(in Conv2dGeometry, int, int, int, float*, float*)"/>),
/// so a 6x6 input tile is 36 plain vector loads with no masks and no transposes. B^T d B runs on whole vectors; the 36
/// products per tile, M_p[tiles][K] = V_p[tiles][C] * U_p[C][K], are <see cref="BlockedConv"/>'s register tile (up to 12
/// tiles x 2 blocks of 16 output channels, one broadcast of V per tile and input channel); A^T M A runs on whole vectors
/// again, and each output row of up to 4 tiles side by side (16 pixels x 16 channels) reaches the NCHW output through one
/// 16x16 register transpose.
/// </summary>
/// <remarks>
/// Every product is one chain of fused multiply-adds over the input channels in order, and the transforms and the
/// epilogue (bias, ReLU, residual, accumulation: <see cref="WinogradConv.OutputStore"/>) are WinogradConv's operations in
/// WinogradConv's order, so the results are WinogradConv's bit for bit whatever the thread count (the tests check it).
/// Work is split over samples; each thread transforms and multiplies its sample's tiles a chunk at a time (V and M of a
/// chunk sized to stay in L2). U is WinogradConv's transformed weights (<see cref="WinogradConv.WeightCache"/>), kept in
/// this layout beside them. Needs 512-bit vectors.
/// The device does not choose it (<see cref="ConvPlan"/> has the figures): it won per layer in <c>bench conv</c> but lost
/// in ResNet-20's training step and evaluation, and an experiment that kept the blocked layout between the evaluation's
/// convolutions (no conversion but at the edges) only matched Winograd's evaluation.
/// </remarks>
internal static unsafe class BlockedWinograd
{
    private const int Block = BlockedConv.Block;
    private const int Tile = WinogradConv.Tile;
    private const int Alpha = WinogradConv.Alpha;
    private const int Points = WinogradConv.Points;

    /// <summary>Floats of one tile's row of products: two output blocks (the register tile's store).</summary>
    private const int PairRow = 2 * Block;

    /// <summary>Vectors of the transforms' scratch: the input transform's 36, or the output transform's 24 + 16.</summary>
    private const int ScratchVectors = Tile * Alpha + Tile * Tile;

    /// <summary>Floats of one chunk's V and M together, per thread: a quarter of L2, as WinogradConv's chunks.</summary>
    private const int ChunkFloats = 1 << 16;

    /// <summary>The geometries this kernel computes: WinogradConv's, with 512-bit vectors.</summary>
    public static bool Applies(in Conv2dGeometry g) => BlockedConv.Applies(g) && WinogradConv.Applies(g);

    /// <summary>The sizes of one call: blocks, tiles per sample, the bordered copy and a chunk.</summary>
    public readonly struct Pass
    {
        public Pass(in Conv2dGeometry g)
        {
            G = g;
            InBlocks = (g.InChannels + Block - 1) / Block;
            OutBlocks = (g.OutChannels + Block - 1) / Block;
            Pairs = (OutBlocks + 1) / 2;
            TilesH = (g.OutHeight + Tile - 1) / Tile;
            TilesW = (g.OutWidth + Tile - 1) / Tile;
            Tiles = TilesH * TilesW;
            Hp = TilesH * Tile + 2;
            Wp = TilesW * Tile + 2;
            int perTile = Points * (InBlocks * Block + Pairs * PairRow);
            ChunkTiles = Math.Clamp(ChunkFloats / perTile, 1, Tiles);
        }

        public Conv2dGeometry G { get; }
        public int InBlocks { get; }
        public int OutBlocks { get; }
        /// <summary>Pairs of output blocks: the register tile's columns.</summary>
        public int Pairs { get; }
        public int TilesH { get; }
        public int TilesW { get; }
        /// <summary>Tiles of one sample.</summary>
        public int Tiles { get; }
        /// <summary>Rows of the bordered copy, from input row -PadTop: every row a tile reads.</summary>
        public int Hp { get; }
        /// <summary>Columns of the bordered copy, from input column -PadLeft.</summary>
        public int Wp { get; }
        /// <summary>Tiles transformed and multiplied at once.</summary>
        public int ChunkTiles { get; }
        /// <summary>Floats of one sample's blocked copy.</summary>
        public long BlockedLength => (long)InBlocks * Hp * Wp * Block;
        /// <summary>Floats of one chunk's V[36][in block][chunk][16] and M[36][pair][chunk][32].</summary>
        public long ChunkLength => (long)Points * ChunkTiles * (InBlocks * Block + Pairs * PairRow);
        /// <summary>Floats of one point's packed U: [out block][in block][16 in][16 out].</summary>
        public int PointWeights => OutBlocks * InBlocks * Block * Block;
        /// <summary>Floats of the packed U of all points.</summary>
        public long PackedWeightLength => (long)Points * PointWeights;
    }

    /// <summary>
    /// ub[p][ob][ib][i][o] = U[p][(16 ob + o) / 4][16 ib + i][o % 4] from WinogradConv's transformed weights
    /// (<paramref name="u"/>, <paramref name="ocBlocks"/> blocks of 4 rows), zero past the channels.
    /// </summary>
    public static void PackWeights(in Pass p, float* u, int ocBlocks, float* ub)
    {
        const int quad = WinogradConv.OcBlock;
        int c = p.G.InChannels, k = p.G.OutChannels;
        if (c % Block != 0 || k % Block != 0)
        {
            new Span<float>(ub, checked((int)p.PackedWeightLength)).Clear();
        }
        nint plane = (nint)ocBlocks * quad * c;
        for (int pt = 0; pt < Points; pt++)
        {
            float* dst = ub + (nint)pt * p.PointWeights;
            for (int q = 0; q < ocBlocks; q++)
            {
                // U's 4 rows of block q at input channel ic are 4 floats in a row, and 4 in a row of ub's [ic][16 out].
                int oc = q * quad, rows = Math.Min(quad, k - oc);
                float* src = u + pt * plane + (nint)q * c * quad;
                float* to = dst + (nint)(oc / Block) * p.InBlocks * Block * Block + oc % Block;
                for (int ic = 0; ic < c; ic++)
                {
                    float* d = to + (nint)(ic / Block) * Block * Block + ic % Block * Block;
                    if (rows == quad)
                    {
                        Vector128.Load(src + (nint)ic * quad).Store(d);
                        continue;
                    }
                    for (int r = 0; r < rows; r++)
                    {
                        d[r] = src[(nint)ic * quad + r];
                    }
                }
            }
        }
    }

    [ThreadStatic] private static PackBuffer? t_blocked;
    [ThreadStatic] private static PackBuffer? t_chunk;
    [ThreadStatic] private static PackBuffer? t_rows;

    /// <summary>Item = one sample: its bordered blocked copy, then its tiles a chunk at a time.</summary>
    public struct Job : IRangeJob
    {
        public Pass P;
        public float* X, PackedU, Y, Bias, Residual;
        public bool Relu, Accumulate;

        public readonly void Run(int start, int end)
        {
            var p = P;
            var g = p.G;
            float* xb = (t_blocked ??= new PackBuffer()).Get(checked((int)p.BlockedLength));
            float* v = (t_chunk ??= new PackBuffer()).Get(checked((int)p.ChunkLength));
            float* m = v + (nint)Points * p.InBlocks * p.ChunkTiles * Block;
            // Four output rows of 16 pixels x 16 channels, and a 16 x 16 square.
            float* rowsOut = (t_rows ??= new PackBuffer()).Get(Tile * Block * Block + Block * Block);
            float* square = rowsOut + Tile * Block * Block;
            int* offsets = stackalloc int[p.InBlocks];
            for (int ib = 0; ib < p.InBlocks; ib++)
            {
                offsets[ib] = ib * p.ChunkTiles * Block;
            }
            var store = new WinogradConv.OutputStore(Y, Residual, Relu, Accumulate);
            // The transforms' registers spilled: allocated once here, since a stackalloc is zeroed at every call.
            Vector512<float>* scratch = stackalloc Vector512<float>[ScratchVectors];
            long inSample = (long)g.InChannels * g.Height * g.Width, outSample = (long)g.OutChannels * g.OutHeight * g.OutWidth;
            for (int n = start; n < end; n++)
            {
                BlockedConv.ToBlocked(g, p.InBlocks, p.Hp, p.Wp, X + n * inSample, xb);
                float* y = Y + n * outSample;
                for (int t0 = 0; t0 < p.Tiles; t0 += p.ChunkTiles)
                {
                    int count = Math.Min(p.ChunkTiles, p.Tiles - t0);
                    for (int t = 0; t < count; t++)
                    {
                        InputTransform(p, xb, t0 + t, v + (nint)t * Block, scratch);
                    }
                    Multiply(p, v, offsets, PackedU, m, count);
                    for (int t = 0; t < count;)
                    {
                        t += OutputTransform(p, m + (nint)t * PairRow, t0 + t, count - t, y, Bias, store, rowsOut, square, scratch, scratch + Tile * Alpha);
                    }
                }
            }
        }
    }

    /// <summary>
    /// V[p][ib][.][16] of one tile for every input block (<paramref name="v"/>: the tile's place in point 0, block 0):
    /// B^T d B, along each of the 6 rows first, then down the columns, as <see cref="WinogradConv"/> computes it.
    /// </summary>
    private static void InputTransform(in Pass p, float* xb, int tile, float* v, Vector512<float>* t)
    {
        int th = tile / p.TilesW, tw = tile - th * p.TilesW;
        nint rowFloats = (nint)p.Wp * Block, blockFloats = p.Hp * rowFloats;
        nint vPoint = (nint)p.InBlocks * p.ChunkTiles * Block, vBlock = (nint)p.ChunkTiles * Block;
        for (int ib = 0; ib < p.InBlocks; ib++)
        {
            float* src = xb + ib * blockFloats + th * Tile * rowFloats + tw * Tile * Block;
            for (int r = 0; r < Alpha; r++)
            {
                float* row = src + r * rowFloats;
                WinogradConv.BTWide(Vector512.Load(row), Vector512.Load(row + Block), Vector512.Load(row + 2 * Block), Vector512.Load(row + 3 * Block),
                    Vector512.Load(row + 4 * Block), Vector512.Load(row + 5 * Block), t + r * Alpha, 1);
            }
            float* dst = v + ib * vBlock;
            for (int j = 0; j < Alpha; j++)
            {
                WinogradConv.BTStoreWide(t[j], t[Alpha + j], t[2 * Alpha + j], t[3 * Alpha + j], t[4 * Alpha + j], t[5 * Alpha + j],
                    dst + j * vPoint, Alpha * vPoint); // point i * 6 + j
            }
        }
    }

    /// <summary>M_p = V_p U_p for the chunk's <paramref name="count"/> tiles, every point and pair of output blocks.</summary>
    private static void Multiply(in Pass p, float* v, int* offsets, float* u, float* m, int count)
    {
        nint vPoint = (nint)p.InBlocks * p.ChunkTiles * Block, mPoint = (nint)p.Pairs * p.ChunkTiles * PairRow;
        nint blockStride = (nint)p.InBlocks * Block * Block;
        int calls = (count + BlockedConv.MaxPixels - 1) / BlockedConv.MaxPixels;
        int width = (count + calls - 1) / calls;
        for (int pt = 0; pt < Points; pt++)
        {
            float* vp = v + pt * vPoint, up = u + (nint)pt * p.PointWeights;
            for (int pair = 0; pair < p.Pairs; pair++)
            {
                int blocks = Math.Min(2, p.OutBlocks - 2 * pair);
                float* mp = m + pt * mPoint + (nint)pair * p.ChunkTiles * PairRow;
                for (int t = 0; t < count; t += width)
                {
                    BlockedConv.Tile(Math.Min(width, count - t), blocks, 1, vp + (nint)t * Block, offsets, p.InBlocks,
                        up + 2 * pair * blockStride, blockStride, mp + (nint)t * PairRow);
                }
            }
        }
    }

    /// <summary>Tiles of one tile row whose outputs are transposed and stored together: 16 pixels of a row.</summary>
    private const int StoreTiles = Block / Tile;

    /// <summary>
    /// The 4x4 outputs of up to 4 tiles side by side in one tile row, from <paramref name="tile"/> on (<paramref name="m"/>:
    /// their products at point 0, pair 0), for every output channel: A^T M A, bias and ReLU per tile, then each output row
    /// of the group, 16 pixels x 16 channels, transposed in registers and stored (or added) inside the output only.
    /// Returns the tiles done.
    /// </summary>
    private static int OutputTransform(in Pass p, float* m, int tile, int left, float* y, float* bias, WinogradConv.OutputStore store,
        float* rowsOut, float* square, Vector512<float>* t, Vector512<float>* o)
    {
        var g = p.G;
        int th = tile / p.TilesW, tw = tile - th * p.TilesW;
        int tiles = Math.Min(Math.Min(StoreTiles, p.TilesW - tw), left);
        int outW = g.OutWidth, plane = g.OutHeight * outW;
        int rows = Math.Min(Tile, g.OutHeight - th * Tile), pixels = Math.Min(tiles * Tile, outW - tw * Tile);
        nint mPoint = (nint)p.Pairs * p.ChunkTiles * PairRow;
        for (int ob = 0; ob < p.OutBlocks; ob++)
        {
            int c0 = ob * Block, lanes = Math.Min(Block, g.OutChannels - c0);
            var b = Vector512<float>.Zero;
            if (bias != null && store.Epilogue)
            {
                var inLanes = Vector512.LessThan(Vector512<float>.Indices, Vector512.Create((float)lanes));
                b = Avx512F.MaskLoad(bias + c0, inLanes, Vector512<float>.Zero);
            }
            for (int j = 0; j < tiles; j++)
            {
                float* src = m + (nint)j * PairRow + (nint)(ob / 2) * p.ChunkTiles * PairRow + ob % 2 * Block;
                for (int k = 0; k < Alpha; k++)
                {
                    float* s = src + k * mPoint;
                    WinogradConv.ATWide(Vector512.Load(s), Vector512.Load(s + Alpha * mPoint), Vector512.Load(s + 2 * Alpha * mPoint),
                        Vector512.Load(s + 3 * Alpha * mPoint), Vector512.Load(s + 4 * Alpha * mPoint), Vector512.Load(s + 5 * Alpha * mPoint),
                        t + k, Alpha);
                }
                for (int i = 0; i < Tile; i++)
                {
                    Vector512<float>* r = t + i * Alpha;
                    WinogradConv.ATWide(r[0], r[1], r[2], r[3], r[4], r[5], o + i * Tile, 1);
                    // rowsOut[i][pixel 4j + k][16 channels]
                    float* to = rowsOut + (i * Block + j * Tile) * Block;
                    for (int k = 0; k < Tile; k++)
                    {
                        var e = o[i * Tile + k];
                        if (store.Epilogue)
                        {
                            e += b;
                            e = store.ReluFirst ? Vector512.Max(e, Vector512<float>.Zero) : e;
                        }
                        e.Store(to + k * Block);
                    }
                }
            }
            float* dst = y + (nint)c0 * plane + th * Tile * outW + tw * Tile;
            for (int i = 0; i < rows; i++, dst += outW)
            {
                BlockedConv.StoreToPlanes(rowsOut + i * Block * Block, Block, pixels, lanes, dst, plane, square, store);
            }
        }
        return tiles;
    }
}
