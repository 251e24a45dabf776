using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// Stride-1 convolution along one axis (<c>Conv1d</c>, and any 2-D convolution of 1-high images with 1-high kernels)
/// without im2col: the input is copied once into channel rows that hold the whole batch side by side, each sample's
/// padded span after the other (<c>Xc[ci][n*Span + p]</c>), and tap j of the kernel is then a plain GEMM whose B is
/// Xc read in place, shifted by j*dilation columns. The output is KW GEMMs accumulating over all N*Span columns at
/// once (output channels as rows, the long batch-times-positions dimension as columns), so the micro-kernels see full
/// panels instead of one sample's few dozen positions; the last Reach columns of each sample's span are computed and
/// dropped (they straddle two samples).
/// </summary>
/// <remarks>
/// Backward uses the same shifted views: dY is laid out the same way (<c>dYc[oc][Front + n*Span + t]</c>) with zeros in
/// each sample's dropped columns and Reach zero columns in front, so dXc = sum_j W_j^T dYc shifted right by j*dilation
/// is again KW accumulating GEMMs over whole columns (the zeros stop a sample's gradient from leaking into the next),
/// and dW_j = dYc Xc_j^T is one reduction over all N*Span columns per tap, on the same micro-kernels (dY packed once as
/// strips, the input transposed once so that tap j is XcT shifted down j*dilation rows). Each weight gradient element is
/// summed by one thread over the whole batch, in the same order whatever the thread count.
/// </remarks>
internal static unsafe class DirectConv1d
{
    /// <summary>Columns of a chunk a thread multiplies before copying it out: a [OutC, cols] tile of a few hundred KiB stays in L2.</summary>
    public const int ChunkColumns = 512;

    /// <summary>
    /// Whether <paramref name="g"/> runs here: stride 1 along a 1-high axis (no vertical kernel, stride or padding); anything
    /// else goes to <see cref="BatchSplitConv"/>.
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.Height == 1 && g.KernelH == 1 && g.StrideH == 1 && g.StrideW == 1
        && g.PadTop == 0 && g.PadBottom == 0 && g.OutWidth > 0;

    /// <summary>The sizes of the column layouts of one call.</summary>
    public readonly struct Layout
    {
        public Layout(in Conv2dGeometry g, int nr)
        {
            G = g;
            Span = g.PadLeft + g.Width + g.PadRight;
            Reach = g.DilationW * (g.KernelW - 1);
            OutWidth = g.OutWidth;
            Cols = checked(g.Batch * Span);
            Ldx = checked(Cols + Reach + nr);
            Front = Reach;
            Ldy = checked(Front + Cols + nr);
            Cig = g.InChannels / g.Groups;
            Ocg = g.OutChannels / g.Groups;
        }

        public Conv2dGeometry G { get; }
        /// <summary>Columns per sample: the padded input width.</summary>
        public int Span { get; }
        /// <summary>How far the last tap reaches past the first: dilation * (KW - 1).</summary>
        public int Reach { get; }
        public int OutWidth { get; }
        /// <summary>N * Span.</summary>
        public int Cols { get; }
        /// <summary>Row stride of Xc: the columns, the farthest tap's reach and a panel's over-read.</summary>
        public int Ldx { get; }
        /// <summary>Zero columns before dYc's first sample, so the farthest tap's shift reads zeros.</summary>
        public int Front { get; }
        /// <summary>Row stride of dYc.</summary>
        public int Ldy { get; }
        public int Cig { get; }
        public int Ocg { get; }
        public long XcLength => (long)G.InChannels * Ldx;
        /// <summary>Rows of XcT: the columns and the farthest tap's reach.</summary>
        public int TransposedRows => Cols + Reach;
        /// <summary>XcT's floats: its rows of C, and a panel's over-read past the last.</summary>
        public long XcTLength(int nr) => (long)TransposedRows * G.InChannels + nr;
        public long DycLength => (long)G.OutChannels * Ldy;

        /// <summary>Samples per chunk: about <see cref="ChunkColumns"/> columns, at least one sample.</summary>
        public int ChunkSamples(int perThread) => Math.Clamp(ChunkColumns / Math.Max(1, Span), 1, Math.Max(1, perThread));
    }

    /// <summary>Packs W_{g,j} [OutC/G, C/G] (tap j of group g) into micro-kernel strips of at most MR rows: [C/G][rows] per strip.</summary>
    public static void PackWeights(in Layout l, float* w, int mr, float* dst)
    {
        int kw = l.G.KernelW, ocg = l.Ocg, cig = l.Cig;
        int strips = (ocg + mr - 1) / mr;
        for (int grp = 0; grp < l.G.Groups; grp++)
        {
            for (int tap = 0; tap < kw; tap++)
            {
                float* block = dst + (nint)(grp * kw + tap) * ocg * cig;
                for (int s = 0; s < strips; s++)
                {
                    int r0 = BatchSplitConv.StripStart(s, ocg, strips), rs = BatchSplitConv.StripStart(s + 1, ocg, strips) - r0;
                    float* d = block + (nint)r0 * cig;
                    for (int r = 0; r < rs; r++)
                    {
                        float* src = w + (nint)(grp * ocg + r0 + r) * cig * kw + tap;
                        for (int k = 0; k < cig; k++)
                        {
                            d[(nint)k * rs + r] = src[(nint)k * kw];
                        }
                    }
                }
            }
        }
    }

    /// <summary>Packs W_{g,j}^T [C/G, OutC/G] into strips of at most MR rows of C/G: [OutC/G][rows] per strip.</summary>
    public static void PackWeightsTransposed(in Layout l, float* w, int mr, float* dst)
    {
        int kw = l.G.KernelW, ocg = l.Ocg, cig = l.Cig;
        int strips = (cig + mr - 1) / mr;
        for (int grp = 0; grp < l.G.Groups; grp++)
        {
            for (int tap = 0; tap < kw; tap++)
            {
                float* block = dst + (nint)(grp * kw + tap) * ocg * cig;
                for (int s = 0; s < strips; s++)
                {
                    int r0 = BatchSplitConv.StripStart(s, cig, strips), rs = BatchSplitConv.StripStart(s + 1, cig, strips) - r0;
                    float* d = block + (nint)r0 * ocg;
                    for (int o = 0; o < ocg; o++)
                    {
                        float* src = w + ((nint)(grp * ocg + o) * cig + r0) * kw + tap;
                        for (int r = 0; r < rs; r++)
                        {
                            d[(nint)o * rs + r] = src[(nint)r * kw];
                        }
                    }
                }
            }
        }
    }

    /// <summary>Row stride of a B panel copied for <see cref="TapGemm"/>: a panel's columns and every tap's reach, whole cache lines.</summary>
    public static int PanelStride(int nr, int reach) => (nr + reach + 15) & ~15;

    /// <summary>
    /// C[rows, cols] = sum over taps j of A_j [rows, k] B_j [k, cols], B_j = <paramref name="b"/> shifted by
    /// <paramref name="shift"/>*j columns (rows <paramref name="ldb"/> apart), A_j packed strips <paramref name="tapStride"/>
    /// floats apart. Panels outside, strips and taps inside: each NR-wide panel of B, with the columns every tap's shift
    /// reaches, is first copied into <paramref name="panel"/> (k rows <see cref="PanelStride"/> apart), so the micro-kernels
    /// read it from a few L1-resident pages instead of k rows a whole batch's columns apart (one page, and a TLB entry, per
    /// row); a C tile stays in L1 while every tap adds to it. <paramref name="b"/> must hold NR columns past the last
    /// panel's reach (the layouts' over-read).
    /// </summary>
    private static void TapGemm(GemmKernel kind, int mr, int nr, int rows, int k, int cols, int taps, float* a, long tapStride,
        float* b, nint ldb, nint shift, float* c, nint ldc, float* panel)
    {
        int strips = (rows + mr - 1) / mr;
        int reach = (int)Math.Abs(shift) * (taps - 1);
        nint lo = shift < 0 ? -reach : 0, ldp = PanelStride(nr, reach);
        int width = nr + reach;
        for (int j = 0; j < cols; j += nr)
        {
            int nc = Math.Min(nr, cols - j);
            float* from = b + j + lo;
            for (int r = 0; r < k; r++)
            {
                Buffer.MemoryCopy(from + r * ldb, panel + r * ldp, width * sizeof(float), width * sizeof(float));
            }
            for (int s = 0; s < strips; s++)
            {
                int r0 = BatchSplitConv.StripStart(s, rows, strips), rs = BatchSplitConv.StripStart(s + 1, rows, strips) - r0;
                float* cTile = c + (nint)r0 * ldc + j;
                for (int tap = 0; tap < taps; tap++)
                {
                    float* strip = a + tap * tapStride + (nint)r0 * k;
                    float* bTap = panel + tap * shift - lo;
                    for (int pc = 0; pc < k; pc += PackedGemm.Kc)
                    {
                        int kc = Math.Min(PackedGemm.Kc, k - pc);
                        float beta = tap > 0 || pc > 0 ? 1f : 0f;
                        PackedGemm.Kernel(kind, rs, strip + (nint)pc * rs, bTap + (nint)pc * ldp, ldp, kc, cTile, ldc, nc, 1f, beta);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Builds Xc (rows [0, C)) and dYc (rows [C, C + OutC)): one row per item, item i being row <see cref="First"/> + i
    /// (forward builds Xc alone, backward dYc alone); padding, dropped columns, the front and the tails zeroed.
    /// </summary>
    public struct LayoutJob : IRangeJob
    {
        public Layout L;
        public int First;
        public float* X, Xc, Dy, Dyc;

        public readonly void Run(int start, int end)
        {
            var l = L;
            var g = l.G;
            int c = g.InChannels, w = g.Width, pl = g.PadLeft, ow = l.OutWidth;
            for (int item = First + start; item < First + end; item++)
            {
                if (item < c)
                {
                    float* row = Xc + (nint)item * l.Ldx;
                    for (int n = 0; n < g.Batch; n++)
                    {
                        float* d = row + (nint)n * l.Span;
                        new Span<float>(d, pl).Clear();
                        new ReadOnlySpan<float>(X + ((nint)n * c + item) * w, w).CopyTo(new Span<float>(d + pl, w));
                        new Span<float>(d + pl + w, l.Span - pl - w).Clear();
                    }
                    new Span<float>(row + l.Cols, l.Ldx - l.Cols).Clear();
                }
                else
                {
                    int oc = item - c;
                    float* row = Dyc + (nint)oc * l.Ldy;
                    new Span<float>(row, l.Front).Clear();
                    for (int n = 0; n < g.Batch; n++)
                    {
                        float* d = row + l.Front + (nint)n * l.Span;
                        new ReadOnlySpan<float>(Dy + ((nint)n * g.OutChannels + oc) * ow, ow).CopyTo(new Span<float>(d, ow));
                        new Span<float>(d + ow, l.Span - ow).Clear();
                    }
                    new Span<float>(row + l.Front + l.Cols, l.Ldy - l.Front - l.Cols).Clear();
                }
            }
        }
    }

    /// <summary>Forward over samples [start, end): a chunk's output tile from the tap GEMMs, then stored into y's rows with the bias (and ReLU).</summary>
    public struct ForwardJob : IRangeJob
    {
        public Layout L;
        public GemmKernel Kind;
        public int Mr, Nr, Chunk;
        public float* Xc, PackedW, Y, Bias;
        public bool Relu;

        public readonly void Run(int start, int end)
        {
            var l = L;
            var g = l.G;
            int outC = g.OutChannels, ow = l.OutWidth, kw = g.KernelW;
            var scratch = BatchSplitConv.Scratch.Current;
            for (int n0 = start; n0 < end; n0 += Chunk)
            {
                int samples = Math.Min(Chunk, end - n0);
                int cols = samples * l.Span;
                float[] tile = scratch.Col((long)outC * cols);
                float[] panel = scratch.Panel((long)l.Cig * PanelStride(Nr, l.Reach));
                fixed (float* pt = tile, pp = panel)
                {
                    for (int grp = 0; grp < g.Groups; grp++)
                    {
                        TapGemm(Kind, Mr, Nr, l.Ocg, l.Cig, cols, kw, PackedW + (nint)grp * kw * l.Ocg * l.Cig, (long)l.Ocg * l.Cig,
                            Xc + (nint)grp * l.Cig * l.Ldx + (nint)n0 * l.Span, l.Ldx, g.DilationW, pt + (nint)grp * l.Ocg * cols, cols, pp);
                    }
                    for (int i = 0; i < samples; i++)
                    {
                        float* ySample = Y + (nint)(n0 + i) * outC * ow;
                        for (int oc = 0; oc < outC; oc++)
                        {
                            var from = new ReadOnlySpan<float>(pt + (nint)oc * cols + (nint)i * l.Span, ow);
                            var to = new Span<float>(ySample + (nint)oc * ow, ow);
                            ConvEpilogue.Store(from, to, Bias == null ? null : Bias + oc, Relu);
                        }
                    }
                }
            }
        }
    }

    /// <summary>The items of <see cref="GradientLayoutJob"/>: the samples, then every group's strips of output channels.</summary>
    public static int GradientLayoutItems(in Layout l, int mr) => l.G.Batch + l.G.Groups * ((l.Ocg + mr - 1) / mr);

    /// <summary>
    /// The operands of the weight gradient, items [0, N) then one per (group, strip of output channels): item n &lt; N writes
    /// sample n's rows of XcT (the input transposed, <c>XcT[n*Span + p][ci]</c>, padding zero; the last sample's item also
    /// zeroes the rows past it); item N + s writes strip s of dY packed for the micro-kernels (<c>[cols][rows]</c> per
    /// strip, zeros in the dropped columns), so that dW_j = dYc XcT_j runs on the packed kernels with XcT_j = XcT shifted
    /// down j*dilation rows. Both are transposes, done in registers 16 x 16 (<see cref="Transpose16"/>) with the 512-bit
    /// kernels and 8 x 8 (<see cref="Transpose8"/>) with the 256-bit ones, a strided scalar store per float otherwise.
    /// </summary>
    public struct GradientLayoutJob : IRangeJob
    {
        /// <summary>Side of the square blocks the scalar path transposes in: 8 rows of 8 floats read, 8 of 8 written.</summary>
        private const int Block = 8;

        public Layout L;
        public GemmKernel Kind;
        public int Mr;
        public float* X, Dy, XcT, PackedDy;

        public readonly void Run(int start, int end)
        {
            var l = L;
            var g = l.G;
            int c = g.InChannels, w = g.Width, pl = g.PadLeft, ow = l.OutWidth;
            int strips = (l.Ocg + Mr - 1) / Mr;
            for (int item = start; item < end; item++)
            {
                if (item < g.Batch)
                {
                    float* dst = XcT + (nint)item * l.Span * c;
                    new Span<float>(dst, pl * c).Clear();
                    new Span<float>(dst + (nint)(pl + w) * c, (l.Span - pl - w) * c).Clear();
                    // [C][w] rows of the sample into [w][C] rows.
                    Transpose(Kind, X + (nint)item * c * w, w, c, w, dst + (nint)pl * c, c);
                    if (item == g.Batch - 1)
                    {
                        new Span<float>(XcT + (nint)l.Cols * c, (l.TransposedRows - l.Cols) * c).Clear();
                    }
                }
                else
                {
                    int grp = (item - g.Batch) / strips, s = (item - g.Batch) % strips;
                    int r0 = BatchSplitConv.StripStart(s, l.Ocg, strips), rs = BatchSplitConv.StripStart(s + 1, l.Ocg, strips) - r0;
                    float* d = PackedDy + ((nint)grp * l.Ocg + r0) * l.Cols;
                    for (int n = 0; n < g.Batch; n++)
                    {
                        // The strip's rs rows of dY [rs][ow] into [ow][rs], then zeros for the dropped columns.
                        float* dn = d + (nint)n * l.Span * rs;
                        Transpose(Kind, Dy + ((nint)n * g.OutChannels + grp * l.Ocg + r0) * ow, ow, rs, ow, dn, rs);
                        new Span<float>(dn + (nint)ow * rs, (l.Span - ow) * rs).Clear();
                    }
                }
            }
        }

        /// <summary>dst[e * ldd + r] = src[r * lds + e] for r &lt; rows, e &lt; len: in registers where the kernel width allows.</summary>
        private static void Transpose(GemmKernel kind, float* src, nint lds, int rows, int len, float* dst, nint ldd)
        {
            if (kind == GemmKernel.Vector512 && Avx512F.IsSupported)
            {
                for (int r0 = 0; r0 < rows; r0 += 16)
                {
                    int rs = Math.Min(16, rows - r0);
                    var lanes = Vector512.LessThan(Vector512<float>.Indices, Vector512.Create((float)rs));
                    for (int e0 = 0; e0 < len; e0 += 16)
                    {
                        Transpose16.Block(src + r0 * lds + e0, lds, rs, Math.Min(16, len - e0), dst + e0 * ldd + r0, ldd, lanes, masked: rs < 16);
                    }
                }
                return;
            }
            if (kind == GemmKernel.Vector256 && Avx.IsSupported)
            {
                for (int r0 = 0; r0 < rows; r0 += 8)
                {
                    int rs = Math.Min(8, rows - r0);
                    var lanes = Vector256.LessThan(Vector256<float>.Indices, Vector256.Create((float)rs));
                    for (int e0 = 0; e0 < len; e0 += 8)
                    {
                        Transpose8.Block(src + r0 * lds + e0, lds, rs, Math.Min(8, len - e0), dst + e0 * ldd + r0, ldd, lanes, masked: rs < 8);
                    }
                }
                return;
            }
            for (int r0 = 0; r0 < rows; r0 += Block)
            {
                int r1 = Math.Min(rows, r0 + Block);
                for (int e0 = 0; e0 < len; e0 += Block)
                {
                    int e1 = Math.Min(len, e0 + Block);
                    for (int r = r0; r < r1; r++)
                    {
                        for (int e = e0; e < e1; e++)
                        {
                            dst[e * ldd + r] = src[r * lds + e];
                        }
                    }
                }
            }
        }
    }

    /// <summary>Columns of dW_j (input channels) one weight-gradient item computes: four micro-kernel panels of 16.</summary>
    public const int GradientColumns = 64;

    /// <summary>The weight-gradient items of one call: (group, tap, block of <see cref="GradientColumns"/> input channels).</summary>
    public static int GradientItems(in Layout l) => l.G.Groups * l.G.KernelW * GradientBlocks(l);

    private static int GradientBlocks(in Layout l) => (l.Cig + GradientColumns - 1) / GradientColumns;

    /// <summary>
    /// Weight (and bias) gradients: item = (group, tap, block of input channels). The item's [OutC/G, block] part of dW_j is
    /// one GEMM over all N*Span columns (packed dY strips times XcT_j), walked a KC-long chunk of columns at a time with
    /// every strip of output channels inside it, so the chunk of XcT_j stays in L2 (and a 16-wide panel of it in L1) while
    /// all the strips use it; the sums go to a private tile and are then added into dW's tap-j elements. The (tap 0, block 0)
    /// item of a group also adds the group's bias gradients. Items write disjoint elements, each summed in one fixed order
    /// whatever the thread count.
    /// </summary>
    public struct WeightGradientJob : IRangeJob
    {
        public Layout L;
        public GemmKernel Kind;
        public int Mr, Nr;
        public float* XcT, PackedDy, Dyc, Dw, Db;

        public readonly void Run(int start, int end)
        {
            var l = L;
            var g = l.G;
            int kw = g.KernelW, cig = l.Cig, c = g.InChannels, ocg = l.Ocg;
            int blocks = GradientBlocks(l), strips = (ocg + Mr - 1) / Mr;
            var scratch = BatchSplitConv.Scratch.Current;
            float[] tile = scratch.DCol((long)ocg * GradientColumns);
            fixed (float* pt = tile)
            {
                for (int item = start; item < end; item++)
                {
                    int blk = item % blocks, tap = item / blocks % kw, grp = item / blocks / kw;
                    int j0 = blk * GradientColumns, width = Math.Min(GradientColumns, cig - j0);
                    float* dy = PackedDy + (nint)grp * ocg * l.Cols;
                    float* b = XcT + (nint)tap * g.DilationW * c + (nint)grp * cig + j0;
                    for (int pc = 0; pc < l.Cols; pc += PackedGemm.Kc)
                    {
                        int kc = Math.Min(PackedGemm.Kc, l.Cols - pc);
                        float beta = pc > 0 ? 1f : 0f;
                        for (int j = 0; j < width; j += Nr)
                        {
                            int nc = Math.Min(Nr, width - j);
                            for (int s = 0; s < strips; s++)
                            {
                                int r0 = BatchSplitConv.StripStart(s, ocg, strips), rs = BatchSplitConv.StripStart(s + 1, ocg, strips) - r0;
                                float* strip = dy + (nint)r0 * l.Cols;
                                PackedGemm.Kernel(Kind, rs, strip + (nint)pc * rs, b + (nint)pc * c + j, c, kc, pt + (nint)r0 * width + j, width, nc, 1f, beta);
                            }
                        }
                    }
                    for (int o = 0; o < ocg; o++)
                    {
                        float* dwRow = Dw + ((nint)(grp * ocg + o) * cig + j0) * kw + tap;
                        float* tRow = pt + (nint)o * width;
                        for (int ci = 0; ci < width; ci++)
                        {
                            dwRow[(nint)ci * kw] += tRow[ci];
                        }
                        if (Db != null && tap == 0 && blk == 0)
                        {
                            Db[grp * ocg + o] += TensorPrimitives.Sum(new ReadOnlySpan<float>(Dyc + (nint)(grp * ocg + o) * l.Ldy + l.Front, l.Cols));
                        }
                    }
                }
            }
        }
    }

    /// <summary>Input gradient over samples [start, end): a chunk's dXc tile from the transposed tap GEMMs, then into dx's rows.</summary>
    public struct InputGradientJob : IRangeJob
    {
        public Layout L;
        public GemmKernel Kind;
        public int Mr, Nr, Chunk;
        public float* Dyc, PackedWT, Dx;
        public bool Accumulate;

        public readonly void Run(int start, int end)
        {
            var l = L;
            var g = l.G;
            int c = g.InChannels, w = g.Width, pl = g.PadLeft, kw = g.KernelW;
            var scratch = BatchSplitConv.Scratch.Current;
            for (int n0 = start; n0 < end; n0 += Chunk)
            {
                int samples = Math.Min(Chunk, end - n0);
                int cols = samples * l.Span;
                float[] tile = scratch.Col((long)c * cols);
                float[] panel = scratch.Panel((long)l.Ocg * PanelStride(Nr, l.Reach));
                fixed (float* pt = tile, pp = panel)
                {
                    for (int grp = 0; grp < g.Groups; grp++)
                    {
                        // Tap j moves the output right by j*dilation, so it reads dYc j*dilation columns to the left.
                        TapGemm(Kind, Mr, Nr, l.Cig, l.Ocg, cols, kw, PackedWT + (nint)grp * kw * l.Ocg * l.Cig, (long)l.Ocg * l.Cig,
                            Dyc + (nint)grp * l.Ocg * l.Ldy + l.Front + (nint)n0 * l.Span, l.Ldy, -g.DilationW, pt + (nint)grp * l.Cig * cols, cols, pp);
                    }
                    for (int i = 0; i < samples; i++)
                    {
                        float* dxSample = Dx + (nint)(n0 + i) * c * w;
                        for (int ci = 0; ci < c; ci++)
                        {
                            var from = new ReadOnlySpan<float>(pt + (nint)ci * cols + (nint)i * l.Span + pl, w);
                            var to = new Span<float>(dxSample + (nint)ci * w, w);
                            if (Accumulate)
                            {
                                TensorPrimitives.Add(from, to, to);
                            }
                            else
                            {
                                from.CopyTo(to);
                            }
                        }
                    }
                }
            }
        }
    }
}
