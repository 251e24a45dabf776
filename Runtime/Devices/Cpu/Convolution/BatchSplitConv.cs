using System.Numerics.Tensors;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// Convolution with the batch split over threads: each thread takes a contiguous range of samples and, a few samples
/// at a time, builds their column matrix in its own cache-sized buffer, multiplies it by the weights (packed once per
/// call and shared) with the GEMM micro-kernels, and writes straight into y's NCHW rows. One fork per layer instead of
/// one per GEMM and per copy, no batch-sized intermediates (the whole-batch column matrix of MnistNet's first layer is
/// 3.7 MB, past L2), and no scatter of a [OutC, N*OH*OW] product back to NCHW.
/// </summary>
/// <remarks>
/// Backward on a chunk: dW_g += dY_g col_g^T (register-blocked dot products over the chunk's columns, or the packed
/// path without AVX-512), db += row sums of dY, dcol_g = W_g^T dY_g (micro-kernels on W^T packed once) and col2im into
/// the chunk's own dx planes. Threads other than the first accumulate dW and db privately; the caller adds them in.
/// </remarks>
internal static unsafe class BatchSplitConv
{
    /// <summary>Floats of column matrix per chunk: 384 KiB, so a chunk's columns and its product stay in L2.</summary>
    public const int ChunkFloats = 96 * 1024;

    /// <summary>
    /// Floats of column matrix per chunk in backward: 1 MiB. The weight gradient is a dot product per weight over the
    /// chunk's columns, so a chunk of few columns (7x7 layers: 3 samples of 49 positions at the forward size) spends
    /// as much on the reductions that end each dot product as on the products; longer columns measured ~1.4x faster.
    /// </summary>
    public const int BackwardChunkFloats = 256 * 1024;

    /// <summary>
    /// Most output positions (H*W) for which a 1x1 stride-1 convolution multiplies its input in place. Forward, batch 64,
    /// one thread, 512-bit kernels, the in-place and gathered builds loaded side by side in one process and alternated:
    /// DenseNet's 72-to-48 14x14 layer (196 positions) 0.76x the gathered time, its 78-to-48 7x7 layer 0.63x, but its
    /// 28x28 layers (784 positions, 60 and 72 planes of 3 KiB: as many strided read streams) 1.07-1.09x, where the
    /// contiguous copy into L2 is cheaper than the strided panel reads.
    /// </summary>
    public const int PointwiseInPlaceMaxPositions = 256;

    /// <summary>Samples per chunk: as many as fit <see cref="ChunkFloats"/> (and the device's column budget), at least one.</summary>
    public static int ChunkSamples(in ConvPlan p, long columnBudget, int perThread, int chunkFloats = ChunkFloats)
    {
        long perSample = Math.Max(1L, (long)p.Rows * p.Positions);
        long budget = Math.Min(columnBudget, chunkFloats);
        return (int)Math.Clamp(budget / perSample, 1L, Math.Max(1, perThread));
    }

    /// <summary>Packs each group's W_g [OutC/G, K] into micro-kernel strips of at most MR rows: [K][rows] per strip.</summary>
    public static void PackWeights(in ConvPlan p, float* w, int mr, float* dst)
    {
        int ocg = p.GroupOutChannels, kg = p.GroupRows;
        for (int grp = 0; grp < p.G.Groups; grp++)
        {
            int strips = (ocg + mr - 1) / mr;
            for (int s = 0; s < strips; s++)
            {
                int r0 = StripStart(s, ocg, strips), rs = StripStart(s + 1, ocg, strips) - r0;
                float* src = w + (nint)(grp * ocg + r0) * kg;
                float* d = dst + (nint)(grp * ocg + r0) * kg;
                for (int r = 0; r < rs; r++)
                {
                    for (int k = 0; k < kg; k++)
                    {
                        d[(nint)k * rs + r] = src[(nint)r * kg + k];
                    }
                }
            }
        }
    }

    /// <summary>Packs each group's W_g^T [K, OutC/G] into strips of at most MR rows of K: [OutC/G][rows] per strip.</summary>
    public static void PackWeightsTransposed(in ConvPlan p, float* w, int mr, float* dst)
    {
        int ocg = p.GroupOutChannels, kg = p.GroupRows;
        for (int grp = 0; grp < p.G.Groups; grp++)
        {
            int strips = (kg + mr - 1) / mr;
            for (int s = 0; s < strips; s++)
            {
                int r0 = StripStart(s, kg, strips), rs = StripStart(s + 1, kg, strips) - r0;
                float* d = dst + (nint)(grp * kg + r0) * ocg;
                for (int o = 0; o < ocg; o++)
                {
                    new ReadOnlySpan<float>(w + (nint)(grp * ocg + o) * kg + r0, rs).CopyTo(new Span<float>(d + (nint)o * rs, rs));
                }
            }
        }
    }

    public static int StripStart(int s, int rows, int strips) => (int)((long)s * rows / strips);

    /// <summary>
    /// C[rows, cols] (+)= A[rows, K] B[K, cols] for A packed by <see cref="PackWeights"/>-style strips (per group:
    /// <paramref name="a"/> points at the group's first strip) and B read in place with row stride <paramref name="ldb"/>
    /// (B must have <c>Nr</c> readable floats past every row's last column). Panels outside, strips inside, so a B
    /// panel stays in L1 while every strip passes over it. With <paramref name="bias"/> (one per row) or
    /// <paramref name="relu"/>, each finished MR x NR tile goes through <see cref="ConvEpilogue"/> while it is in L1.
    /// </summary>
    public static void Multiply(GemmKernel kind, int mr, int nr, int rows, int k, int cols, float* a, float* b, nint ldb, float* c, nint ldc, bool accumulate,
        float* bias = null, bool relu = false)
    {
        bool epilogue = bias != null || relu;
        int strips = (rows + mr - 1) / mr;
        for (int j = 0; j < cols; j += nr)
        {
            int nc = Math.Min(nr, cols - j);
            for (int s = 0; s < strips; s++)
            {
                int r0 = StripStart(s, rows, strips), rs = StripStart(s + 1, rows, strips) - r0;
                float* strip = a + (nint)r0 * k;
                for (int pc = 0; pc < k; pc += PackedGemm.Kc)
                {
                    int kc = Math.Min(PackedGemm.Kc, k - pc);
                    float beta = accumulate || pc > 0 ? 1f : 0f;
                    PackedGemm.Kernel(kind, rs, strip + (nint)pc * rs, b + (nint)pc * ldb + j, ldb, kc, c + (nint)r0 * ldc + j, ldc, nc, 1f, beta);
                }
                if (epilogue)
                {
                    for (int r = r0; r < r0 + rs; r++)
                    {
                        ConvEpilogue.Apply(c + (nint)r * ldc + j, nc, bias == null ? null : bias + r, relu);
                    }
                }
            }
        }
    }

    /// <summary>Thread-local scratch: a chunk's columns, their gradient and the chunk's dY in [OutC, cols] order.</summary>
    public sealed class Scratch
    {
        [ThreadStatic] private static Scratch? t_current;

        private float[] _col = [];
        private float[] _dcol = [];
        private float[] _dy = [];
        private float[] _panel = [];

        public static Scratch Current => t_current ??= new Scratch();

        public float[] Col(long length) => Grow(ref _col, length);
        public float[] DCol(long length) => Grow(ref _dcol, length);
        public float[] Dy(long length) => Grow(ref _dy, length);
        /// <summary>One B panel copied out of a wide layout (<see cref="DirectConv1d"/>'s tap GEMMs).</summary>
        public float[] Panel(long length) => Grow(ref _panel, length);

        private static float[] Grow(ref float[] a, long length)
        {
            if (a.Length < length)
            {
                a = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
            }
            return a;
        }
    }

    /// <summary>Forward over samples [start, end) of the batch; bias and ReLU in the GEMM's epilogue.</summary>
    public struct ForwardJob : IRangeJob
    {
        public ConvPlan Plan;
        public GemmKernel Kind;
        public int Mr, Nr, Chunk;
        public float[] X;
        public int XOffset;
        public float* PackedW, Y, Bias;
        public bool Relu;

        public readonly void Run(int start, int end)
        {
            if (Plan.Pointwise && Plan.Positions <= PointwiseInPlaceMaxPositions)
            {
                RunPointwise(start, end);
                return;
            }
            for (int n0 = start; n0 < end; n0 += Chunk)
            {
                RunGathered(n0, Math.Min(Chunk, end - n0));
            }
        }

        /// <summary>
        /// A 1x1 stride-1 unpadded convolution of at most <see cref="PointwiseInPlaceMaxPositions"/> positions multiplies
        /// each sample's [C, H*W] input in place: its column matrix would be a copy of it. The micro-kernels read whole
        /// panels of <see cref="Nr"/> floats, so the last plane's tail panel may read up to Nr - 1 floats past the sample;
        /// a sample without that slack in x's array (the last one, as a rule) takes the gathered path. Both give the same
        /// sums (same kernels, same order).
        /// </summary>
        private readonly void RunPointwise(int start, int end)
        {
            var p = Plan;
            int outC = p.G.OutChannels, ocg = p.GroupOutChannels, kg = p.GroupRows, positions = p.Positions;
            long sampleStride = (long)p.G.InChannels * positions;
            fixed (float* px = X)
            {
                for (int n = start; n < end; n++)
                {
                    if (XOffset + (n + 1) * sampleStride + Nr > X.Length)
                    {
                        RunGathered(n, 1);
                        continue;
                    }
                    float* xSample = px + XOffset + n * sampleStride;
                    float* ySample = Y + (nint)n * outC * positions;
                    for (int grp = 0; grp < p.G.Groups; grp++)
                    {
                        Multiply(Kind, Mr, Nr, ocg, kg, positions, PackedW + (nint)grp * ocg * kg,
                            xSample + (nint)grp * kg * positions, positions,
                            ySample + (nint)grp * ocg * positions, positions, accumulate: false,
                            Bias == null ? null : Bias + grp * ocg, Relu);
                    }
                }
            }
        }

        /// <summary>Samples [n0, n0 + samples): their columns gathered side by side, then one product per sample and group.</summary>
        private readonly void RunGathered(int n0, int samples)
        {
            var p = Plan;
            int outC = p.G.OutChannels, ocg = p.GroupOutChannels, kg = p.GroupRows, positions = p.Positions;
            var scratch = Scratch.Current;
            int cols = samples * positions;
            float[] col = scratch.Col((long)p.Rows * cols + Nr);
            Im2Col.Gather(p, X, XOffset, n0, samples, col, 0, p.Rows);
            fixed (float* pc = col)
            {
                for (int i = 0; i < samples; i++)
                {
                    float* ySample = Y + (nint)(n0 + i) * outC * positions;
                    for (int grp = 0; grp < p.G.Groups; grp++)
                    {
                        Multiply(Kind, Mr, Nr, ocg, kg, positions, PackedW + (nint)grp * ocg * kg,
                            pc + (nint)grp * kg * cols + i * positions, cols,
                            ySample + (nint)grp * ocg * positions, positions, accumulate: false,
                            Bias == null ? null : Bias + grp * ocg, Relu);
                    }
                }
            }
        }
    }

    /// <summary>Backward over samples [start, end); part p of the fork writes its dW and db to <see cref="DwParts"/>[p] unless p is 0.</summary>
    public struct BackwardJob : IRangeJob
    {
        public ConvPlan Plan;
        public GemmKernel Kind;
        public int Mr, Nr, Chunk, Parts, Batch;
        public float[] X;
        public int XOffset;
        /// <summary>dW (null: the caller computes it another way; then db is skipped too).</summary>
        public float* Dw;
        public float* Dy, Db, PackedWT;
        public float[]? Dx;
        public int DxOffset;
        public bool AccumulateDx;
        /// <summary>Private dW (then db) accumulators of parts 1.. (index part-1), each OutC*K + OutC floats, zeroed by the caller.</summary>
        public float[][] DwParts;

        /// <summary>
        /// One part of the fork, [start, end): parts after the first accumulate dW/db privately. <see cref="ForkJoin"/>
        /// keeps the part boundaries even when it runs a fork on one thread, so the sums come out in the same order.
        /// </summary>
        public readonly void Run(int start, int end) => RunPart(PartOf(start), start, end);

        private readonly int PartStart(int part) => (int)((long)Batch * part / Parts);

        private readonly void RunPart(int part, int start, int end)
        {
            var p = Plan;
            int outC = p.G.OutChannels, ocg = p.GroupOutChannels, kg = p.GroupRows, positions = p.Positions;
            var scratch = Scratch.Current;
            bool weights = Dw != null;
            float[]? privateDw = part == 0 || !weights ? null : DwParts[part - 1];
            fixed (float* pPrivate = privateDw)
            {
                float* dw = part == 0 ? Dw : pPrivate;
                float* db = Db == null || !weights ? null : part == 0 ? Db : pPrivate + (nint)outC * kg;
                for (int n0 = start; n0 < end; n0 += Chunk)
                {
                    int samples = Math.Min(Chunk, end - n0);
                    int cols = samples * positions;
                    float[] dyMat = scratch.Dy((long)outC * cols + Nr);
                    float[] col = scratch.Col((long)p.Rows * cols + Nr);
                    if (weights)
                    {
                        // Only dW reads the columns: dx alone (dW from a direct kernel) skips the gather.
                        Im2Col.Gather(p, X, XOffset, n0, samples, col, 0, p.Rows);
                    }
                    fixed (float* pdy = dyMat, pcol = col)
                    {
                        for (int i = 0; i < samples; i++)
                        {
                            float* src = Dy + (nint)(n0 + i) * outC * positions;
                            for (int oc = 0; oc < outC; oc++)
                            {
                                new ReadOnlySpan<float>(src + (nint)oc * positions, positions)
                                    .CopyTo(new Span<float>(pdy + (nint)oc * cols + i * positions, positions));
                            }
                        }
                        if (db != null)
                        {
                            for (int oc = 0; oc < outC; oc++)
                            {
                                db[oc] += TensorPrimitives.Sum(new ReadOnlySpan<float>(pdy + (nint)oc * cols, cols));
                            }
                        }
                        for (int grp = 0; weights && grp < p.G.Groups; grp++)
                        {
                            float* a = pdy + (nint)grp * ocg * cols;
                            float* b = pcol + (nint)grp * kg * cols;
                            float* c = dw + (nint)grp * ocg * kg;
                            if (Kind == GemmKernel.Vector512)
                            {
                                DotGemm.Run(ocg, kg, cols, 1f, a, b, 1f, c, 0, ocg, 0, kg);
                            }
                            else
                            {
                                PackedGemm.Run(Kind, false, true, ocg, kg, cols, 1f, a, b, 1f, c, 0, ocg, 0, kg);
                            }
                        }
                        if (Dx is null)
                        {
                            continue;
                        }
                        float[] dcol = scratch.DCol((long)p.Rows * cols);
                        fixed (float* pdcol = dcol)
                        {
                            for (int grp = 0; grp < p.G.Groups; grp++)
                            {
                                Multiply(Kind, Mr, Nr, kg, ocg, cols, PackedWT + (nint)grp * kg * ocg,
                                    pdy + (nint)grp * ocg * cols, cols, pdcol + (nint)grp * kg * cols, cols, accumulate: false);
                            }
                        }
                        Im2Col.Scatter(p, dcol, samples, Dx, DxOffset, n0, 0, samples * p.G.InChannels, AccumulateDx);
                    }
                }
            }
        }

        private readonly int PartOf(int start)
        {
            for (int t = 0; t < Parts; t++)
            {
                if (PartStart(t) == start)
                {
                    return t;
                }
            }
            throw new InvalidOperationException($"{nameof(BackwardJob)}: item {start} does not start a part of {Batch} items in {Parts} parts.");
        }
    }
}
