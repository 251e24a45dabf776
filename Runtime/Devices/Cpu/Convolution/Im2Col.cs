using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// The column matrix of a convolution over a chunk of samples: row r = (c, kh, kw) of the kernel, column
/// j = (sample, oh, ow), so a group's output is W_g[OutC/G, C/G*KH*KW] * col_g[C/G*KH*KW, samples*OH*OW]
/// (output channels as GEMM rows: the orientation that keeps the long dimension in the GEMM's columns).
/// </summary>
internal static class Im2Col
{
    /// <summary>
    /// The columns <c>[owLo, owHi)</c> whose input column ow*stride + offset lies inside [0, width).
    /// </summary>
    public static (int Lo, int Hi) ValidRange(int offset, int stride, int width, int outWidth)
    {
        int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int hi = width - offset <= 0 ? 0 : (width - offset + stride - 1) / stride;
        lo = Math.Min(lo, outWidth);
        hi = Math.Clamp(hi, lo, outWidth);
        return (lo, hi);
    }

    /// <summary>
    /// Fills rows [rowStart, rowEnd) of col[Rows, samples*OH*OW] from samples [n0, n0+samples) of x (whole batch array at xOffset).
    /// </summary>
    /// <remarks>
    /// The runs copied are short (OW floats: 8 for MnistNet's second layer), so they are moved with inlined vector
    /// copies on pointers: a <c>Span.CopyTo</c> per run cost more in call overhead than the copy itself.
    /// </remarks>
    public static unsafe void Gather(in ConvPlan p, float[] x, int xOffset, int n0, int samples, float[] col, int rowStart, int rowEnd)
    {
        var g = p.G;
        int cols = samples * p.Positions;
        int sampleStride = g.InChannels * p.Plane;
        int outW = p.OutWidth;
        fixed (float* px = x, pcol = col)
        {
            if (IsDense(g))
            {
                GatherDense(p, px + xOffset + (nint)n0 * sampleStride, samples, pcol, rowStart, rowEnd);
                return;
            }
            if (IsPaddedUnitStride(g, outW) && rowStart == 0 && rowEnd == p.Rows)
            {
                GatherPadded(p, px + xOffset + (nint)n0 * sampleStride, samples, pcol);
                return;
            }
            if (IsStride2(g, outW) && rowStart == 0 && rowEnd == p.Rows)
            {
                GatherStride2(p, px + xOffset + (nint)n0 * sampleStride, samples, pcol);
                return;
            }
            for (int row = rowStart; row < rowEnd; row++)
            {
                int c = row / p.KernelArea;
                int kh = row % p.KernelArea / g.KernelW;
                int kw = row % p.KernelArea % g.KernelW;
                float* dst = pcol + (nint)row * cols;
                if (p.Pointwise)
                {
                    for (int i = 0; i < samples; i++)
                    {
                        Copy(px + xOffset + (nint)(n0 + i) * sampleStride + c * p.Plane, dst + (nint)i * p.Positions, p.Plane);
                    }
                    continue;
                }
                int ihBase = kh * g.DilationH - g.PadTop;
                int iwBase = kw * g.DilationW - g.PadLeft;
                var (owLo, owHi) = ValidRange(iwBase, g.StrideW, g.Width, outW);
                for (int i = 0; i < samples; i++)
                {
                    float* src = px + xOffset + (nint)(n0 + i) * sampleStride + c * p.Plane;
                    for (int oh = 0; oh < p.OutHeight; oh++)
                    {
                        float* d = dst + (nint)i * p.Positions + oh * outW;
                        int ih = oh * g.StrideH + ihBase;
                        if ((uint)ih >= (uint)g.Height)
                        {
                            new Span<float>(d, outW).Clear();
                            continue;
                        }
                        for (int ow = 0; ow < owLo; ow++)
                        {
                            d[ow] = 0f;
                        }
                        for (int ow = owHi; ow < outW; ow++)
                        {
                            d[ow] = 0f;
                        }
                        float* srcRow = src + (nint)ih * g.Width;
                        if (g.StrideW == 1)
                        {
                            Copy(srcRow + owLo + iwBase, d + owLo, owHi - owLo);
                        }
                        else
                        {
                            for (int ow = owLo; ow < owHi; ow++)
                            {
                                d[ow] = srcRow[ow * g.StrideW + iwBase];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// col2im: adds the column gradients of planes [planeStart, planeEnd) (plane = sample*C + channel, samples counted from n0)
    /// into dx, overwriting each plane first unless <paramref name="accumulate"/>. Planes are disjoint, so ranges run in parallel.
    /// </summary>
    public static unsafe void Scatter(in ConvPlan p, float[] dcol, int samples, float[] dx, int dxOffset, int n0, int planeStart, int planeEnd, bool accumulate)
    {
        var g = p.G;
        int cols = samples * p.Positions;
        int outW = p.OutWidth;
        fixed (float* pdcol = dcol, pdx = dx)
        {
            if (IsDense(g) && !p.Pointwise)
            {
                ScatterDense(p, pdcol, samples, pdx + dxOffset + (nint)n0 * g.InChannels * p.Plane, planeStart, planeEnd, accumulate);
                return;
            }
            if (IsPaddedUnitStride(g, outW) && Avx512F.IsSupported && g.KernelW * ((g.Width + 15) / 16) <= 64)
            {
                ScatterPadded(p, pdcol, samples, pdx + dxOffset + (nint)n0 * g.InChannels * p.Plane, planeStart, planeEnd, accumulate);
                return;
            }
            if (g.StrideW == 2 && p.KernelArea > 1 && Avx512F.IsSupported && g.KernelW * ((g.Width + 31) / 32) <= 64 && g.Height * g.KernelH <= 1024)
            {
                ScatterStride2(p, pdcol, samples, pdx + dxOffset + (nint)n0 * g.InChannels * p.Plane, planeStart, planeEnd, accumulate);
                return;
            }
            for (int plane = planeStart; plane < planeEnd; plane++)
            {
                int i = plane / g.InChannels;
                int c = plane % g.InChannels;
                float* dst = pdx + dxOffset + (nint)((n0 + i) * g.InChannels + c) * p.Plane;
                if (p.Pointwise)
                {
                    float* s = pdcol + (nint)c * cols + i * p.Positions;
                    if (accumulate)
                    {
                        AddTo(s, dst, p.Positions);
                    }
                    else
                    {
                        Copy(s, dst, p.Positions);
                    }
                    continue;
                }
                if (!accumulate)
                {
                    new Span<float>(dst, p.Plane).Clear();
                }
                for (int k = 0; k < p.KernelArea; k++)
                {
                    int kh = k / g.KernelW;
                    int kw = k % g.KernelW;
                    float* src = pdcol + (nint)(c * p.KernelArea + k) * cols + i * p.Positions;
                    int ihBase = kh * g.DilationH - g.PadTop;
                    int iwBase = kw * g.DilationW - g.PadLeft;
                    var (owLo, owHi) = ValidRange(iwBase, g.StrideW, g.Width, outW);
                    if (owHi <= owLo)
                    {
                        continue;
                    }
                    for (int oh = 0; oh < p.OutHeight; oh++)
                    {
                        int ih = oh * g.StrideH + ihBase;
                        if ((uint)ih >= (uint)g.Height)
                        {
                            continue;
                        }
                        float* s = src + (nint)oh * outW;
                        float* dRow = dst + (nint)ih * g.Width;
                        if (g.StrideW == 1)
                        {
                            AddTo(s + owLo, dRow + owLo + iwBase, owHi - owLo);
                        }
                        else
                        {
                            for (int ow = owLo; ow < owHi; ow++)
                            {
                                dRow[ow * g.StrideW + iwBase] += s[ow];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Stride 1, dilation 1, no padding: every column run is a whole, in-bounds input run (the course networks' case).</summary>
    private static bool IsDense(in Conv2dGeometry g) =>
        g is { StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, PadTop: 0, PadLeft: 0, PadBottom: 0, PadRight: 0 };

    /// <summary>Floats past a zero-bordered plane that whole-vector runs may read.</summary>
    private const int ReadSlack = 16;

    [ThreadStatic] private static float[]? t_padded;

    /// <summary>Stride 1 and dilation 1 with padding, and output rows of at least 4 (the course networks' "same" convolutions).</summary>
    private static bool IsPaddedUnitStride(in Conv2dGeometry g, int outW) =>
        g is { StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1 } && outW >= 4;

    /// <summary>This thread's buffer for one zero-bordered plane (pinned, grow-only), with room for whole-vector over-reads.</summary>
    private static unsafe float[] PaddedPlane(int length)
    {
        var a = t_padded;
        if (a is null || a.Length < length + 2 * ReadSlack)
        {
            t_padded = a = GC.AllocateUninitializedArray<float>(length + 2 * ReadSlack, pinned: true);
        }
        return a;
    }

    /// <summary>
    /// <see cref="Gather"/> of all rows for stride 1 with padding: per sample and channel, the plane is copied into a
    /// zero-bordered buffer, then each kernel offset's output rows are whole runs of it (<see cref="CopyRuns"/>).
    /// </summary>
    private static unsafe void GatherPadded(in ConvPlan p, float* x, int samples, float* col)
    {
        var g = p.G;
        int cols = samples * p.Positions, outW = p.OutWidth, outH = p.OutHeight, width = g.Width, height = g.Height;
        int pw = width + g.PadLeft + g.PadRight, ph = height + g.PadTop + g.PadBottom;
        int sampleStride = g.InChannels * p.Plane;
        float[] buffer = PaddedPlane(pw * ph);
        fixed (float* pad = buffer)
        {
            new Span<float>(pad, pw * ph + 2 * ReadSlack).Clear();
            for (int i = 0; i < samples; i++)
            {
                for (int c = 0; c < g.InChannels; c++)
                {
                    float* src = x + (nint)i * sampleStride + (nint)c * p.Plane;
                    for (int ih = 0; ih < height; ih++)
                    {
                        Copy(src + (nint)ih * width, pad + (nint)(ih + g.PadTop) * pw + g.PadLeft, width);
                    }
                    for (int kh = 0; kh < g.KernelH; kh++)
                    {
                        for (int kw = 0; kw < g.KernelW; kw++)
                        {
                            int row = (c * g.KernelH + kh) * g.KernelW + kw;
                            CopyRuns(pad + (nint)kh * pw + kw, pw, col + (nint)row * cols + (nint)i * p.Positions, outW, outH);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Copies <paramref name="outH"/> runs of <paramref name="outW"/> floats, <paramref name="rowStride"/> apart in a
    /// zero-bordered buffer, to consecutive runs of <paramref name="dst"/>. Every run but the last is stored as whole
    /// vectors whose overhang lands in the next run's place, which is written right after.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void CopyRuns(float* src, nint rowStride, float* dst, int outW, int outH)
    {
        if (outW <= 8)
        {
            for (int oh = 0; oh < outH - 1; oh++)
            {
                Vector256.Store(Vector256.Load(src + oh * rowStride), dst + oh * outW);
            }
        }
        else
        {
            for (int oh = 0; oh < outH - 1; oh++)
            {
                float* so = src + oh * rowStride;
                float* dox = dst + oh * outW;
                for (int j = 0; j < outW; j += 16)
                {
                    Vector512.Store(Vector512.Load(so + j), dox + j);
                }
            }
        }
        Copy(src + (outH - 1) * rowStride, dst + (outH - 1) * outW, outW);
    }

    /// <summary>
    /// Column stride 2 (any row stride, dilation and padding) and output rows of at least 4, so that a run's whole-vector
    /// overhang stays inside the next run (<see cref="CopyRuns"/>): ResNet-20's stride-2 downsampling layers and their 1x1
    /// projections.
    /// </summary>
    private static bool IsStride2(in Conv2dGeometry g, int outW) => g.StrideW == 2 && outW >= 4;

    /// <summary>
    /// <see cref="Gather"/> of all rows for <see cref="IsStride2"/> geometries: per sample and channel, the plane is copied
    /// into a zero-bordered buffer whose padded rows are each split into two phase rows (padded column q at phase
    /// <c>q &amp; 1</c>, index <c>q &gt;&gt; 1</c>), so every kernel offset's output row is one contiguous run of a phase row
    /// (<see cref="CopyRuns"/>). An unpadded 1x1 kernel needs no buffer: its output rows are the even columns of input rows.
    /// </summary>
    /// <remarks>
    /// Each input row is split once per plane, with two 16-lane permutes per 32 floats, instead of every second float
    /// being picked one by one per kernel offset (9 times per input float for 3x3); input rows no kernel row reads (every second
    /// one when the row stride exceeds the kernel's height) are skipped. Only values move, so the columns are those of the element-by-element
    /// gather. The gather alone on ResNet-20's layers, batch 64, one thread, old and new loaded side by side in one process
    /// and alternated (loaded 2-core AVX-512 machine, median of 600 pairs): 3x3 16-channel 28x28 0.19x the time, 32-channel
    /// 14x14 0.35x; the unpadded 1x1 projections, split straight into the columns, 0.35x at 28x28 and 0.56x at 14x14 (through
    /// the buffer they were 0.67x and 1.03x). The stride-1 gather keeps its own plane copy: one method for both strides
    /// measured 1.2-1.35x slower on the stride-1 layers.
    /// </remarks>
    private static unsafe void GatherStride2(in ConvPlan p, float* x, int samples, float* col)
    {
        var g = p.G;
        int cols = samples * p.Positions, outW = p.OutWidth, outH = p.OutHeight, width = g.Width, height = g.Height;
        int phaseW = (width + g.PadLeft + g.PadRight + 1) / 2, rowStride = 2 * phaseW;
        int ph = height + g.PadTop + g.PadBottom;
        int sampleStride = g.InChannels * p.Plane;
        // Whether kernel rows read every input row; if not (a padded 1x1 stride-2 kernel reads every second one), each
        // kernel row's input rows are split, once per kernel row that reads them.
        bool everyRow = g.DilationH == 1 && g.KernelH >= g.StrideH;
        if (p.KernelArea == 1 && g is { PadTop: 0, PadLeft: 0, PadBottom: 0, PadRight: 0 })
        {
            // An unpadded 1x1 kernel: each output row is the even columns of an input row (all ceil(W/2) of them), split
            // straight into the columns.
            for (int i = 0; i < samples; i++)
            {
                for (int c = 0; c < g.InChannels; c++)
                {
                    SplitRows(x + (nint)i * sampleStride + (nint)c * p.Plane, width, g.StrideH * width,
                        col + (nint)c * cols + (nint)i * p.Positions, outW, outH, 0, -1);
                }
            }
            return;
        }
        float[] buffer = PaddedPlane(ph * rowStride);
        fixed (float* pad = buffer)
        {
            new Span<float>(pad, ph * rowStride + 2 * ReadSlack).Clear();
            for (int i = 0; i < samples; i++)
            {
                for (int c = 0; c < g.InChannels; c++)
                {
                    float* src = x + (nint)i * sampleStride + (nint)c * p.Plane;
                    float* top = pad + (nint)g.PadTop * rowStride;
                    if (everyRow)
                    {
                        SplitRows(src, width, width, top, rowStride, height, Even(g.PadLeft, phaseW), Odd(g.PadLeft, phaseW));
                    }
                    else
                    {
                        for (int kh = 0; kh < g.KernelH; kh++)
                        {
                            int offset = kh * g.DilationH - g.PadTop;
                            var (lo, hi) = ValidRange(offset, g.StrideH, height, outH);
                            int first = lo * g.StrideH + offset;
                            SplitRows(src + (nint)first * width, width, g.StrideH * width, top + (nint)first * rowStride, g.StrideH * rowStride, hi - lo,
                                Even(g.PadLeft, phaseW), Odd(g.PadLeft, phaseW));
                        }
                    }
                    for (int kh = 0; kh < g.KernelH; kh++)
                    {
                        for (int kw = 0; kw < g.KernelW; kw++)
                        {
                            int row = (c * g.KernelH + kh) * g.KernelW + kw;
                            int q = kw * g.DilationW;
                            CopyRuns(pad + (nint)kh * g.DilationH * rowStride + (q & 1) * phaseW + (q >> 1), (nint)g.StrideH * rowStride,
                                col + (nint)row * cols + (nint)i * p.Positions, outW, outH);
                        }
                    }
                }
            }
        }
    }

    /// <summary>Where even input columns 2m land in a padded row split into phase rows: phase padLeft &amp; 1, index m + padLeft / 2.</summary>
    private static int Even(int padLeft, int phaseW) => (padLeft & 1) * phaseW + (padLeft >> 1);

    /// <summary>Where odd input columns 2m + 1 land: the other phase, index m + (padLeft + 1) / 2.</summary>
    private static int Odd(int padLeft, int phaseW) => Even(padLeft + 1, phaseW);

    /// <summary>
    /// Splits <paramref name="rows"/> input rows of <paramref name="width"/> floats, <paramref name="srcStep"/> apart, into
    /// their even and odd columns: row r's column 2m goes to <c>dst + r*dstStep + even + m</c>, its column 2m + 1 to
    /// <c>dst + r*dstStep + odd + m</c> (none with <paramref name="odd"/> negative). Exactly those floats are written, so
    /// a zero border around them stays (<see cref="GatherStride2"/>'s phase rows). With AVX-512, 32 input floats at a
    /// time are split by two two-source permutes.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void SplitRows(float* src, int width, nint srcStep, float* dst, nint dstStep, int rows, int even, int odd)
    {
        if (!Avx512F.IsSupported)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int iw = 0; iw < width; iw++)
                {
                    if ((iw & 1) == 0 || odd >= 0)
                    {
                        dst[r * dstStep + ((iw & 1) == 0 ? even : odd) + (iw >> 1)] = src[r * srcStep + iw];
                    }
                }
            }
            return;
        }
        int rem = width % 32, whole = width - rem;
        var loMask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rem)).AsSingle();
        var hiMask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rem - 16)).AsSingle();
        var evenMask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create((rem + 1) / 2)).AsSingle();
        var oddMask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rem / 2)).AsSingle();
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odds = evens + Vector512<int>.One;
        for (int r = 0; r < rows; r++)
        {
            float* s = src + r * srcStep;
            float* de = dst + r * dstStep + even, dodd = dst + r * dstStep + odd;
            for (int i = 0; i < whole; i += 32)
            {
                var lo = Vector512.Load(s + i);
                var hi = Vector512.Load(s + i + 16);
                Vector512.Store(Avx512F.PermuteVar16x32x2(lo, evens, hi), de + i / 2);
                if (odd >= 0)
                {
                    Vector512.Store(Avx512F.PermuteVar16x32x2(lo, odds, hi), dodd + i / 2);
                }
            }
            if (rem > 0)
            {
                var lo = Avx512F.MaskLoad(s + whole, loMask, Vector512<float>.Zero);
                var hi = Avx512F.MaskLoad(s + whole + 16, hiMask, Vector512<float>.Zero);
                Avx512F.MaskStore(de + whole / 2, evenMask, Avx512F.PermuteVar16x32x2(lo, evens, hi));
                if (odd >= 0)
                {
                    Avx512F.MaskStore(dodd + whole / 2, oddMask, Avx512F.PermuteVar16x32x2(lo, odds, hi));
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Scatter"/> for stride 1 with padding, as a gather: each 16-wide piece of a dx row sums, in one register,
    /// the column-gradient runs of every kernel offset that reaches it (masked loads for the clipped edges), and is
    /// stored once. No read-modify-write of dx per offset, so no store-to-load stalls between overlapping runs. The sum
    /// starts from dx's old value when accumulating and masked-off lanes add -0, so each float gets the element loop's
    /// terms in its order, bit for bit.
    /// </summary>
    private static unsafe void ScatterPadded(in ConvPlan p, float* dcol, int samples, float* dx, int planeStart, int planeEnd, bool accumulate)
    {
        var g = p.G;
        int cols = samples * p.Positions, outW = p.OutWidth, outH = p.OutHeight, width = g.Width, height = g.Height;
        int kh0 = g.KernelH, kw0 = g.KernelW, pieces = (width + 15) / 16;
        // masks[kw * pieces + piece]: lanes whose dx column lies in the row and whose source column lies in the output row.
        Vector512<float>* masks = stackalloc Vector512<float>[kw0 * pieces];
        Vector512<float>* storeMasks = stackalloc Vector512<float>[pieces];
        for (int piece = 0; piece < pieces; piece++)
        {
            int j = piece * 16;
            var inRow = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(width - j));
            storeMasks[piece] = inRow.AsSingle();
            for (int kw = 0; kw < kw0; kw++)
            {
                var src = Vector512<int>.Indices + Vector512.Create(j + g.PadLeft - kw);
                var valid = inRow & Vector512.GreaterThanOrEqual(src, Vector512<int>.Zero) & Vector512.LessThan(src, Vector512.Create(outW));
                masks[kw * pieces + piece] = valid.AsSingle();
            }
        }
        var negativeZero = Vector512.Create(-0f);
        for (int plane = planeStart; plane < planeEnd; plane++)
        {
            int i = plane / g.InChannels;
            int c = plane % g.InChannels;
            float* dst = dx + (nint)plane * p.Plane;
            float* planeCols = dcol + (nint)c * kh0 * kw0 * cols + (nint)i * p.Positions;
            for (int ih = 0; ih < height; ih++)
            {
                float* dRow = dst + (nint)ih * width;
                for (int piece = 0; piece < pieces; piece++)
                {
                    int j = piece * 16;
                    var storeMask = storeMasks[piece];
                    var acc = accumulate ? Avx512F.MaskLoad(dRow + j, storeMask, Vector512<float>.Zero) : Vector512<float>.Zero;
                    for (int kh = 0; kh < kh0; kh++)
                    {
                        int oh = ih + g.PadTop - kh;
                        if ((uint)oh >= (uint)outH)
                        {
                            continue;
                        }
                        float* rowBase = planeCols + (nint)kh * kw0 * cols + (nint)oh * outW + j + g.PadLeft;
                        for (int kw = 0; kw < kw0; kw++)
                        {
                            acc += Avx512F.MaskLoad(rowBase + (nint)kw * cols - kw, masks[kw * pieces + piece], negativeZero);
                        }
                    }
                    Avx512F.MaskStore(dRow + j, storeMask, acc);
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Scatter"/> for column stride 2 (any kernel but 1x1, row stride, dilation and padding: ResNet-20's
    /// downsampling layers), as a gather: a dx row is summed as its even and odd columns (phases), each 16-wide piece of
    /// a phase in one register. Kernel column kw reaches only the phase of parity padLeft - kw*dW, at
    /// output column m + (phase + padLeft - kw*dW) / 2, so each offset adds one contiguous masked load of the column
    /// gradient; two two-source permutes interleave the phases into 32 dx floats, stored once. Every dx float gets its
    /// terms in the element loop's order (kernel offsets ascending, after dx's old value when accumulating) and masked-off
    /// lanes add -0, so the sums are bit for bit the element loop's.
    /// </summary>
    /// <remarks>
    /// One backward's scatter, batch 64 in backward chunks, one thread, old and new builds loaded side by side in one
    /// process and alternated (loaded 2-core AVX-512 machine, median of 300 pairs): ResNet-20's 3x3 16-channel 28x28
    /// layer 0.32x the element loop's time (1.32 to 0.42 ms), its 32-channel 14x14 layer 0.45x (0.64 to 0.29 ms); finding
    /// each row's kernel rows by a division per row and kernel row, as the element loop does, cost 1.2-1.3x that. A 1x1
    /// kernel keeps the element loop, which clears the plane and adds a quarter of it: this form took 0.87x at 28x28 but
    /// 1.44x at 14x14.
    /// </remarks>
    private static unsafe void ScatterStride2(in ConvPlan p, float* dcol, int samples, float* dx, int planeStart, int planeEnd, bool accumulate)
    {
        var g = p.G;
        int cols = samples * p.Positions, outW = p.OutWidth, outH = p.OutHeight, width = g.Width, height = g.Height;
        int kh0 = g.KernelH, kw0 = g.KernelW, pieces = (width + 31) / 32;
        // masks[kw * pieces + piece]: phase lanes m whose dx column 2m + phase lies in the row and whose source column
        // m + shift lies in the output row; shifts[kw] = that shift, phases[kw] = the phase kw reaches.
        Vector512<float>* masks = stackalloc Vector512<float>[kw0 * pieces];
        // storeMasks[2 * piece + half]: the lanes of the piece's two 16-float halves of a dx row that lie in the row.
        Vector512<float>* storeMasks = stackalloc Vector512<float>[2 * pieces];
        for (int half = 0; half < 2 * pieces; half++)
        {
            storeMasks[half] = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(width - 16 * half)).AsSingle();
        }
        int* shifts = stackalloc int[kw0];
        int* phases = stackalloc int[kw0];
        for (int kw = 0; kw < kw0; kw++)
        {
            int q = g.PadLeft - kw * g.DilationW;
            phases[kw] = q & 1;
            shifts[kw] = (phases[kw] + q) >> 1;
            for (int piece = 0; piece < pieces; piece++)
            {
                var m = Vector512<int>.Indices + Vector512.Create(piece * 16);
                var src = m + Vector512.Create(shifts[kw]);
                var valid = Vector512.LessThan(m + m + Vector512.Create(phases[kw]), Vector512.Create(width))
                    & Vector512.GreaterThanOrEqual(src, Vector512<int>.Zero) & Vector512.LessThan(src, Vector512.Create(outW));
                masks[kw * pieces + piece] = valid.AsSingle();
            }
        }
        // terms[ih * kh0 ..]: for dx row ih, the offsets in a plane's column gradients of the output rows that reach it, kernel
        // rows ascending (counts[ih] of them), found once per call rather than by a division per row and kernel row (the
        // caller bounds height * kernel rows, and the kernel columns per piece, so the tables fit the stack).
        nint* terms = stackalloc nint[height * kh0];
        int* counts = stackalloc int[height];
        for (int ih = 0; ih < height; ih++)
        {
            counts[ih] = 0;
            for (int kh = 0; kh < kh0; kh++)
            {
                int t = ih + g.PadTop - kh * g.DilationH;
                int oh = t / g.StrideH;
                if (t >= 0 && oh * g.StrideH == t && oh < outH)
                {
                    terms[ih * kh0 + counts[ih]++] = (nint)kh * kw0 * cols + (nint)oh * outW;
                }
            }
        }
        var negativeZero = Vector512.Create(-0f);
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odds = evens + Vector512<int>.One;
        var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var high = low + Vector512.Create(8);
        for (int plane = planeStart; plane < planeEnd; plane++)
        {
            int i = plane / g.InChannels;
            int c = plane % g.InChannels;
            float* dst = dx + (nint)plane * p.Plane;
            float* planeCols = dcol + (nint)c * kh0 * kw0 * cols + (nint)i * p.Positions;
            for (int ih = 0; ih < height; ih++)
            {
                float* dRow = dst + (nint)ih * width;
                for (int piece = 0; piece < pieces; piece++)
                {
                    int j = piece * 32;
                    var loMask = storeMasks[2 * piece];
                    var hiMask = storeMasks[2 * piece + 1];
                    var accEven = Vector512<float>.Zero;
                    var accOdd = Vector512<float>.Zero;
                    if (accumulate)
                    {
                        var lo = Avx512F.MaskLoad(dRow + j, loMask, Vector512<float>.Zero);
                        var hi = Avx512F.MaskLoad(dRow + j + 16, hiMask, Vector512<float>.Zero);
                        accEven = Avx512F.PermuteVar16x32x2(lo, evens, hi);
                        accOdd = Avx512F.PermuteVar16x32x2(lo, odds, hi);
                    }
                    for (int term = 0; term < counts[ih]; term++)
                    {
                        float* rowBase = planeCols + terms[ih * kh0 + term] + piece * 16;
                        for (int kw = 0; kw < kw0; kw++)
                        {
                            var v = Avx512F.MaskLoad(rowBase + (nint)kw * cols + shifts[kw], masks[kw * pieces + piece], negativeZero);
                            if (phases[kw] == 0)
                            {
                                accEven += v;
                            }
                            else
                            {
                                accOdd += v;
                            }
                        }
                    }
                    Avx512F.MaskStore(dRow + j, loMask, Avx512F.PermuteVar16x32x2(accEven, low, accOdd));
                    Avx512F.MaskStore(dRow + j + 16, hiMask, Avx512F.PermuteVar16x32x2(accEven, high, accOdd));
                }
            }
        }
    }

    /// <summary><see cref="Gather"/> for dense geometries: no bounds to clip, so each run is one fixed-length copy.</summary>
    private static unsafe void GatherDense(in ConvPlan p, float* x, int samples, float* col, int rowStart, int rowEnd)
    {
        var g = p.G;
        int cols = samples * p.Positions, outW = p.OutWidth, outH = p.OutHeight, width = g.Width;
        int sampleStride = g.InChannels * p.Plane;
        for (int row = rowStart; row < rowEnd; row++)
        {
            int c = row / p.KernelArea;
            int kh = row % p.KernelArea / g.KernelW;
            int kw = row % p.KernelArea % g.KernelW;
            float* dst = col + (nint)row * cols;
            float* src0 = x + (nint)c * p.Plane + kh * width + kw;
            for (int i = 0; i < samples; i++)
            {
                float* src = src0 + (nint)i * sampleStride;
                float* d = dst + (nint)i * p.Positions;
                if (outW == width && outH == g.Height)
                {
                    // A 1x1 stride-1 plane is one contiguous run (DenseNet-BC's 28x28 bottlenecks: one copy, not 28).
                    Copy(src, d, p.Positions);
                }
                else if (outW == 8)
                {
                    for (int oh = 0; oh < outH; oh++)
                    {
                        Vector256.Store(Vector256.Load(src + (nint)oh * width), d + oh * 8);
                    }
                }
                else if (outW % 8 == 0)
                {
                    for (int oh = 0; oh < outH; oh++)
                    {
                        float* s = src + (nint)oh * width;
                        float* t = d + (nint)oh * outW;
                        for (int j = 0; j < outW; j += 8)
                        {
                            Vector256.Store(Vector256.Load(s + j), t + j);
                        }
                    }
                }
                else
                {
                    for (int oh = 0; oh < outH; oh++)
                    {
                        Copy(src + (nint)oh * width, d + (nint)oh * outW, outW);
                    }
                }
            }
        }
    }

    /// <summary><see cref="Scatter"/> for dense geometries.</summary>
    private static unsafe void ScatterDense(in ConvPlan p, float* dcol, int samples, float* dx, int planeStart, int planeEnd, bool accumulate)
    {
        var g = p.G;
        int cols = samples * p.Positions, outW = p.OutWidth, outH = p.OutHeight, width = g.Width;
        for (int plane = planeStart; plane < planeEnd; plane++)
        {
            int i = plane / g.InChannels;
            int c = plane % g.InChannels;
            float* dst = dx + (nint)plane * p.Plane;
            if (!accumulate)
            {
                new Span<float>(dst, p.Plane).Clear();
            }
            for (int k = 0; k < p.KernelArea; k++)
            {
                int kh = k / g.KernelW;
                int kw = k % g.KernelW;
                float* src = dcol + (nint)(c * p.KernelArea + k) * cols + i * p.Positions;
                float* d = dst + kh * width + kw;
                if (outW == 8)
                {
                    for (int oh = 0; oh < outH; oh++)
                    {
                        float* dr = d + (nint)oh * width;
                        Vector256.Store(Vector256.Load(dr) + Vector256.Load(src + oh * 8), dr);
                    }
                }
                else
                {
                    for (int oh = 0; oh < outH; oh++)
                    {
                        AddTo(src + (nint)oh * outW, d + (nint)oh * width, outW);
                    }
                }
            }
        }
    }

    /// <summary>dst[0..n) = src[0..n) for short runs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Copy(float* src, float* dst, int n)
    {
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            Vector512.Store(Vector512.Load(src + i), dst + i);
        }
        for (; i <= n - 8; i += 8)
        {
            Vector256.Store(Vector256.Load(src + i), dst + i);
        }
        for (; i < n; i++)
        {
            dst[i] = src[i];
        }
    }

    /// <summary>dst[0..n) += src[0..n) for short runs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddTo(float* src, float* dst, int n)
    {
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            Vector512.Store(Vector512.Load(dst + i) + Vector512.Load(src + i), dst + i);
        }
        for (; i <= n - 8; i += 8)
        {
            Vector256.Store(Vector256.Load(dst + i) + Vector256.Load(src + i), dst + i);
        }
        for (; i < n; i++)
        {
            dst[i] += src[i];
        }
    }
}

/// <summary>Grow-only buffers a CPU device keeps for convolutions, so a training step allocates nothing after its first batch.</summary>
internal sealed class ConvWorkspace
{
    private float[] _weights = [];
    private float[][] _parts = [];
    private float[] _columns = [];
    private float[] _gradients = [];
    private float[] _transposed = [];
    private float[] _packedGradients = [];
    private int[] _offsets = [];

    /// <summary>A direct convolution's table of input offsets (pinned), at least <paramref name="length"/> ints.</summary>
    public int[] Offsets(int length)
    {
        if (_offsets.Length < length)
        {
            _offsets = GC.AllocateUninitializedArray<int>(length, pinned: true);
        }
        return _offsets;
    }

    /// <summary>A direct convolution's transposed input (pinned), at least <paramref name="length"/> floats.</summary>
    public float[] Transposed(long length) => Grow(ref _transposed, length);

    /// <summary>A direct convolution's output gradient packed as micro-kernel strips (pinned), at least <paramref name="length"/> floats.</summary>
    public float[] PackedGradients(long length) => Grow(ref _packedGradients, length);

    /// <summary>A direct convolution's input columns (pinned), at least <paramref name="length"/> floats.</summary>
    public float[] Columns(long length) => Grow(ref _columns, length);

    /// <summary>A direct convolution's output-gradient columns (pinned), at least <paramref name="length"/> floats.</summary>
    public float[] Gradients(long length) => Grow(ref _gradients, length);

    private static float[] Grow(ref float[] a, long length)
    {
        if (a.Length < length)
        {
            a = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
        }
        return a;
    }

    /// <summary>Packed weights (pinned), at least <paramref name="length"/> floats.</summary>
    public float[] Weights(long length)
    {
        if (_weights.Length < length)
        {
            _weights = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
        }
        return _weights;
    }

    /// <summary>
    /// <paramref name="count"/> private accumulators (dW and db of threads past the first) whose first
    /// <paramref name="length"/> floats are zeroed; grow-only, so layers of different sizes share them.
    /// </summary>
    public float[][] Parts(int count, int length)
    {
        if (_parts.Length < count || (count > 0 && _parts[0].Length < length))
        {
            int size = Math.Max(length, _parts.Length > 0 ? _parts[0].Length : 0);
            _parts = new float[Math.Max(count, _parts.Length)][];
            for (int i = 0; i < _parts.Length; i++)
            {
                _parts[i] = new float[size];
            }
        }
        for (int i = 0; i < count; i++)
        {
            Array.Clear(_parts[i], 0, length);
        }
        return _parts;
    }
}
