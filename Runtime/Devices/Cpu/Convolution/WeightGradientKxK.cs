using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// The weight gradient of a stride-1, undilated, one-group convolution with kernels up to <see cref="MaxKernelWidth"/>
/// wide as a direct reduction over the batch, without a column matrix:
/// dW[o, c, kh, kw] += sum over n, oh, ow of dy[n, o, oh, ow] * x[n, c, oh+kh-padTop, ow+kw-padLeft]. With 512-bit vectors
/// the plan takes it for kernels 6 and 7 wide only: <see cref="WeightGradientImplicitGemm"/>'s tiles of several tap rows now
/// cover the 5x5 layers it was written for (TwoConv's and LeNet-5's, <see cref="ConvPlan.ChooseWeightGradient"/>); its
/// copies (<see cref="CopySample"/>) serve both.
/// </summary>
/// <remarks>
/// <para>
/// Why. im2col + GEMM computed this as one dot product per weight over a chunk's columns: with 800 rows of 196 positions
/// per sample (TwoConv's second layer) a chunk held one sample, each of the 51,200 dot products was 196 long and ended in
/// a horizontal reduction, and dW was read and written once per sample: 3-4x the forward's time in <c>bench conv</c>.
/// This path ran it 2.9-3.2x faster there (150-300 GFLOP/s on one and two threads with 512-bit vectors).
/// </para>
/// <para>
/// Layout. dy is transposed per sample to position-major rows of output channels, dyT[n, i, o] with i = oh*S + ow, the
/// channels padded with zeros to whole vectors and the positions ow in [OW, S) zero. x's planes are copied into
/// zero-bordered planes with the same row stride <see cref="Layout.S"/> = W + max(padLeft, padRight) (a row's right
/// border is the next row's left one) and padTop zero rows above. Then position i of dyT meets tap (kh, kw) at flat
/// position i + kh*S + kw of the padded plane for every i, and a sum over positions is one flat loop.
/// </para>
/// <para>
/// Tile. For one input channel c, one kernel row kh and a strip of up to 4 vectors of output channels (64 with 512-bit
/// vectors, 16 or 24 with 256-bit ones), KW x vectors accumulators sweep the positions one at a time: the strip's dyT
/// vectors are loaded once and multiplied by KW broadcasts of x (one per kernel column). It is the packed GEMM's outer
/// product with dyT as the packed B panel and the x planes as A read in place: no horizontal sums, each weight is one
/// lane of one accumulator.
/// </para>
/// <para>
/// Passes and threads. Work items are (strip, c, kh); threads split the items and every thread sweeps the batch in
/// passes of <see cref="Layout.PassSamples"/> samples whose dyT and x planes fit in L2. Each weight's sum is a
/// sequential sum over the pass's positions, and the passes' sums are added in order into a [C*KH*KW, OC] buffer that
/// is added to dW at the end: the order is a function of the geometry alone, so the result is the same bit for bit
/// whatever the thread count. db is summed per (sample, channel) plane while dy is transposed, then over samples in order.
/// </para>
/// </remarks>
internal static unsafe class WeightGradientKxK
{
    /// <summary>Widest kernel the tiles cover (one accumulator set per kernel column).</summary>
    public const int MaxKernelWidth = 7;

    /// <summary>Bytes of planes (dyT and x's channels) a pass of samples may take, so every item of the pass finds them in L2.</summary>
    private const int L2Bytes = 512 * 1024;

    /// <summary>Stride 1, no dilation, one group, a kernel at most <see cref="MaxKernelWidth"/> wide, with 256-bit vectors available.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g is { StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Groups: 1 } && g.KernelW <= MaxKernelWidth && Vector256.IsHardwareAccelerated;

    /// <summary>Vectors of output channels per tile, at most, for kernels <paramref name="kernelW"/> wide: KW x vectors accumulators, the strip's vectors and a broadcast in 32 (512-bit) or 16 registers.</summary>
    public static int MaxVectors(int kernelW, bool wide) => wide
        ? Math.Min(4, 20 / kernelW)
        : kernelW <= 3 ? 3 : kernelW <= 6 ? 2 : 1;

    /// <summary>The sizes of one call's copies and its items.</summary>
    public readonly struct Layout
    {
        public Layout(in Conv2dGeometry g, GemmKernel kind)
        {
            G = g;
            Wide = kind == GemmKernel.Vector512 && Vector512.IsHardwareAccelerated;
            Lanes = Wide ? 16 : 8;
            S = g.Width + Math.Max(g.PadLeft, g.PadRight);
            Positions = g.OutHeight * S;
            OcVectors = (g.OutChannels + Lanes - 1) / Lanes;
            OcPad = OcVectors * Lanes;
            int maxVectors = MaxVectors(g.KernelW, Wide);
            Strips = (OcVectors + maxVectors - 1) / maxVectors;
            // The last position of a plane reads KH-1 rows and KW-1 columns past itself.
            XPlane = (g.OutHeight + g.KernelH - 1) * S + g.KernelW - 1;
            Items = Strips * g.InChannels * g.KernelH;
            long perSample = ((long)Positions * OcPad + (long)g.InChannels * XPlane) * sizeof(float);
            PassSamples = (int)Math.Clamp(L2Bytes / perSample, 1, Math.Max(1, g.Batch));
        }

        public Conv2dGeometry G { get; }
        /// <summary>512-bit tiles, else 256-bit ones.</summary>
        public bool Wide { get; }
        /// <summary>Floats per vector: 16 or 8.</summary>
        public int Lanes { get; }
        /// <summary>Row stride of both copies: W + max(padLeft, padRight).</summary>
        public int S { get; }
        /// <summary>Positions per sample of dyT: OH*S.</summary>
        public int Positions { get; }
        /// <summary>Vectors of output channels (the last padded with zeros).</summary>
        public int OcVectors { get; }
        /// <summary>Floats per dyT position: OC rounded up to whole vectors.</summary>
        public int OcPad { get; }
        /// <summary>Strips of output-channel vectors (split evenly, up to <see cref="MaxVectors"/> each).</summary>
        public int Strips { get; }
        /// <summary>Floats per padded x plane.</summary>
        public int XPlane { get; }
        /// <summary>Work items: (strip, input channel, kernel row).</summary>
        public int Items { get; }
        /// <summary>Samples each item sums before the next item: their planes stay in L2 for the pass.</summary>
        public int PassSamples { get; }
        /// <summary>Share of the tiles' multiply-adds that count: OC of the padded channels times OW of the S positions per row.</summary>
        public double UsefulShare => (double)G.OutChannels / OcPad * G.OutWidth / S;
        public long PaddedXLength => (long)G.Batch * G.InChannels * XPlane;
        public long DyTLength => (long)G.Batch * Positions * OcPad;
        /// <summary>Floats of the [C*KH*KW, OcPad] sums.</summary>
        public long SumsLength => (long)G.InChannels * G.KernelH * G.KernelW * OcPad;
        /// <summary>Floats of the per-plane sums of dy (for db).</summary>
        public long PlaneSumsLength => (long)G.Batch * G.OutChannels;
        /// <summary>First vector of strip <paramref name="s"/>.</summary>
        public int StripStart(int s) => BatchSplitConv.StripStart(s, OcVectors, Strips);

        /// <summary>The copies <see cref="PadJob"/> makes: x and dyT rows both <see cref="S"/> apart.</summary>
        public PlaneCopies Copies => new(G, S, XPlane, S, OcPad, Wide, CopyX: true);
    }

    /// <summary>
    /// What <see cref="PadJob"/> copies per sample: x's planes zero-bordered into planes of <paramref name="XPlane"/> floats
    /// with rows <paramref name="XStride"/> apart (padTop zero rows above, padLeft zeros before each row), unless
    /// <paramref name="CopyX"/> is false (the reduction then reads x in place), and dy transposed to dyT rows of
    /// <paramref name="DyStride"/> positions (zeros past OW) of <paramref name="OcPad"/> channels.
    /// </summary>
    public readonly record struct PlaneCopies(Conv2dGeometry G, int XStride, int XPlane, int DyStride, int OcPad, bool Wide, bool CopyX)
    {
        /// <summary>Floats of one sample's dyT.</summary>
        public long DyTSample => (long)G.OutHeight * DyStride * OcPad;
    }

    /// <summary>Item = a sample: its x planes copied zero-bordered and its dy transposed (with its plane sums).</summary>
    public struct PadJob : IRangeJob
    {
        public PlaneCopies P;
        public float* X, Xp, Dy, DyT, PlaneSums;

        public readonly void Run(int start, int end)
        {
            var g = P.G;
            for (int n = start; n < end; n++)
            {
                CopySample(P, X + (nint)n * g.InChannels * g.Height * g.Width, Xp + (nint)n * g.InChannels * P.XPlane,
                    Dy + (nint)n * g.OutChannels * g.OutHeight * g.OutWidth, DyT + n * P.DyTSample,
                    PlaneSums == null ? null : PlaneSums + (nint)n * g.OutChannels);
            }
        }
    }

    /// <summary>
    /// One sample's copies (<see cref="PlaneCopies"/>): its x [C, H, W] into <paramref name="xp"/>, its dy [OC, OH, OW]
    /// into <paramref name="dyT"/>, and its dy plane sums into <paramref name="planeSums"/> unless null.
    /// </summary>
    public static void CopySample(in PlaneCopies p, float* x, float* xp, float* dy, float* dyT, float* planeSums)
    {
        var g = p.G;
        int h = g.Height, w = g.Width, s = p.XStride, c = g.InChannels;
        for (int ic = 0; ic < c && p.CopyX; ic++)
        {
            float* src = x + (nint)ic * h * w;
            float* dst = xp + (nint)ic * p.XPlane;
            new Span<float>(dst, p.XPlane).Clear();
            for (int r = 0; r < h; r++)
            {
                new ReadOnlySpan<float>(src + (nint)r * w, w).CopyTo(new Span<float>(dst + (nint)(r + g.PadTop) * s + g.PadLeft, w));
            }
        }
        Transpose(p, dy, dyT, planeSums);
    }

    /// <summary>
    /// One sample's dy [OC, OH, OW] into dyT [OH*DyStride, OcPad] (zeros past OW and OC), and each channel's sum. With 512-bit
    /// tiles, 16 x 16 blocks transposed in registers (<see cref="Transpose16"/>); else positions outside, channels inside,
    /// so the stores run along dyT's rows and the reads step through OC planes' lines in L1.
    /// </summary>
    private static void Transpose(in PlaneCopies p, float* dy, float* dyT, float* sums)
    {
        var g = p.G;
        int oh = g.OutHeight, ow = g.OutWidth, oc = g.OutChannels, ld = p.OcPad, plane = oh * ow, s = p.DyStride;
        for (int r = 0; r < oh; r++)
        {
            float* row = dyT + (nint)r * s * ld;
            if (p.Wide)
            {
                // OcPad is whole vectors of 16: each block writes 16 channels, those past OC as zeros.
                for (int o0 = 0; o0 < ld; o0 += 16)
                {
                    for (int q0 = 0; q0 < ow; q0 += 16)
                    {
                        Transpose16.Block(dy + (nint)o0 * plane + (nint)r * ow + q0, plane, Math.Min(16, oc - o0), Math.Min(16, ow - q0),
                            row + (nint)q0 * ld + o0, ld, default, masked: false);
                    }
                }
            }
            else
            {
                for (int q = 0; q < ow; q++)
                {
                    float* d = row + (nint)q * ld;
                    float* src = dy + (nint)r * ow + q;
                    for (int o = 0; o < oc; o++)
                    {
                        d[o] = src[(nint)o * plane];
                    }
                    new Span<float>(d + oc, ld - oc).Clear();
                }
            }
            new Span<float>(row + (nint)ow * ld, (s - ow) * ld).Clear();
        }
        if (sums != null)
        {
            for (int o = 0; o < oc; o++)
            {
                sums[o] = TensorPrimitives.Sum(new ReadOnlySpan<float>(dy + (nint)o * plane, plane));
            }
        }
    }

    /// <summary>Item = (strip, input channel, kernel row), strip-major so neighbouring items share the strip's dyT.</summary>
    public struct ReduceJob : IRangeJob
    {
        public Layout L;
        public float* Xp, DyT, Sums;

        public readonly void Run(int start, int end)
        {
            var l = L;
            var g = l.G;
            int c = g.InChannels, kh0 = g.KernelH, kw0 = g.KernelW;
            Vector512<float>* acc512 = stackalloc Vector512<float>[MaxKernelWidth * 4];
            Vector256<float>* acc256 = stackalloc Vector256<float>[MaxKernelWidth * 3];
            nint xSample = (nint)c * l.XPlane, dySample = (nint)l.Positions * l.OcPad;
            for (int n0 = 0; n0 < g.Batch; n0 += l.PassSamples)
            {
                int samples = Math.Min(l.PassSamples, g.Batch - n0);
                for (int item = start; item < end; item++)
                {
                    int strip = item / (c * kh0), rest = item - strip * c * kh0;
                    int ic = rest / kh0, kh = rest - ic * kh0;
                    int v0 = l.StripStart(strip), nv = l.StripStart(strip + 1) - v0;
                    float* x = Xp + (n0 * xSample) + (nint)ic * l.XPlane + (nint)kh * l.S;
                    float* dy = DyT + n0 * dySample + (nint)v0 * l.Lanes;
                    float* sums = Sums + (nint)(ic * kh0 + kh) * kw0 * l.OcPad + (nint)v0 * l.Lanes;
                    if (l.Wide)
                    {
                        Tile512(kw0, nv, x, xSample, dy, dySample, l.OcPad, samples, l.Positions, acc512);
                        for (int k = 0; k < kw0; k++)
                        {
                            for (int v = 0; v < nv; v++)
                            {
                                float* dst = sums + (nint)k * l.OcPad + v * 16;
                                var a = acc512[k * 4 + v];
                                Vector512.Store(n0 == 0 ? a : Vector512.Load(dst) + a, dst);
                            }
                        }
                    }
                    else
                    {
                        Tile256(kw0, nv, x, xSample, dy, dySample, l.OcPad, samples, l.Positions, acc256);
                        for (int k = 0; k < kw0; k++)
                        {
                            for (int v = 0; v < nv; v++)
                            {
                                float* dst = sums + (nint)k * l.OcPad + v * 8;
                                var a = acc256[k * 3 + v];
                                Vector256.Store(n0 == 0 ? a : Vector256.Load(dst) + a, dst);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// dW[o, r] += sums[r, o] for r = (c, kh, kw), rows of <paramref name="ocPad"/> (with several <paramref name="chunks"/>
    /// of such sums <paramref name="chunkLength"/> floats apart, their sum in order); db[o] += the per-plane sums of dy over
    /// samples in order.
    /// </summary>
    public static void AddTo(in Conv2dGeometry g, int ocPad, int chunks, long chunkLength, float* sums, float* dw, float* planeSums, float* db)
    {
        int oc = g.OutChannels, rows = g.InChannels * g.KernelH * g.KernelW;
        // The chunks into the first, in order, along their rows (a column walk per chunk would stream them all once per channel).
        var first = new Span<float>(sums, (int)chunkLength);
        for (int chunk = 1; chunk < chunks; chunk++)
        {
            TensorPrimitives.Add(first, new ReadOnlySpan<float>(sums + chunk * chunkLength, (int)chunkLength), first);
        }
        for (int o = 0; o < oc; o++)
        {
            float* d = dw + (nint)o * rows;
            for (int r = 0; r < rows; r++)
            {
                d[r] += sums[(nint)r * ocPad + o];
            }
        }
        if (db == null)
        {
            return;
        }
        for (int o = 0; o < oc; o++)
        {
            float s = 0f;
            for (int n = 0; n < g.Batch; n++)
            {
                s += planeSums[(nint)n * oc + o];
            }
            db[o] += s;
        }
    }

    private static void Tile512(int kw, int nv, float* x, nint xSample, float* dy, nint dySample, nint ld, int samples, int positions, Vector512<float>* acc)
    {
        switch (kw)
        {
            case 1: Tile512<Rows1>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 2: Tile512<Rows2>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 3: Tile512<Rows3>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 4: Tile512<Rows4>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 5: Tile512<Rows5>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 6: Tile512<Rows6>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 7: Tile512<Rows7>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            default: throw new InvalidOperationException($"{nameof(WeightGradientKxK)}: a kernel {kw} wide (1 to {MaxKernelWidth}).");
        }
    }

    private static void Tile512<TW>(int nv, float* x, nint xSample, float* dy, nint dySample, nint ld, int samples, int positions, Vector512<float>* acc)
        where TW : struct, IRowCount
    {
        switch (nv)
        {
            case 1: Tile512<TW, Rows1>(x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 2: Tile512<TW, Rows2>(x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 3: Tile512<TW, Rows3>(x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 4: Tile512<TW, Rows4>(x, xSample, dy, dySample, ld, samples, positions, acc); break;
            default: throw new InvalidOperationException($"{nameof(WeightGradientKxK)}: a strip of {nv} vectors (1 to 4).");
        }
    }

    private static void Tile256(int kw, int nv, float* x, nint xSample, float* dy, nint dySample, nint ld, int samples, int positions, Vector256<float>* acc)
    {
        switch (kw)
        {
            case 1: Tile256<Rows1>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 2: Tile256<Rows2>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 3: Tile256<Rows3>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 4: Tile256<Rows4>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 5: Tile256<Rows5>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 6: Tile256<Rows6>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 7: Tile256<Rows7>(nv, x, xSample, dy, dySample, ld, samples, positions, acc); break;
            default: throw new InvalidOperationException($"{nameof(WeightGradientKxK)}: a kernel {kw} wide (1 to {MaxKernelWidth}).");
        }
    }

    private static void Tile256<TW>(int nv, float* x, nint xSample, float* dy, nint dySample, nint ld, int samples, int positions, Vector256<float>* acc)
        where TW : struct, IRowCount
    {
        switch (nv)
        {
            case 1: Tile256<TW, Rows1>(x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 2: Tile256<TW, Rows2>(x, xSample, dy, dySample, ld, samples, positions, acc); break;
            case 3: Tile256<TW, Rows3>(x, xSample, dy, dySample, ld, samples, positions, acc); break;
            default: throw new InvalidOperationException($"{nameof(WeightGradientKxK)}: a strip of {nv} vectors (1 to 3).");
        }
    }

    /// <summary>
    /// acc[kw*4 + v] = sum over the samples and positions i of x[i + kw] * dyT[i][v*16 .. v*16+16), for TW.Rows kernel
    /// columns and TV.Rows vectors of output channels. Its own method so that nothing but the loop's values is live across
    /// the loop: up to 20 accumulators, 4 dyT vectors and a broadcast.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile512<TW, TV>(float* x, nint xSample, float* dy, nint dySample, nint ld, int samples, int positions, Vector512<float>* acc)
        where TW : struct, IRowCount where TV : struct, IRowCount
    {
        int kw = TW.Rows, nv = TV.Rows;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        Vector512<float> a40 = default, a41 = default, a42 = default, a43 = default;
        Vector512<float> a50 = default, a51 = default, a52 = default, a53 = default;
        Vector512<float> a60 = default, a61 = default, a62 = default, a63 = default;
        for (int s = 0; s < samples; s++)
        {
            float* xs = x + s * xSample;
            float* d = dy + s * dySample;
            for (nint i = 0; i < positions; i++, d += ld)
            {
                Vector512<float> b0 = Vector512.Load(d);
                Vector512<float> b1 = nv > 1 ? Vector512.Load(d + 16) : default;
                Vector512<float> b2 = nv > 2 ? Vector512.Load(d + 32) : default;
                Vector512<float> b3 = nv > 3 ? Vector512.Load(d + 48) : default;
                Vector512<float> v0 = Vector512.Create(xs[i]);
                a00 = Vector512.FusedMultiplyAdd(v0, b0, a00);
                if (nv > 1) a01 = Vector512.FusedMultiplyAdd(v0, b1, a01);
                if (nv > 2) a02 = Vector512.FusedMultiplyAdd(v0, b2, a02);
                if (nv > 3) a03 = Vector512.FusedMultiplyAdd(v0, b3, a03);
                if (kw > 1)
                {
                    Vector512<float> v1 = Vector512.Create(xs[i + 1]);
                    a10 = Vector512.FusedMultiplyAdd(v1, b0, a10);
                    if (nv > 1) a11 = Vector512.FusedMultiplyAdd(v1, b1, a11);
                    if (nv > 2) a12 = Vector512.FusedMultiplyAdd(v1, b2, a12);
                    if (nv > 3) a13 = Vector512.FusedMultiplyAdd(v1, b3, a13);
                }
                if (kw > 2)
                {
                    Vector512<float> v2 = Vector512.Create(xs[i + 2]);
                    a20 = Vector512.FusedMultiplyAdd(v2, b0, a20);
                    if (nv > 1) a21 = Vector512.FusedMultiplyAdd(v2, b1, a21);
                    if (nv > 2) a22 = Vector512.FusedMultiplyAdd(v2, b2, a22);
                    if (nv > 3) a23 = Vector512.FusedMultiplyAdd(v2, b3, a23);
                }
                if (kw > 3)
                {
                    Vector512<float> v3 = Vector512.Create(xs[i + 3]);
                    a30 = Vector512.FusedMultiplyAdd(v3, b0, a30);
                    if (nv > 1) a31 = Vector512.FusedMultiplyAdd(v3, b1, a31);
                    if (nv > 2) a32 = Vector512.FusedMultiplyAdd(v3, b2, a32);
                    if (nv > 3) a33 = Vector512.FusedMultiplyAdd(v3, b3, a33);
                }
                if (kw > 4)
                {
                    Vector512<float> v4 = Vector512.Create(xs[i + 4]);
                    a40 = Vector512.FusedMultiplyAdd(v4, b0, a40);
                    if (nv > 1) a41 = Vector512.FusedMultiplyAdd(v4, b1, a41);
                    if (nv > 2) a42 = Vector512.FusedMultiplyAdd(v4, b2, a42);
                    if (nv > 3) a43 = Vector512.FusedMultiplyAdd(v4, b3, a43);
                }
                if (kw > 5)
                {
                    Vector512<float> v5 = Vector512.Create(xs[i + 5]);
                    a50 = Vector512.FusedMultiplyAdd(v5, b0, a50);
                    if (nv > 1) a51 = Vector512.FusedMultiplyAdd(v5, b1, a51);
                    if (nv > 2) a52 = Vector512.FusedMultiplyAdd(v5, b2, a52);
                    if (nv > 3) a53 = Vector512.FusedMultiplyAdd(v5, b3, a53);
                }
                if (kw > 6)
                {
                    Vector512<float> v6 = Vector512.Create(xs[i + 6]);
                    a60 = Vector512.FusedMultiplyAdd(v6, b0, a60);
                    if (nv > 1) a61 = Vector512.FusedMultiplyAdd(v6, b1, a61);
                    if (nv > 2) a62 = Vector512.FusedMultiplyAdd(v6, b2, a62);
                    if (nv > 3) a63 = Vector512.FusedMultiplyAdd(v6, b3, a63);
                }
            }
        }
        acc[0] = a00;
        if (nv > 1) acc[1] = a01;
        if (nv > 2) acc[2] = a02;
        if (nv > 3) acc[3] = a03;
        if (kw > 1) acc[4] = a10;
        if (kw > 1 && nv > 1) acc[5] = a11;
        if (kw > 1 && nv > 2) acc[6] = a12;
        if (kw > 1 && nv > 3) acc[7] = a13;
        if (kw > 2) acc[8] = a20;
        if (kw > 2 && nv > 1) acc[9] = a21;
        if (kw > 2 && nv > 2) acc[10] = a22;
        if (kw > 2 && nv > 3) acc[11] = a23;
        if (kw > 3) acc[12] = a30;
        if (kw > 3 && nv > 1) acc[13] = a31;
        if (kw > 3 && nv > 2) acc[14] = a32;
        if (kw > 3 && nv > 3) acc[15] = a33;
        if (kw > 4) acc[16] = a40;
        if (kw > 4 && nv > 1) acc[17] = a41;
        if (kw > 4 && nv > 2) acc[18] = a42;
        if (kw > 4 && nv > 3) acc[19] = a43;
        if (kw > 5) acc[20] = a50;
        if (kw > 5 && nv > 1) acc[21] = a51;
        if (kw > 5 && nv > 2) acc[22] = a52;
        if (kw > 5 && nv > 3) acc[23] = a53;
        if (kw > 6) acc[24] = a60;
        if (kw > 6 && nv > 1) acc[25] = a61;
        if (kw > 6 && nv > 2) acc[26] = a62;
        if (kw > 6 && nv > 3) acc[27] = a63;
    }

    /// <summary><see cref="Tile512{TW, TV}"/> with 256-bit vectors: acc[kw*3 + v], up to 3 vectors of 8 output channels.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile256<TW, TV>(float* x, nint xSample, float* dy, nint dySample, nint ld, int samples, int positions, Vector256<float>* acc)
        where TW : struct, IRowCount where TV : struct, IRowCount
    {
        int kw = TW.Rows, nv = TV.Rows;
        Vector256<float> a00 = default, a01 = default, a02 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default;
        Vector256<float> a30 = default, a31 = default, a32 = default;
        Vector256<float> a40 = default, a41 = default, a42 = default;
        Vector256<float> a50 = default, a51 = default, a52 = default;
        Vector256<float> a60 = default, a61 = default, a62 = default;
        for (int s = 0; s < samples; s++)
        {
            float* xs = x + s * xSample;
            float* d = dy + s * dySample;
            for (nint i = 0; i < positions; i++, d += ld)
            {
                Vector256<float> b0 = Vector256.Load(d);
                Vector256<float> b1 = nv > 1 ? Vector256.Load(d + 8) : default;
                Vector256<float> b2 = nv > 2 ? Vector256.Load(d + 16) : default;
                Vector256<float> v0 = Vector256.Create(xs[i]);
                a00 = Vector256.FusedMultiplyAdd(v0, b0, a00);
                if (nv > 1) a01 = Vector256.FusedMultiplyAdd(v0, b1, a01);
                if (nv > 2) a02 = Vector256.FusedMultiplyAdd(v0, b2, a02);
                if (kw > 1)
                {
                    Vector256<float> v1 = Vector256.Create(xs[i + 1]);
                    a10 = Vector256.FusedMultiplyAdd(v1, b0, a10);
                    if (nv > 1) a11 = Vector256.FusedMultiplyAdd(v1, b1, a11);
                    if (nv > 2) a12 = Vector256.FusedMultiplyAdd(v1, b2, a12);
                }
                if (kw > 2)
                {
                    Vector256<float> v2 = Vector256.Create(xs[i + 2]);
                    a20 = Vector256.FusedMultiplyAdd(v2, b0, a20);
                    if (nv > 1) a21 = Vector256.FusedMultiplyAdd(v2, b1, a21);
                    if (nv > 2) a22 = Vector256.FusedMultiplyAdd(v2, b2, a22);
                }
                if (kw > 3)
                {
                    Vector256<float> v3 = Vector256.Create(xs[i + 3]);
                    a30 = Vector256.FusedMultiplyAdd(v3, b0, a30);
                    if (nv > 1) a31 = Vector256.FusedMultiplyAdd(v3, b1, a31);
                    if (nv > 2) a32 = Vector256.FusedMultiplyAdd(v3, b2, a32);
                }
                if (kw > 4)
                {
                    Vector256<float> v4 = Vector256.Create(xs[i + 4]);
                    a40 = Vector256.FusedMultiplyAdd(v4, b0, a40);
                    if (nv > 1) a41 = Vector256.FusedMultiplyAdd(v4, b1, a41);
                    if (nv > 2) a42 = Vector256.FusedMultiplyAdd(v4, b2, a42);
                }
                if (kw > 5)
                {
                    Vector256<float> v5 = Vector256.Create(xs[i + 5]);
                    a50 = Vector256.FusedMultiplyAdd(v5, b0, a50);
                    if (nv > 1) a51 = Vector256.FusedMultiplyAdd(v5, b1, a51);
                    if (nv > 2) a52 = Vector256.FusedMultiplyAdd(v5, b2, a52);
                }
                if (kw > 6)
                {
                    Vector256<float> v6 = Vector256.Create(xs[i + 6]);
                    a60 = Vector256.FusedMultiplyAdd(v6, b0, a60);
                    if (nv > 1) a61 = Vector256.FusedMultiplyAdd(v6, b1, a61);
                    if (nv > 2) a62 = Vector256.FusedMultiplyAdd(v6, b2, a62);
                }
            }
        }
        acc[0] = a00;
        if (nv > 1) acc[1] = a01;
        if (nv > 2) acc[2] = a02;
        if (kw > 1) acc[3] = a10;
        if (kw > 1 && nv > 1) acc[4] = a11;
        if (kw > 1 && nv > 2) acc[5] = a12;
        if (kw > 2) acc[6] = a20;
        if (kw > 2 && nv > 1) acc[7] = a21;
        if (kw > 2 && nv > 2) acc[8] = a22;
        if (kw > 3) acc[9] = a30;
        if (kw > 3 && nv > 1) acc[10] = a31;
        if (kw > 3 && nv > 2) acc[11] = a32;
        if (kw > 4) acc[12] = a40;
        if (kw > 4 && nv > 1) acc[13] = a41;
        if (kw > 4 && nv > 2) acc[14] = a42;
        if (kw > 5) acc[15] = a50;
        if (kw > 5 && nv > 1) acc[16] = a51;
        if (kw > 5 && nv > 2) acc[17] = a52;
        if (kw > 6) acc[18] = a60;
        if (kw > 6 && nv > 1) acc[19] = a61;
        if (kw > 6 && nv > 2) acc[20] = a62;
    }
}
