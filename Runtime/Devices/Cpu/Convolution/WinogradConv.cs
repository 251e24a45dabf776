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
/// M_p[OutC, tiles] = U_p[OutC, C] * V_p[C, tiles], over the tiles of several samples at once. Their shared dimension is
/// only C (16 in ResNet-20's first stage), too short for the packed GEMM's per-call packing and epilogue, so they run on
/// a register-blocked kernel of their own (4 output channels x 24 tiles, 12 accumulators, as the direct 3x3 kernel's; with
/// 512-bit GEMM kernels 4 x 48 tiles, 12 512-bit accumulators, the same sums) that reads U packed by the weight transform
/// and V as the input transform writes it. With 512-bit GEMM kernels the input and output transforms take two groups of 8
/// tiles per 512-bit vector as well (the same operations per lane, so the same bits as the 256-bit transforms), in lanes
/// ordered by quads of 4 tiles, which fewer shuffles gather from the input rows and scatter to the output rows.
/// </summary>
/// <remarks>
/// Steps per call: the weights are transformed (U), unless they are those of the previous call (<see cref="WeightCache"/>);
/// then the batch's tiles, numbered (sample, tile row, tile column), are split in contiguous ranges over threads, and each
/// thread, chunk by chunk of <see cref="Layout.ChunkTiles"/> tiles (V and M of a chunk sized to stay in L2), transforms 8
/// tiles at a time with
/// one vector lane per tile (rows loaded per lane from the unpadded input, the padding masked to zeros, and transposed),
/// runs the 36 GEMMs and transforms the products back, adding bias and ReLU (or adding to the
/// output, for the input gradient with accumulation) as it stores. Each product is one chain of fused multiply-adds over
/// the input channels in order, wherever its tile falls in a chunk, so results do not depend on the thread count.
/// Error: the transforms scale values by up to 8^2 and 4^2 on the way, so rounding is larger than the direct sum's;
/// measured and bounded in the tests (WinogradConvTests).
/// Every stackalloc here is written in full before it is read, so none is zeroed (<see cref="SkipLocalsInitAttribute"/>):
/// the transforms allocate their offsets, masks and spilled rows per group of tiles. Without the zeroing, memset and span
/// clears fell from 1.6% to 0.8% of ResNet-20's training profile (<c>perf</c>), and the training step took 1.006-1.02x
/// fewer seconds (both builds in one process, alternated, either first; evaluation within the noise).
/// </remarks>
[SkipLocalsInit]
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

    /// <summary>
    /// Floats of one chunk's V and M together, per thread: a quarter of this machine class's 1 MiB L2, which makes every
    /// ResNet-20 layer's chunk the smallest whole GEMM tile (48 tiles). Half of L2 gave its 16-channel layers 96-tile
    /// chunks; the quarter measured 1.7-3.2% faster ResNet-20 training steps and 5-7% faster evaluation (2 threads, both
    /// builds loaded in one process and alternated, 10 and 12 rounds, either build first).
    /// </summary>
    private const int ChunkFloats = 1 << 16;

    /// <summary>Output channels per GEMM tile (broadcast weights).</summary>
    public const int OcBlock = 4;

    /// <summary>Tiles per GEMM tile of the 256-bit kernel: 3 vectors.</summary>
    private const int TileBlock = 3 * Lanes;

    /// <summary>Tiles per 512-bit vector of the products.</summary>
    private const int WideLanes = 2 * Lanes;

    /// <summary>Tiles per GEMM tile of the 512-bit kernel: 3 vectors; chunks are whole multiples of it.</summary>
    private const int WideTileBlock = 3 * WideLanes;

    /// <summary>The geometries this algorithm computes.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.KernelH == 3 && g.KernelW == 3 && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1
        && g.Groups == 1 && g.OutHeight >= 1 && g.OutWidth >= 1 && new Layout(g).Fits
        && (uint)g.PadTop <= 2 && (uint)g.PadLeft <= 2 && (uint)g.PadBottom <= 2 && (uint)g.PadRight <= 2
        && new Layout(g.StrideOneInputGradient()).Fits;

    /// <summary>The sizes of one call: tiles and chunks.</summary>
    public readonly struct Layout
    {
        public Layout(in Conv2dGeometry g)
        {
            G = g;
            TilesH = (g.OutHeight + Tile - 1) / Tile;
            TilesW = (g.OutWidth + Tile - 1) / Tile;
            long tiles = (long)g.Batch * TilesH * TilesW;
            Fits = (long)g.Batch * g.InChannels * g.Height * g.Width < int.MaxValue && tiles < int.MaxValue / Lanes
                && (long)Lanes * 9 * g.InChannels * g.OutChannels < int.MaxValue;
            Tiles = (int)Math.Min(tiles, int.MaxValue);
            OcBlocks = (g.OutChannels + OcBlock - 1) / OcBlock;
            int perTile = Points * (g.InChannels + OcBlocks * OcBlock);
            ChunkTiles = Math.Clamp(ChunkFloats / perTile / WideTileBlock * WideTileBlock, WideTileBlock, 5 * WideTileBlock);
        }

        public Conv2dGeometry G { get; }
        public int TilesH { get; }
        public int TilesW { get; }
        /// <summary>Tiles of the whole batch.</summary>
        public int Tiles { get; }
        /// <summary>Whether every offset fits the int32 arithmetic (gather indices) used here.</summary>
        public bool Fits { get; }
        /// <summary>Tiles a thread transforms and multiplies at once (a multiple of <see cref="Lanes"/>).</summary>
        public int ChunkTiles { get; }
        /// <summary>Blocks of <see cref="OcBlock"/> output channels (GEMM rows; the last padded with zero weights).</summary>
        public int OcBlocks { get; }
        /// <summary>Groups of <see cref="Lanes"/> tiles of the batch (the last may be partial).</summary>
        public int Groups => (Tiles + Lanes - 1) / Lanes;
        /// <summary>Floats of the transformed weights U[36][OcBlocks][C][4].</summary>
        public long WeightLength => (long)Points * OcBlocks * OcBlock * G.InChannels;
        /// <summary>Floats of one thread's V[36][C][chunk] and M[36][OcBlocks * 4][chunk].</summary>
        public int ChunkLength => Points * (G.InChannels + OcBlocks * OcBlock) * ChunkTiles;
    }

    /// <summary>
    /// Item = a block b of <see cref="OcBlock"/> GEMM rows r = 4b .. 4b+3 (output channels): U[p][b][k][r % 4] = (G g G^T)[p]
    /// for k over the GEMM's shared dimension, where g is the 3x3 kernel at W + r*RowStride + k*ColStride, read flipped
    /// (tap 8 - t) when <see cref="Flip"/>; rows from <see cref="Rows"/> to the block's end are zero.
    /// Forward: r = output channel, k = input channel. Input gradient: r = input channel, k = output channel, flipped.
    /// A block's 4 rows are transformed for 8 values of k at once and interleaved in registers, so each point's 32 floats
    /// leave as 4 vector stores (a row at a time, they were 32 scalar stores 4 floats apart).
    /// </summary>
    public struct WeightJob : IRangeJob
    {
        public float* W, U;
        public int Rows, Cols, RowStride, ColStride;
        public bool Flip;

        public readonly void Run(int start, int end)
        {
            Vector256<float>* g = stackalloc Vector256<float>[9];
            Vector256<float>* u = stackalloc Vector256<float>[OcBlock * Points];
            Vector256<float>* gg = stackalloc Vector256<float>[18];
            float* lanes = stackalloc float[Lanes];
            var index = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * Vector256.Create(ColStride);
            nint plane = (nint)(Rows + OcBlock - 1) / OcBlock * OcBlock * Cols;
            bool interleave = Avx.IsSupported;
            for (int b = start; b < end; b++)
            {
                float* dst = U + (nint)b * Cols * OcBlock;
                for (int k0 = 0; k0 < Cols; k0 += Lanes)
                {
                    int count = Math.Min(Lanes, Cols - k0);
                    for (int rr = 0; rr < OcBlock; rr++)
                    {
                        int r = b * OcBlock + rr;
                        Vector256<float>* ur = u + rr * Points;
                        if (r >= Rows)
                        {
                            for (int p = 0; p < Points; p++)
                            {
                                ur[p] = Vector256<float>.Zero;
                            }
                            continue;
                        }
                        float* src = W + (nint)r * RowStride + (nint)k0 * ColStride;
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
                        TransformKernel(g, gg, ur);
                    }
                    for (int p = 0; p < Points; p++)
                    {
                        float* d = dst + p * plane + k0 * OcBlock;
                        if (count == Lanes && interleave)
                        {
                            StoreInterleaved(u[p], u[Points + p], u[2 * Points + p], u[3 * Points + p], d);
                            continue;
                        }
                        for (int j = 0; j < count; j++)
                        {
                            for (int rr = 0; rr < OcBlock; rr++)
                            {
                                d[j * OcBlock + rr] = ((float*)(u + rr * Points + p))[j];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>d[4k + i] = a_i[k] for k &lt; 8: the 4 rows' values of one point for 8 values of k, in U's [k][r % 4] order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInterleaved(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3, float* d)
    {
        var t0 = Avx.UnpackLow(a0, a1);   // a0[0] a1[0] a0[1] a1[1] | a0[4] a1[4] a0[5] a1[5]
        var t1 = Avx.UnpackHigh(a0, a1);  // a0[2] a1[2] a0[3] a1[3] | a0[6] ...
        var t2 = Avx.UnpackLow(a2, a3);
        var t3 = Avx.UnpackHigh(a2, a3);
        var s0 = Avx.Shuffle(t0, t2, 0x44); // k = 0 | k = 4
        var s1 = Avx.Shuffle(t0, t2, 0xEE); // k = 1 | k = 5
        var s2 = Avx.Shuffle(t1, t3, 0x44); // k = 2 | k = 6
        var s3 = Avx.Shuffle(t1, t3, 0xEE); // k = 3 | k = 7
        Avx.Permute2x128(s0, s1, 0x20).Store(d);
        Avx.Permute2x128(s2, s3, 0x20).Store(d + 8);
        Avx.Permute2x128(s0, s1, 0x31).Store(d + 16);
        Avx.Permute2x128(s2, s3, 0x31).Store(d + 24);
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

    /// <summary>
    /// The transformed weights U of the weight tensors a device convolved with, kept while their values are unchanged, so an
    /// evaluation forward (whose folded batch-norm weights never change) transforms each layer's weights once instead of on
    /// every call. Keyed by the host array and offset of the weights and the direction (forward, or the flipped input
    /// gradient); each call compares the weights with a copy of those U came from, element for element, so any change (an
    /// optimiser step, a load, a direct write) is seen without a version to trust. In training the comparison stops at the
    /// first element and the copy is one pass over the weights, small beside the transform. An entry lives as long as its array.
    /// </summary>
    internal sealed class WeightCache
    {
        private readonly ConditionalWeakTable<float[], List<Entry>> _entries = new();
        private long _transforms;

        /// <summary>How many times U was computed (for tests: a cache that never hits, or never refreshes, shows here).</summary>
        public long Transforms => Interlocked.Read(ref _transforms);

        /// <summary>U of one weight tensor in one direction, and the weights it was computed from.</summary>
        internal sealed class Entry(int offset, int rows, int cols, bool flip, float[] source, float[] u)
        {
            public readonly int Offset = offset, Rows = rows, Cols = cols;
            public readonly bool Flip = flip;
            public readonly float[] Source = source, U = u;
            public bool Valid;
            /// <summary>U in <see cref="BlockedWinograd"/>'s layout, made from <see cref="U"/> on first use after each transform.</summary>
            public float[]? BlockedU;
            public bool BlockedValid;
        }

        /// <summary>The entry of the weights w[offset ..] of <paramref name="job"/>'s shape and direction, created on first use.</summary>
        public Entry Find(float[] w, int offset, in WeightJob job, long uLength)
        {
            int rows = job.Rows, cols = job.Cols;
            bool flip = job.Flip;
            if (!_entries.TryGetValue(w, out var list))
            {
                list = _entries.GetValue(w, static _ => new List<Entry>(2));
            }
            lock (list)
            {
                foreach (var e in list)
                {
                    if (e.Offset == offset && e.Rows == rows && e.Cols == cols && e.Flip == flip)
                    {
                        return e;
                    }
                }
                var entry = new Entry(offset, rows, cols, flip, new float[rows * cols * 9],
                    GC.AllocateUninitializedArray<float>(checked((int)uLength), pinned: true));
                list.Add(entry);
                return entry;
            }
        }

        /// <summary>
        /// Makes the entry's U that of <paramref name="w"/>: runs <paramref name="job"/> (W = the weights, U = the entry's, pinned
        /// by the caller) over the blocks of its <paramref name="paddedRows"/> rows when w differs from the weights U came from. Callers
        /// convolving with the same weights at once (the row parts of a split evaluation forward) wait here for the one that
        /// transforms, then read U together; the weights must not change while a convolution reads them, as for any kernel.
        /// </summary>
        public void Refresh(Entry entry, ReadOnlySpan<float> w, ref WeightJob job, int paddedRows, int threads)
        {
            lock (entry)
            {
                if (entry.Valid && w.SequenceEqual(entry.Source))
                {
                    return;
                }
                entry.Valid = false;
                entry.BlockedValid = false;
                w.CopyTo(entry.Source);
                int blocks = paddedRows / OcBlock;
                ForkJoin.Run(blocks, ForkJoin.Parts(blocks, 1, threads), ref job);
                entry.Valid = true;
                Interlocked.Increment(ref _transforms);
            }
        }

        /// <summary>
        /// The entry's U in <see cref="BlockedWinograd"/>'s layout for <paramref name="pass"/>, repacked from U (of
        /// <paramref name="ocBlocks"/> blocks of 4 rows) when U was transformed since; call after <see cref="Refresh"/>.
        /// </summary>
        public unsafe float[] Blocked(Entry entry, in BlockedWinograd.Pass pass, int ocBlocks)
        {
            lock (entry)
            {
                long length = pass.PackedWeightLength;
                if (entry.BlockedU is null || entry.BlockedU.Length != length)
                {
                    entry.BlockedU = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
                    entry.BlockedValid = false;
                }
                if (!entry.BlockedValid)
                {
                    fixed (float* u = entry.U, ub = entry.BlockedU)
                    {
                        BlockedWinograd.PackWeights(pass, u, ocBlocks, ub);
                    }
                    entry.BlockedValid = true;
                }
                return entry.BlockedU;
            }
        }
    }

    [ThreadStatic] private static PackBuffer? t_chunk;

    /// <summary>Item = a group of <see cref="Lanes"/> tiles of the batch; a thread's range is processed chunk by chunk.</summary>
    public struct TileJob : IRangeJob
    {
        public Layout L;
        public GemmKernel Kind;
        public float* X, U, Y, Bias;
        public bool Relu;
        /// <summary>Add the result to y instead of overwriting it (the input gradient with accumulateDx); no bias or ReLU then.</summary>
        public bool Accumulate;
        /// <summary>Null, or a tensor of y's shape added to the output before the ReLU (<see cref="Device.Conv2d"/>'s residual).</summary>
        public float* Residual;

        public readonly void Run(int start, int end)
        {
            var l = L;
            int c = l.G.InChannels, rows = l.OcBlocks * OcBlock, chunk = l.ChunkTiles, groupsPerChunk = chunk / Lanes;
            float* v = (t_chunk ??= new PackBuffer()).Get(l.ChunkLength);
            float* m = v + (nint)Points * c * chunk;
            bool simd = Kind != GemmKernel.Scalar && Vector256.IsHardwareAccelerated;
            bool wide = Kind == GemmKernel.Vector512 && Vector512.IsHardwareAccelerated;
            bool transpose = simd && Avx.IsSupported;
            // Two groups of 8 tiles per 512-bit vector in the transforms: each lane's arithmetic is the 256-bit path's.
            bool wideTransforms = wide && transpose && Avx512F.IsSupported;
            var store = new OutputStore(Y, Residual, Relu, Accumulate);
            for (int g0 = start; g0 < end; g0 += groupsPerChunk)
            {
                int groups = Math.Min(groupsPerChunk, end - g0);
                int n = groups * Lanes;
                for (int q = 0; q < groups;)
                {
                    if (wideTransforms && q + 1 < groups)
                    {
                        InputTransformWide(l, g0 + q, X, v + q * Lanes, n);
                        q += 2;
                    }
                    else
                    {
                        InputTransform(l, g0 + q, X, v + q * Lanes, n, transpose);
                        q++;
                    }
                }
                for (int p = 0; p < Points; p++)
                {
                    float* up = U + (nint)p * rows * c, vp = v + (nint)p * c * n, mp = m + (nint)p * rows * n;
                    for (int blk = 0; blk < l.OcBlocks; blk++)
                    {
                        float* ub = up + (nint)blk * c * OcBlock, mb = mp + (nint)blk * OcBlock * n;
                        int j = 0;
                        if (wide)
                        {
                            for (; j + WideTileBlock <= n; j += WideTileBlock)
                            {
                                Block3Wide(ub, vp + j, mb + j, c, n);
                            }
                            for (; j + WideLanes <= n; j += WideLanes)
                            {
                                Block1Wide(ub, vp + j, mb + j, c, n);
                            }
                        }
                        if (simd)
                        {
                            for (; j + TileBlock <= n; j += TileBlock)
                            {
                                Block3(ub, vp + j, mb + j, c, n);
                            }
                            for (; j < n; j += Lanes)
                            {
                                Block1(ub, vp + j, mb + j, c, n);
                            }
                        }
                        else
                        {
                            BlockScalar(ub, vp, mb, c, n);
                        }
                    }
                }
                for (int q = 0; q < groups;)
                {
                    if (wideTransforms && q + 1 < groups)
                    {
                        OutputTransformWide(l, g0 + q, m + q * Lanes, n, Y, Bias, store);
                        q += 2;
                    }
                    else
                    {
                        OutputTransform(l, g0 + q, m + q * Lanes, n, Y, Bias, store, transpose);
                        q++;
                    }
                }
            }
        }
    }

    /// <summary>
    /// m[o][0..24) = sum over k of u[k][o] * v[k][0..24) for the 4 rows o of a block (row stride of v and m: n). Its own
    /// method, so nothing but the loop's values is live across the loop: 12 accumulators, 3 loads, 1 broadcast.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Block3(float* u, float* v, float* m, int c, int n)
    {
        Vector256<float> a00 = default, a01 = default, a02 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default;
        Vector256<float> a30 = default, a31 = default, a32 = default;
        for (int k = 0; k < c; k++)
        {
            Vector256<float> x0 = Vector256.Load(v);
            Vector256<float> x1 = Vector256.Load(v + Lanes);
            Vector256<float> x2 = Vector256.Load(v + 2 * Lanes);
            Vector256<float> w = Vector256.Create(u[0]);
            a00 = Vector256.FusedMultiplyAdd(w, x0, a00);
            a01 = Vector256.FusedMultiplyAdd(w, x1, a01);
            a02 = Vector256.FusedMultiplyAdd(w, x2, a02);
            w = Vector256.Create(u[1]);
            a10 = Vector256.FusedMultiplyAdd(w, x0, a10);
            a11 = Vector256.FusedMultiplyAdd(w, x1, a11);
            a12 = Vector256.FusedMultiplyAdd(w, x2, a12);
            w = Vector256.Create(u[2]);
            a20 = Vector256.FusedMultiplyAdd(w, x0, a20);
            a21 = Vector256.FusedMultiplyAdd(w, x1, a21);
            a22 = Vector256.FusedMultiplyAdd(w, x2, a22);
            w = Vector256.Create(u[3]);
            a30 = Vector256.FusedMultiplyAdd(w, x0, a30);
            a31 = Vector256.FusedMultiplyAdd(w, x1, a31);
            a32 = Vector256.FusedMultiplyAdd(w, x2, a32);
            u += OcBlock;
            v += n;
        }
        a00.Store(m);
        a01.Store(m + Lanes);
        a02.Store(m + 2 * Lanes);
        m += n;
        a10.Store(m);
        a11.Store(m + Lanes);
        a12.Store(m + 2 * Lanes);
        m += n;
        a20.Store(m);
        a21.Store(m + Lanes);
        a22.Store(m + 2 * Lanes);
        m += n;
        a30.Store(m);
        a31.Store(m + Lanes);
        a32.Store(m + 2 * Lanes);
    }

    /// <summary>
    /// <see cref="Block3"/> with 512-bit vectors: m[o][0..48) for the 4 rows o of a block, 12 accumulators, 3 loads and 4
    /// broadcasts per input channel. Each lane's sum is the same chain of fused multiply-adds as the 256-bit kernel's.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Block3Wide(float* u, float* v, float* m, int c, int n)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default;
        for (int k = 0; k < c; k++)
        {
            Vector512<float> x0 = Vector512.Load(v);
            Vector512<float> x1 = Vector512.Load(v + WideLanes);
            Vector512<float> x2 = Vector512.Load(v + 2 * WideLanes);
            Vector512<float> w = Vector512.Create(u[0]);
            a00 = Vector512.FusedMultiplyAdd(w, x0, a00);
            a01 = Vector512.FusedMultiplyAdd(w, x1, a01);
            a02 = Vector512.FusedMultiplyAdd(w, x2, a02);
            w = Vector512.Create(u[1]);
            a10 = Vector512.FusedMultiplyAdd(w, x0, a10);
            a11 = Vector512.FusedMultiplyAdd(w, x1, a11);
            a12 = Vector512.FusedMultiplyAdd(w, x2, a12);
            w = Vector512.Create(u[2]);
            a20 = Vector512.FusedMultiplyAdd(w, x0, a20);
            a21 = Vector512.FusedMultiplyAdd(w, x1, a21);
            a22 = Vector512.FusedMultiplyAdd(w, x2, a22);
            w = Vector512.Create(u[3]);
            a30 = Vector512.FusedMultiplyAdd(w, x0, a30);
            a31 = Vector512.FusedMultiplyAdd(w, x1, a31);
            a32 = Vector512.FusedMultiplyAdd(w, x2, a32);
            u += OcBlock;
            v += n;
        }
        a00.Store(m);
        a01.Store(m + WideLanes);
        a02.Store(m + 2 * WideLanes);
        m += n;
        a10.Store(m);
        a11.Store(m + WideLanes);
        a12.Store(m + 2 * WideLanes);
        m += n;
        a20.Store(m);
        a21.Store(m + WideLanes);
        a22.Store(m + 2 * WideLanes);
        m += n;
        a30.Store(m);
        a31.Store(m + WideLanes);
        a32.Store(m + 2 * WideLanes);
    }

    /// <summary><see cref="Block3Wide"/> for one 512-bit vector of tiles (a chunk's tail).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Block1Wide(float* u, float* v, float* m, int c, int n)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int k = 0; k < c; k++)
        {
            Vector512<float> x = Vector512.Load(v);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(u[0]), x, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(u[1]), x, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(u[2]), x, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(u[3]), x, a3);
            u += OcBlock;
            v += n;
        }
        a0.Store(m);
        a1.Store(m + n);
        a2.Store(m + 2 * n);
        a3.Store(m + 3 * n);
    }

    /// <summary><see cref="Block3"/> for one vector of tiles (a chunk's tail).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Block1(float* u, float* v, float* m, int c, int n)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int k = 0; k < c; k++)
        {
            Vector256<float> x = Vector256.Load(v);
            a0 = Vector256.FusedMultiplyAdd(Vector256.Create(u[0]), x, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Create(u[1]), x, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.Create(u[2]), x, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.Create(u[3]), x, a3);
            u += OcBlock;
            v += n;
        }
        a0.Store(m);
        a1.Store(m + n);
        a2.Store(m + 2 * n);
        a3.Store(m + 3 * n);
    }

    /// <summary>The block's products with scalar arithmetic, each sum in the same order (the fallback without SIMD).</summary>
    private static void BlockScalar(float* u, float* v, float* m, int c, int n)
    {
        for (int o = 0; o < OcBlock; o++)
        {
            float* row = m + (nint)o * n;
            for (int j = 0; j < n; j++)
            {
                float a = 0f;
                for (int k = 0; k < c; k++)
                {
                    a = MathF.FusedMultiplyAdd(u[k * OcBlock + o], v[(nint)k * n + j], a);
                }
                row[j] = a;
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
    /// Each tile row of 8 floats is one masked load per lane from the unpadded input (<see cref="RowSources"/>), turned
    /// into one vector per column by an 8x8 transpose (a gather per element cost more), then d B along the rows and
    /// B^T (d B) down the columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputTransform(in Layout l, int group, float* x, float* v, int ld, bool simd)
    {
        int c = l.G.InChannels, plane = l.G.Height * l.G.Width;
        int* offsets = stackalloc int[Alpha * Lanes];
        Vector256<float>* masks = stackalloc Vector256<float>[Alpha * Lanes];
        RowSources(l, group, offsets, masks);
        Vector256<float>* t = stackalloc Vector256<float>[Points];
        Vector256<float>* cols = stackalloc Vector256<float>[Lanes];
        nint vPoint = (nint)c * ld;
        for (int ch = 0; ch < PrefetchChannels; ch++)
        {
            PrefetchRows(x, ch, c, plane, offsets, Lanes);
        }
        for (int ch = 0; ch < c; ch++)
        {
            float* basePtr = x + (nint)ch * plane;
            PrefetchRows(x, ch + PrefetchChannels, c, plane, offsets, Lanes);
            for (int r = 0; r < Alpha; r++)
            {
                LoadColumns(basePtr, offsets + r * Lanes, masks + r * Lanes, cols, simd);
                BT(cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], t + r * Alpha, 1); // t[r*6 + j] = (d B)[r, j]
            }
            float* dst = v + (nint)ch * ld;
            for (int j = 0; j < Alpha; j++)
            {
                BTStore(t[j], t[Alpha + j], t[2 * Alpha + j], t[3 * Alpha + j], t[4 * Alpha + j], t[5 * Alpha + j],
                    dst + j * vPoint, Alpha * vPoint); // point i*6 + j
            }
        }
    }

    /// <summary>Input channels ahead of the one transformed whose rows <see cref="PrefetchRows"/> asks for.</summary>
    private const int PrefetchChannels = 4;

    /// <summary>
    /// Asks the cache for the rows of input channel <paramref name="ch"/> (if there is one) that the input transform will
    /// read (<paramref name="x"/>: channel 0; row starts at <paramref name="offsets"/>, <paramref name="lanes"/> tiles a
    /// row): the 16 floats from every 4th tile's start, so 4 tiles side by side in one tile row are covered, and of 4 that
    /// are not, the first. The transforms ask for the first <see cref="PrefetchChannels"/> channels before they start,
    /// then, at each channel, for the one that far ahead. A group's tiles read 6 short pieces of rows from each of C planes
    /// far apart, more streams than the hardware prefetcher follows, so in training, where a layer's input arrives from
    /// L3, the transform waited for it: without the prefetch, the input transform of ResNet-20's 16-channel 28x28 layers
    /// was about half of their Winograd time, with it 38% (one thread).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRows(float* x, int ch, int c, int plane, int* offsets, int lanes)
    {
        if (!Sse.IsSupported || ch >= c)
        {
            return;
        }
        float* channel = x + (nint)ch * plane;
        for (int i = 0; i < Alpha * lanes; i += 4)
        {
            Sse.Prefetch0(channel + offsets[i]);
            Sse.Prefetch0(channel + offsets[i] + 15);
        }
    }

    /// <summary>
    /// Where each of the 6 input rows of the 8 tiles of group <paramref name="group"/> starts in channel 0 of the unpadded
    /// input, and which of its 8 floats from there lie inside the image: for row r of lane j, offsets[r * 8 + j] and
    /// masks[r * 8 + j] (all bits set for the columns 0..5 inside the image, zero for the rest, so the padding reads as
    /// zeros and nothing outside the input is touched; a row above or below the image has offset 0 and an empty mask).
    /// Lanes past the batch's last tile repeat it.
    /// </summary>
    private static void RowSources(in Layout l, int group, int* offsets, Vector256<float>* masks)
    {
        var g = l.G;
        int h = g.Height, w = g.Width, plane = h * w, sample = g.InChannels * plane;
        var column = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        var used = Vector256.LessThan(column, Vector256.Create(Alpha));
        for (int j = 0; j < Lanes; j++)
        {
            var (n, row, col) = TileAt(l, Math.Min(group * Lanes + j, l.Tiles - 1));
            int iy = row * Tile - g.PadTop, ix = col * Tile - g.PadLeft;
            var at = column + Vector256.Create(ix);
            var inside = used & Vector256.GreaterThanOrEqual(at, Vector256<int>.Zero) & Vector256.LessThan(at, Vector256.Create(w));
            for (int r = 0; r < Alpha; r++)
            {
                bool rowInside = (uint)(iy + r) < (uint)h;
                offsets[r * Lanes + j] = rowInside ? n * sample + (iy + r) * w + ix : 0;
                masks[r * Lanes + j] = rowInside ? inside.AsSingle() : Vector256<float>.Zero;
            }
        }
    }

    /// <summary>
    /// cols[k][lane] = row[offsets[lane] + k] for k in 0..8 where masks[lane] has column k, 0 elsewhere (the padding).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadColumns(float* row, int* offsets, Vector256<float>* masks, Vector256<float>* cols, bool simd)
    {
        if (simd)
        {
            var r0 = Avx.MaskLoad(row + offsets[0], masks[0]);
            var r1 = Avx.MaskLoad(row + offsets[1], masks[1]);
            var r2 = Avx.MaskLoad(row + offsets[2], masks[2]);
            var r3 = Avx.MaskLoad(row + offsets[3], masks[3]);
            var r4 = Avx.MaskLoad(row + offsets[4], masks[4]);
            var r5 = Avx.MaskLoad(row + offsets[5], masks[5]);
            var r6 = Avx.MaskLoad(row + offsets[6], masks[6]);
            var r7 = Avx.MaskLoad(row + offsets[7], masks[7]);
            Transpose8x8(r0, r1, r2, r3, r4, r5, r6, r7, cols);
            return;
        }
        float* f = (float*)cols;
        for (int k = 0; k < Lanes; k++)
        {
            for (int j = 0; j < Lanes; j++)
            {
                f[k * Lanes + j] = ((int*)(masks + j))[k] != 0 ? row[offsets[j] + k] : 0f;
            }
        }
    }

    /// <summary>o[k][j] = r_j[k]: the 8x8 transpose of 8 vectors (unpack, shuffle, then swap of 128-bit halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, Vector256<float>* o)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        o[0] = Avx.Permute2x128(u0, u4, 0x20);
        o[1] = Avx.Permute2x128(u1, u5, 0x20);
        o[2] = Avx.Permute2x128(u2, u6, 0x20);
        o[3] = Avx.Permute2x128(u3, u7, 0x20);
        o[4] = Avx.Permute2x128(u0, u4, 0x31);
        o[5] = Avx.Permute2x128(u1, u5, 0x31);
        o[6] = Avx.Permute2x128(u2, u6, 0x31);
        o[7] = Avx.Permute2x128(u3, u7, 0x31);
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
    private static void OutputTransform(in Layout l, int group, float* m, int ld, float* y, float* bias, OutputStore store, bool simd)
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
        Vector256<float>* lo = stackalloc Vector256<float>[Lanes];
        Vector256<float>* hi = stackalloc Vector256<float>[Lanes];
        nint mPoint = (nint)l.OcBlocks * OcBlock * ld;
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
            Vector256<float> b = bias != null && store.Epilogue ? Vector256.Create(bias[oc]) : Vector256<float>.Zero;
            for (int i = 0; i < Tile; i++)
            {
                Vector256<float>* r = t + i * Alpha;
                AT(r[0], r[1], r[2], r[3], r[4], r[5], o + i * Tile, 1);
                for (int k = 0; k < Tile; k++)
                {
                    if (store.Epilogue)
                    {
                        var e = o[i * Tile + k] + b;
                        o[i * Tile + k] = store.ReluFirst ? Vector256.Max(e, Vector256<float>.Zero) : e;
                    }
                }
            }
            // Per lane, its tile's 16 outputs in row-major order: two 8x8 transposes (rows 0-1, rows 2-3).
            if (simd)
            {
                Transpose8x8(o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7], lo);
                Transpose8x8(o[8], o[9], o[10], o[11], o[12], o[13], o[14], o[15], hi);
            }
            else
            {
                float* of = (float*)o, lf = (float*)lo, hf = (float*)hi;
                for (int q = 0; q < Lanes; q++)
                {
                    for (int j = 0; j < Lanes; j++)
                    {
                        lf[j * Lanes + q] = of[q * Lanes + j];
                        hf[j * Lanes + q] = of[(Lanes + q) * Lanes + j];
                    }
                }
            }
            for (int j = 0; j < valid; j++)
            {
                float* dst = y + (nint)(sampleBase[j] + oc) * plane + start[j];
                float* tileLo = (float*)(lo + j), tileHi = (float*)(hi + j);
                if (simd && rows[j] == Tile && cols[j] == Tile)
                {
                    StoreRow(dst, Vector128.Load(tileLo), store);
                    StoreRow(dst + outW, Vector128.Load(tileLo + Tile), store);
                    StoreRow(dst + 2 * outW, Vector128.Load(tileHi), store);
                    StoreRow(dst + 3 * outW, Vector128.Load(tileHi + Tile), store);
                    continue;
                }
                for (int i = 0; i < rows[j]; i++)
                {
                    float* dRow = dst + (nint)i * outW;
                    float* sRow = (i < 2 ? tileLo : tileHi) + (i & 1) * Tile;
                    for (int k = 0; k < cols[j]; k++)
                    {
                        dRow[k] = store.Apply(dRow + k, sRow[k]);
                    }
                }
            }
        }
    }

    /// <summary>
    /// <see cref="InputTransform"/> for the 16 tiles of groups <paramref name="group"/> and <paramref name="group"/> + 1 at
    /// once, one 512-bit lane per tile, with the same operations per lane as the 256-bit path (the same bits). The lanes
    /// are in quad order: tile 4q + c of the 16 (tile c of quad q) takes lane 4c + q, the order a 4x4 transpose within
    /// each 128-bit block gives (<see cref="RowQuads"/>); the products keep it and <see cref="OutputTransformWide"/> reads
    /// it back, so only these two methods see it. Lanes past the batch's last tile repeat it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputTransformWide(in Layout l, int group, float* x, float* v, int ld)
    {
        int c = l.G.InChannels, plane = l.G.Height * l.G.Width;
        int* offsets = stackalloc int[Alpha * WideLanes];
        Vector512<float>* masks = stackalloc Vector512<float>[Alpha * 8];
        int runs = QuadSources(l, group, offsets, masks);
        Vector512<float>* t = stackalloc Vector512<float>[Points];
        nint vPoint = (nint)c * ld;
        for (int ch = 0; ch < PrefetchChannels; ch++)
        {
            PrefetchRows(x, ch, c, plane, offsets, WideLanes);
        }
        for (int ch = 0; ch < c; ch++)
        {
            float* row = x + (nint)ch * plane;
            PrefetchRows(x, ch + PrefetchChannels, c, plane, offsets, WideLanes);
            for (int r = 0; r < Alpha; r++)
            {
                RowQuads(row, offsets + r * WideLanes, masks + r * 8, runs, t + r * Alpha);
            }
            float* dst = v + (nint)ch * ld;
            for (int j = 0; j < Alpha; j++)
            {
                BTStoreWide(t[j], t[Alpha + j], t[2 * Alpha + j], t[3 * Alpha + j], t[4 * Alpha + j], t[5 * Alpha + j],
                    dst + j * vPoint, Alpha * vPoint);
            }
        }
    }

    /// <summary>
    /// Where the 6 input rows of the 16 tiles of groups <paramref name="group"/> and <paramref name="group"/> + 1 start in
    /// channel 0 of the unpadded input, and which of their floats lie inside the image (the rest read as zeros, and nothing
    /// outside the input is touched; a row above or below the image has offset 0 and an empty mask). Row r of tile c of
    /// quad q: offsets[r * 16 + 4q + c]. Its masks, 128 bytes at masks + r * 8 + 2q: for a run (the quad's 4 tiles side by
    /// side in one tile row: bit q of the result) the quad's 16 floats from the first tile's start, then the 16 from 4
    /// floats on; otherwise each tile's 8 floats (256 bits each, tile c's at c).
    /// </summary>
    private static int QuadSources(in Layout l, int group, int* offsets, Vector512<float>* masks)
    {
        var g = l.G;
        int h = g.Height, w = g.Width, sample = g.InChannels * h * w, runs = 0;
        var column = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        var used = Vector256.LessThan(column, Vector256.Create(Alpha));
        var wide = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (int q = 0; q < 4; q++)
        {
            var (n, row, col) = TileAt(l, Math.Min(group * Lanes + 4 * q, l.Tiles - 1));
            int iy = row * Tile - g.PadTop, ix = col * Tile - g.PadLeft;
            bool run = group * Lanes + 4 * q + 3 < l.Tiles && col + 3 < l.TilesW;
            runs |= run ? 1 << q : 0;
            for (int k = 0; k < 4; k++)
            {
                var (kn, krow, kcol) = run ? (n, row, col + k) : TileAt(l, Math.Min(group * Lanes + 4 * q + k, l.Tiles - 1));
                int ky = krow * Tile - g.PadTop, kx = kcol * Tile - g.PadLeft;
                var at = column + Vector256.Create(kx);
                var inside = (used & Vector256.GreaterThanOrEqual(at, Vector256<int>.Zero) & Vector256.LessThan(at, Vector256.Create(w))).AsSingle();
                for (int r = 0; r < Alpha; r++)
                {
                    bool rowInside = (uint)(ky + r) < (uint)h;
                    offsets[r * WideLanes + 4 * q + k] = rowInside ? kn * sample + (ky + r) * w + kx : 0;
                    if (!run)
                    {
                        ((Vector256<float>*)(masks + r * 8 + 2 * q))[k] = rowInside ? inside : Vector256<float>.Zero;
                    }
                }
            }
            if (run)
            {
                for (int s = 0; s < 2; s++)
                {
                    var at = wide + Vector512.Create(ix + s * Tile);
                    var inside = (Vector512.GreaterThanOrEqual(at, Vector512<int>.Zero) & Vector512.LessThan(at, Vector512.Create(w))).AsSingle();
                    for (int r = 0; r < Alpha; r++)
                    {
                        masks[r * 8 + 2 * q + s] = (uint)(iy + r) < (uint)h ? inside : Vector512<float>.Zero;
                    }
                }
            }
        }
        return runs;
    }

    /// <summary>
    /// Row r of the 16 tiles' d B into t[0..6) (<see cref="InputTransformWide"/>; o and mk: the row's offsets and masks of
    /// <see cref="QuadSources"/>). Each quad's row gives two vectors, block c of the first tile c's columns 0-3 and of the
    /// second its columns 4-7 (<see cref="QuadRow"/>); a 4x4 transpose within each 128-bit block of the 4 quads' vectors
    /// makes column k's vector. Its own method, so the JIT keeps the rows in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RowQuads(float* row, int* o, Vector512<float>* mk, int runs, Vector512<float>* t)
    {
        var (a0, b0) = QuadRow(row, o, mk, (runs & 1) != 0);
        var (a1, b1) = QuadRow(row, o + 4, mk + 2, (runs & 2) != 0);
        var (a2, b2) = QuadRow(row, o + 8, mk + 4, (runs & 4) != 0);
        var (a3, b3) = QuadRow(row, o + 12, mk + 6, (runs & 8) != 0);
        TransposeBlocks(a0, a1, a2, a3, out var c0, out var c1, out var c2, out var c3);
        TransposeBlocks(b0, b1, b2, b3, out var c4, out var c5, out _, out _);
        BTWide(c0, c1, c2, c3, c4, c5, t, 1);
    }

    /// <summary>
    /// A quad's row as two vectors (<see cref="RowQuads"/>): for a run, two 16-float loads 4 floats apart; otherwise
    /// one 8-float load per tile, their 128-bit blocks sorted into the two by a block shuffle.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> Low, Vector512<float> High) QuadRow(float* row, int* o, Vector512<float>* mk, bool run)
    {
        if (run)
        {
            return (Avx512F.MaskLoad(row + o[0], mk[0], Vector512<float>.Zero),
                Avx512F.MaskLoad(row + o[0] + Tile, mk[1], Vector512<float>.Zero));
        }
        var m = (Vector256<float>*)mk;
        var p01 = Halves(Avx512F.VL.MaskLoad(row + o[0], m[0], Vector256<float>.Zero), Avx512F.VL.MaskLoad(row + o[1], m[1], Vector256<float>.Zero));
        var p23 = Halves(Avx512F.VL.MaskLoad(row + o[2], m[2], Vector256<float>.Zero), Avx512F.VL.MaskLoad(row + o[3], m[3], Vector256<float>.Zero));
        return (Avx512F.Shuffle4x128(p01, p23, 0x88), Avx512F.Shuffle4x128(p01, p23, 0xDD)); // blocks 0, 2 of each; 1, 3 of each
    }

    /// <summary>Element 4b + k of r_k = element 4b + q of a_q: the 4x4 transpose within each 128-bit block b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeBlocks(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        out Vector512<float> r0, out Vector512<float> r1, out Vector512<float> r2, out Vector512<float> r3)
    {
        var t0 = Avx512F.UnpackLow(a0, a1);
        var t1 = Avx512F.UnpackHigh(a0, a1);
        var t2 = Avx512F.UnpackLow(a2, a3);
        var t3 = Avx512F.UnpackHigh(a2, a3);
        r0 = Avx512F.Shuffle(t0, t2, 0x44);
        r1 = Avx512F.Shuffle(t0, t2, 0xEE);
        r2 = Avx512F.Shuffle(t1, t3, 0x44);
        r3 = Avx512F.Shuffle(t1, t3, 0xEE);
    }

    /// <summary>
    /// The 512-bit vector of halves lo and hi: one insert into lo's register (Vector512.Create(lo, hi) is two inserts into
    /// the previous value of its destination).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Halves(Vector256<float> lo, Vector256<float> hi) =>
        Avx512F.InsertVector256(lo.ToVector512Unsafe(), hi, 1);

    /// <summary><see cref="BT"/> at 512 bits (the same operations per lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void BTWide(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3,
        Vector512<float> d4, Vector512<float> d5, Vector512<float>* o, int stride)
    {
        var four = Vector512.Create(4f);
        var five = Vector512.Create(-5f);
        var a = Vector512.FusedMultiplyAdd(d2, Vector512.Create(-4f), d4);
        var b = Vector512.FusedMultiplyAdd(d1, Vector512.Create(-4f), d3);
        var e = d4 - d2;
        var f = (d3 - d1) * Vector512.Create(2f);
        o[0] = Vector512.FusedMultiplyAdd(d0, four, Vector512.FusedMultiplyAdd(d2, five, d4));
        o[stride] = a + b;
        o[2 * stride] = a - b;
        o[3 * stride] = e + f;
        o[4 * stride] = e - f;
        o[5 * stride] = Vector512.FusedMultiplyAdd(d1, four, Vector512.FusedMultiplyAdd(d3, five, d5));
    }

    /// <summary><see cref="BTStore"/> at 512 bits (the same operations per lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void BTStoreWide(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3,
        Vector512<float> d4, Vector512<float> d5, float* o, nint stride)
    {
        var four = Vector512.Create(4f);
        var five = Vector512.Create(-5f);
        var a = Vector512.FusedMultiplyAdd(d2, Vector512.Create(-4f), d4);
        var b = Vector512.FusedMultiplyAdd(d1, Vector512.Create(-4f), d3);
        var e = d4 - d2;
        var f = (d3 - d1) * Vector512.Create(2f);
        Vector512.FusedMultiplyAdd(d0, four, Vector512.FusedMultiplyAdd(d2, five, d4)).Store(o);
        (a + b).Store(o + stride);
        (a - b).Store(o + 2 * stride);
        (e + f).Store(o + 3 * stride);
        (e - f).Store(o + 4 * stride);
        Vector512.FusedMultiplyAdd(d1, four, Vector512.FusedMultiplyAdd(d3, five, d5)).Store(o + 5 * stride);
    }

    /// <summary><see cref="AT"/> at 512 bits (the same operations per lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ATWide(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3,
        Vector512<float> m4, Vector512<float> m5, Vector512<float>* o, int stride)
    {
        var s12 = m1 + m2;
        var d12 = m1 - m2;
        var s34 = m3 + m4;
        var d34 = m3 - m4;
        o[0] = m0 + s12 + s34;
        o[stride] = Vector512.FusedMultiplyAdd(d34, Vector512.Create(2f), d12);
        o[2 * stride] = Vector512.FusedMultiplyAdd(s34, Vector512.Create(4f), s12);
        o[3 * stride] = Vector512.FusedMultiplyAdd(d34, Vector512.Create(8f), d12) + m5;
    }

    /// <summary>
    /// <see cref="OutputTransform"/> for the 16 tiles of groups <paramref name="group"/> and <paramref name="group"/> + 1
    /// (the second may be partial), one 512-bit lane per tile in the quad order of <see cref="InputTransformWide"/>, the
    /// same operations per lane as the 256-bit path. Row i of the 4 tiles of quad q is then one 4x4 transpose within
    /// 128-bit blocks away (block c: tile c's row, <see cref="TransposeBlocks"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputTransformWide(in Layout l, int group, float* m, int ld, float* y, float* bias, OutputStore store)
    {
        var g = l.G;
        int outC = g.OutChannels, outH = g.OutHeight, outW = g.OutWidth, plane = outH * outW;
        int valid = Math.Min(WideLanes, l.Tiles - group * Lanes);
        // Per tile: where it starts in channel 0 of its sample's output, how many of its rows (0 past the batch) and
        // columns are inside.
        nint* start = stackalloc nint[WideLanes];
        int* rows = stackalloc int[WideLanes];
        int* cols = stackalloc int[WideLanes];
        for (int j = 0; j < WideLanes; j++)
        {
            var (n, row, col) = TileAt(l, Math.Min(group * Lanes + j, l.Tiles - 1));
            start[j] = (nint)n * outC * plane + row * Tile * outW + col * Tile;
            rows[j] = j < valid ? Math.Min(Tile, outH - row * Tile) : 0;
            cols[j] = Math.Min(Tile, outW - col * Tile);
        }
        // Bit q: quad q is 4 whole tiles side by side, so each of its rows is 16 adjacent floats of the output, stored as
        // one vector instead of 4.
        int whole = 15;
        for (int j = 0; j < WideLanes; j++)
        {
            bool side = rows[j] == Tile && cols[j] == Tile && ((j & 3) == 0 || start[j] == start[j - 1] + Tile);
            whole &= side ? 15 : ~(1 << (j >> 2));
        }
        if (whole == 15)
        {
            OutputQuadsWide(l, m, ld, y, bias, store, start);
            return;
        }
        Vector512<float>* t = stackalloc Vector512<float>[Tile * Alpha];
        Vector512<float>* o = stackalloc Vector512<float>[Tile * Tile];
        nint mPoint = (nint)l.OcBlocks * OcBlock * ld;
        for (int oc = 0; oc < outC; oc++)
        {
            Vector512<float> b = bias != null && store.Epilogue ? Vector512.Create(bias[oc]) : Vector512<float>.Zero;
            TileOutputsWide(m + (nint)oc * ld, mPoint, t, o, b, store, oc + 1 < outC ? ld : 0);
            for (int i = 0; i < Tile; i++)
            {
                float* yi = y + (nint)oc * plane + (nint)i * outW;
                TransposeBlocks(o[i * Tile], o[i * Tile + 1], o[i * Tile + 2], o[i * Tile + 3], out var r0, out var r1, out var r2, out var r3);
                StoreQuadRow(r0, yi, start, rows, cols, i, (whole & 1) != 0, store);
                StoreQuadRow(r1, yi, start + 4, rows + 4, cols + 4, i, (whole & 2) != 0, store);
                StoreQuadRow(r2, yi, start + 8, rows + 8, cols + 8, i, (whole & 4) != 0, store);
                StoreQuadRow(r3, yi, start + 12, rows + 12, cols + 12, i, (whole & 8) != 0, store);
            }
        }
    }

    /// <summary>
    /// Row i of a quad's 4 tiles (block c of r: tile c's) into the output row yi (tile c's part from start[c] on): one
    /// vector for 4 whole tiles side by side, else tile by tile, each tile's row straight from its 128-bit block, only
    /// the rows and columns inside the output. Most of ResNet-20's quads are not whole (none at 14x14 and 7x7), and this
    /// transform was 10% of its two-thread training profile, above the products' 7%; spilling r to the stack and reading
    /// each tile back instead measured 2-4.5% slower training steps (both builds alternated in one process).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreQuadRow(Vector512<float> r, float* yi, nint* start, int* rows, int* cols, int i, bool whole, OutputStore store)
    {
        if (whole)
        {
            StoreQuad(yi + start[0], r, store);
            return;
        }
        StoreTileRow(Avx512F.ExtractVector128(r, 0), yi + start[0], i < rows[0] ? cols[0] : 0, store);
        StoreTileRow(Avx512F.ExtractVector128(r, 1), yi + start[1], i < rows[1] ? cols[1] : 0, store);
        StoreTileRow(Avx512F.ExtractVector128(r, 2), yi + start[2], i < rows[2] ? cols[2] : 0, store);
        StoreTileRow(Avx512F.ExtractVector128(r, 3), yi + start[3], i < rows[3] ? cols[3] : 0, store);
    }

    /// <summary>The first <paramref name="count"/> (0 to 4) floats of a tile's row stored to dst (or added to it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTileRow(Vector128<float> row, float* dst, int count, OutputStore store)
    {
        if (count == Tile)
        {
            StoreRow(dst, row, store);
        }
        else if (count > 0)
        {
            var mask = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();
            Avx512F.VL.MaskStore(dst, mask, store.Apply(dst, row.ToVector256Unsafe(), mask));
        }
    }

    /// <summary>
    /// o[i*4 + k] = output (i, k) of the 16 tiles of one output channel, from its products at src (point stride
    /// <paramref name="mPoint"/>): A^T m A, then bias and ReLU unless accumulating. The 36 products of the channel
    /// <paramref name="ahead"/> floats on (the next one; 0: none) are prefetched meanwhile: they are 36 lines far apart
    /// in L2, and the prefetch measured 2-5% off ResNet-20's 3x3 layers (28x28, 14x14 and 7x7, one thread).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileOutputsWide(float* src, nint mPoint, Vector512<float>* t, Vector512<float>* o, Vector512<float> b,
        OutputStore store, nint ahead)
    {
        for (int k = 0; k < Alpha; k++)
        {
            float* s = src + k * mPoint;
            if (ahead != 0)
            {
                for (int i = 0; i < Alpha; i++)
                {
                    Sse.Prefetch0(s + ahead + i * Alpha * mPoint);
                }
            }
            ATWide(Vector512.Load(s), Vector512.Load(s + Alpha * mPoint), Vector512.Load(s + 2 * Alpha * mPoint),
                Vector512.Load(s + 3 * Alpha * mPoint), Vector512.Load(s + 4 * Alpha * mPoint), Vector512.Load(s + 5 * Alpha * mPoint),
                t + k, Alpha);
        }
        for (int i = 0; i < Tile; i++)
        {
            Vector512<float>* r = t + i * Alpha;
            ATWide(r[0], r[1], r[2], r[3], r[4], r[5], o + i * Tile, 1);
            if (store.Epilogue)
            {
                for (int k = 0; k < Tile; k++)
                {
                    var e = o[i * Tile + k] + b;
                    o[i * Tile + k] = store.ReluFirst ? Vector512.Max(e, Vector512<float>.Zero) : e;
                }
            }
        }
    }

    /// <summary>
    /// <see cref="OutputTransformWide"/> for 16 tiles that are 4 quads of 4 whole tiles side by side (start per tile as
    /// there): each row of a quad leaves as one vector of 16 floats. Its own method, so the tile-by-tile path keeps its
    /// registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void OutputQuadsWide(in Layout l, float* m, int ld, float* y, float* bias, OutputStore store, nint* start)
    {
        var g = l.G;
        int outC = g.OutChannels, outW = g.OutWidth, plane = g.OutHeight * outW;
        Vector512<float>* t = stackalloc Vector512<float>[Tile * Alpha];
        Vector512<float>* o = stackalloc Vector512<float>[Tile * Tile];
        nint mPoint = (nint)l.OcBlocks * OcBlock * ld;
        float* d0 = y + start[0], d1 = y + start[4], d2 = y + start[8], d3 = y + start[12];
        for (int oc = 0; oc < outC; oc++)
        {
            Vector512<float> b = bias != null && store.Epilogue ? Vector512.Create(bias[oc]) : Vector512<float>.Zero;
            TileOutputsWide(m + (nint)oc * ld, mPoint, t, o, b, store, oc + 1 < outC ? ld : 0);
            nint channel = (nint)oc * plane;
            for (int i = 0; i < Tile; i++)
            {
                nint at = channel + (nint)i * outW;
                RowsOfQuads(o[i * Tile], o[i * Tile + 1], o[i * Tile + 2], o[i * Tile + 3], d0 + at, d1 + at, d2 + at, d3 + at, store);
            }
        }
    }

    /// <summary>
    /// Row i of 4 quads from its 4 columns (a_k[4c + q] = element (i, k) of tile c of quad q, the lanes of
    /// <see cref="InputTransformWide"/>), stored as 4 vectors of 16 floats: row i of quad q at dq (or added to it), one 4x4
    /// transpose within each 128-bit block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowsOfQuads(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        float* d0, float* d1, float* d2, float* d3, OutputStore store)
    {
        TransposeBlocks(a0, a1, a2, a3, out var r0, out var r1, out var r2, out var r3);
        StoreQuad(d0, r0, store);
        StoreQuad(d1, r1, store);
        StoreQuad(d2, r2, store);
        StoreQuad(d3, r3, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreQuad(float* dst, Vector512<float> row, OutputStore store) => store.Apply(dst, row).Store(dst);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* dst, Vector128<float> row, OutputStore store) => store.Apply(dst, row).Store(dst);

    /// <summary>
    /// What the output transforms do as they store: bias and ReLU on the transformed tile (<see cref="Epilogue"/>), then,
    /// at the store, either nothing, the value already at the destination added (the input gradient's accumulation), or
    /// the residual at the same place of its own tensor added and the ReLU applied after it (a convolution closing a
    /// residual block: (conv + bias) + residual, then max(., 0), the operations of the unfused add and ReLU, in order).
    /// </summary>
    internal readonly struct OutputStore
    {
        private const int AccumulateBit = 1, ResidualBit = 2, ReluLastBit = 4, ReluFirstBit = 8;

        // Two fields, passed by value, so the JIT can keep them in registers through the inlined stores (a struct passed
        // by reference may be aliased by the stores through float pointers, so its fields would be read again after each).
        private readonly nint _offset;
        private readonly int _mode;

        public OutputStore(float* y, float* residual, bool relu, bool accumulate)
        {
            _offset = residual != null ? (nint)(residual - y) : 0;
            _mode = (accumulate ? AccumulateBit : 0) | (residual != null ? ResidualBit : 0)
                | (relu && residual != null ? ReluLastBit : 0) | (relu && residual == null ? ReluFirstBit : 0);
        }

        private bool Accumulate => (_mode & AccumulateBit) != 0;

        private bool Residual => (_mode & ResidualBit) != 0;

        private bool ReluLast => (_mode & ReluLastBit) != 0;

        /// <summary>Bias (and <see cref="ReluFirst"/>) applied to the tile before it is stored: not when accumulating.</summary>
        public bool Epilogue => !Accumulate;

        /// <summary>Whether the store reads the destination's place (accumulation) or the residual's.</summary>
        public bool AddsAtStore => (_mode & (AccumulateBit | ResidualBit)) != 0;

        /// <summary>ReLU applied with the bias: when there is no residual to add first.</summary>
        public bool ReluFirst => (_mode & ReluFirstBit) != 0;

        /// <summary>The row to store at dst, from the tile's row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Apply(float* dst, Vector512<float> row)
        {
            if (Accumulate)
            {
                return row + Vector512.Load(dst);
            }
            if (!Residual)
            {
                return row;
            }
            row += Vector512.Load(dst + _offset);
            return ReluLast ? Vector512.Max(row, Vector512<float>.Zero) : row;
        }

        /// <summary>The row to store at dst, reading only the floats of <paramref name="mask"/> there (masked stores).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Apply(float* dst, Vector512<float> row, Vector512<float> mask)
        {
            if (Accumulate)
            {
                return row + Avx512F.MaskLoad(dst, mask, Vector512<float>.Zero);
            }
            if (!Residual)
            {
                return row;
            }
            row += Avx512F.MaskLoad(dst + _offset, mask, Vector512<float>.Zero);
            return ReluLast ? Vector512.Max(row, Vector512<float>.Zero) : row;
        }

        /// <inheritdoc cref="Apply(float*, Vector512{float})"/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector128<float> Apply(float* dst, Vector128<float> row)
        {
            if (Accumulate)
            {
                return row + Vector128.Load(dst);
            }
            if (!Residual)
            {
                return row;
            }
            row += Vector128.Load(dst + _offset);
            return ReluLast ? Vector128.Max(row, Vector128<float>.Zero) : row;
        }

        /// <summary>The row to store at dst, reading only the floats of <paramref name="mask"/> there (masked stores).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Apply(float* dst, Vector256<float> row, Vector256<float> mask)
        {
            if (Accumulate)
            {
                return row + Avx512F.VL.MaskLoad(dst, mask, Vector256<float>.Zero);
            }
            if (!Residual)
            {
                return row;
            }
            row += Avx512F.VL.MaskLoad(dst + _offset, mask, Vector256<float>.Zero);
            return ReluLast ? Vector256.Max(row, Vector256<float>.Zero) : row;
        }

        /// <inheritdoc cref="Apply(float*, Vector256{float}, Vector256{float})"/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Apply(float* dst, Vector256<float> row) => Apply(dst, row, Vector256<float>.AllBitsSet);

        /// <summary>The float to store at dst (the scalar tail).</summary>
        public float Apply(float* dst, float value)
        {
            if (Accumulate)
            {
                return *dst + value;
            }
            if (!Residual)
            {
                return value;
            }
            value += dst[_offset];
            return ReluLast ? MathF.Max(value, 0f) : value;
        }
    }
}
