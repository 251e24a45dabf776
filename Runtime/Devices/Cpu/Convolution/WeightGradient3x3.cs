using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// The weight gradient of a 3x3, stride-1, padding-1 convolution (<see cref="DirectConv2d.Applies"/>) as a direct
/// reduction, without a column matrix: dW[o, c, kh, kw] += sum over n, h, w of dy[n, o, h, w] * x[n, c, h+kh-1, w+kw-1].
/// </summary>
/// <remarks>
/// <para>
/// Layout. x's planes are copied into zero-bordered planes whose rows are <see cref="Layout.S"/> = W + 1 floats apart:
/// each row holds one zero followed by the row's W values, so the zero that starts row r+1 is also the right border of
/// row r, and the plane gets one zero row above and at least one below. dy's planes are copied with the same row
/// stride, a zero in each row's last slot and zeros up to whole chunks of one vector (8 or 16 floats). Then output position i = h*S + w of the
/// flat dy plane meets tap (kh, kw) at flat position i + kh*S + kw of the padded x plane, for every i, borders
/// included, and the reduction is one flat loop over the plane: no per-row edges, and at most one wasted float per row.
/// </para>
/// <para>
/// Tile. For one input channel, one kernel row kh and a block of up to 3 output channels, 9 accumulators (3 channels x 3
/// kernel columns) sweep the planes 8 positions at a time: 3 loads of dy and 3 of x feed 9 FMAs, 13 vector registers
/// live (AVX2 has 16). With 512-bit kernels (<see cref="GemmKernel.Vector512"/>, 32 registers) a block has up to 4
/// output channels and the tile 12 accumulators over 16 positions: 4 loads of dy and 3 of x feed 12 FMAs. The 3 kernel
/// rows reuse the same planes from L1 (a few samples at a time), and the sums are reduced horizontally once per weight
/// at the end.
/// </para>
/// <para>
/// Passes and threads. A job sweeps the batch in passes of <see cref="Layout.PassSamples"/> samples whose planes fit
/// in L2, and in each pass every item of its range: an item alone over the whole batch would read 1 MB (a block's dy
/// and a channel's x for 64 samples at 28x28) from L3 for 0.9 MFLOP per kernel row. Work items are (block of output
/// channels, input channel); each weight is summed by one item in one fixed order (pass, whose vector sums are added
/// to dW in turn, sample chunk, kernel row, then lane), a function of the geometry alone, so the result is the same bit
/// for bit whatever the thread count. db
/// is summed per (sample, channel) plane while dy is copied and then added over samples in order.
/// </para>
/// </remarks>
internal static unsafe class WeightGradient3x3
{
    /// <summary>Output channels per tile, at most, with 256-bit vectors.</summary>
    public const int OcBlock = 3;

    /// <summary>Output channels per tile, at most, with 512-bit vectors.</summary>
    public const int OcBlock512 = 4;

    /// <summary>Whether the 512-bit tiles run for GEMM kernels <paramref name="kind"/> on this machine.</summary>
    public static bool Wide(GemmKernel kind) => kind == GemmKernel.Vector512 && Vector512.IsHardwareAccelerated;

    /// <summary>Bytes of planes (a block's dy and one x channel) a chunk of samples may take, so the 3 kernel rows find them in L1.</summary>
    private const int L1Bytes = 24 * 1024;

    /// <summary>
    /// Bytes of planes (all of dy's and x's channels) a pass of samples may take, so that every item of the pass finds
    /// them in L2 (1 MiB per core here, half of it left to the rest).
    /// </summary>
    private const int L2Bytes = 512 * 1024;

    /// <summary>The geometries this kernel computes: those of <see cref="DirectConv2d"/>, with 256-bit vectors available.</summary>
    public static bool Applies(in Conv2dGeometry g) => DirectConv2d.Applies(g) && Vector256.IsHardwareAccelerated;

    /// <summary>The sizes of one call's copies.</summary>
    public readonly struct Layout
    {
        public Layout(in Conv2dGeometry g, GemmKernel kind)
        {
            G = g;
            Wide = WeightGradient3x3.Wide(kind);
            Lanes = Wide ? 16 : 8;
            MaxBlock = Wide ? OcBlock512 : OcBlock;
            S = g.Width + 1;
            Chunks = (g.Height * S + Lanes - 1) / Lanes;
            DyPlane = Chunks * Lanes;
            // The last chunk reads up to 2 rows and 2 columns past its own position, plus the lanes after it.
            XPlane = (DyPlane + 2 * S + 2 + Lanes - 1) / Lanes * Lanes;
            Blocks = (g.OutChannels + MaxBlock - 1) / MaxBlock;
            long perSample = ((long)MaxBlock * DyPlane + XPlane) * sizeof(float);
            ChunkSamples = (int)Math.Clamp(L1Bytes / perSample, 1, g.Batch);
            long wholeSample = ((long)g.OutChannels * DyPlane + (long)g.InChannels * XPlane) * sizeof(float);
            PassSamples = (int)Math.Clamp(L2Bytes / wholeSample, 1, g.Batch);
        }

        public Conv2dGeometry G { get; }
        /// <summary>512-bit tiles (<see cref="WeightGradient3x3.Wide"/>), else 256-bit ones.</summary>
        public bool Wide { get; }
        /// <summary>Floats per vector: 16 or 8.</summary>
        public int Lanes { get; }
        /// <summary>Output channels per block, at most: <see cref="OcBlock512"/> or <see cref="OcBlock"/>.</summary>
        public int MaxBlock { get; }
        /// <summary>Row stride of both copies: W + 1.</summary>
        public int S { get; }
        /// <summary>Chunks of <see cref="Lanes"/> positions per dy plane.</summary>
        public int Chunks { get; }
        /// <summary>Floats per copied dy plane.</summary>
        public int DyPlane { get; }
        /// <summary>Floats per padded x plane.</summary>
        public int XPlane { get; }
        /// <summary>Blocks of output channels (of up to <see cref="MaxBlock"/> channels each, split evenly).</summary>
        public int Blocks { get; }
        /// <summary>Samples whose planes a tile sweeps for one kernel row before the next.</summary>
        public int ChunkSamples { get; }
        /// <summary>Samples each item of a job sums before the next item: all their planes stay in L2 for the pass.</summary>
        public int PassSamples { get; }
        public long PaddedXLength => (long)G.Batch * G.InChannels * XPlane;
        public long PaddedDyLength => (long)G.Batch * G.OutChannels * DyPlane;
        /// <summary>Floats of the per-plane sums of dy (for db).</summary>
        public long PlaneSumsLength => (long)G.Batch * G.OutChannels;
        /// <summary>First output channel of block <paramref name="b"/>: blocks split OutC evenly.</summary>
        public int BlockStart(int b) => BatchSplitConv.StripStart(b, G.OutChannels, Blocks);
    }

    /// <summary>Item = one plane, (sample, channel) of x, then of dy: copies it into its padded layout; dy planes also get their sum.</summary>
    public struct PadJob : IRangeJob
    {
        public Layout L;
        public float* X, Xp, Dy, Dyp, PlaneSums;

        public readonly void Run(int start, int end)
        {
            var l = L;
            int h = l.G.Height, w = l.G.Width, s = l.S;
            int xPlanes = l.G.Batch * l.G.InChannels;
            for (int plane = start; plane < end; plane++)
            {
                if (plane < xPlanes)
                {
                    float* src = X + (nint)plane * h * w;
                    float* dst = Xp + (nint)plane * l.XPlane;
                    new Span<float>(dst, s).Clear();
                    for (int r = 0; r < h; r++)
                    {
                        float* row = dst + (nint)(r + 1) * s;
                        row[0] = 0f;
                        new ReadOnlySpan<float>(src + (nint)r * w, w).CopyTo(new Span<float>(row + 1, w));
                    }
                    new Span<float>(dst + (nint)(h + 1) * s, l.XPlane - (h + 1) * s).Clear();
                }
                else
                {
                    int p = plane - xPlanes;
                    float* src = Dy + (nint)p * h * w;
                    float* dst = Dyp + (nint)p * l.DyPlane;
                    for (int r = 0; r < h; r++)
                    {
                        float* row = dst + (nint)r * s;
                        new ReadOnlySpan<float>(src + (nint)r * w, w).CopyTo(new Span<float>(row, w));
                        row[w] = 0f;
                    }
                    new Span<float>(dst + (nint)h * s, l.DyPlane - h * s).Clear();
                    if (PlaneSums != null)
                    {
                        PlaneSums[p] = TensorPrimitives.Sum(new ReadOnlySpan<float>(src, h * w));
                    }
                }
            }
        }
    }

    /// <summary>Item = (block of output channels, input channel), block-major so neighbouring items share the block's dy planes.</summary>
    public struct ReduceJob : IRangeJob
    {
        public Layout L;
        public float* Xp, Dyp, Dw;

        public readonly void Run(int start, int end)
        {
            var l = L;
            int c = l.G.InChannels;
            Vector256<float>* acc = stackalloc Vector256<float>[3 * 3 * OcBlock];
            Vector512<float>* acc512 = stackalloc Vector512<float>[3 * 3 * OcBlock512];
            for (int n0 = 0; n0 < l.G.Batch; n0 += l.PassSamples)
            {
                int n1 = Math.Min(l.G.Batch, n0 + l.PassSamples);
                for (int item = start; item < end; item++)
                {
                    int blk = item / c, ic = item - blk * c;
                    int o0 = l.BlockStart(blk), count = l.BlockStart(blk + 1) - o0;
                    if (l.Wide)
                    {
                        Reduce512(l, n0, n1, o0, count, ic, Xp, Dyp, acc512);
                    }
                    else
                    {
                        Reduce(l, n0, n1, o0, count, ic, Xp, Dyp, acc);
                    }
                    for (int o = 0; o < count; o++)
                    {
                        float* dw = Dw + ((nint)(o0 + o) * c + ic) * 9;
                        for (int kh = 0; kh < 3; kh++)
                        {
                            for (int kw = 0; kw < 3; kw++)
                            {
                                dw[kh * 3 + kw] += l.Wide
                                    ? Vector512.Sum(acc512[(kh * OcBlock512 + o) * 3 + kw])
                                    : Vector256.Sum(acc[(kh * OcBlock + o) * 3 + kw]);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Sums, for output channels [o0, o0+count) and input channel <paramref name="ic"/>, samples [n0, n1)'s products into
    /// <paramref name="acc"/>: [kh][o][kw] vectors of 8 partial sums (channels past count left zero).
    /// </summary>
    private static void Reduce(in Layout l, int n0, int n1, int o0, int count, int ic, float* xp, float* dyp, Vector256<float>* acc)
    {
        var g = l.G;
        new Span<Vector256<float>>(acc, 27).Clear();
        nint dySample = (nint)g.OutChannels * l.DyPlane, xSample = (nint)g.InChannels * l.XPlane;
        float* dy0 = dyp + (nint)o0 * l.DyPlane;
        float* x0 = xp + (nint)ic * l.XPlane;
        int length = l.DyPlane;
        for (int n = n0; n < n1; n += l.ChunkSamples)
        {
            int samples = Math.Min(l.ChunkSamples, n1 - n);
            float* dy = dy0 + n * dySample;
            for (int kh = 0; kh < 3; kh++)
            {
                float* x = x0 + n * xSample + (nint)kh * l.S;
                Vector256<float>* a = acc + kh * 9;
                switch (count)
                {
                    case 3: Tile<Rows3>(dy, x, l.DyPlane, dySample, xSample, samples, length, a); break;
                    case 2: Tile<Rows2>(dy, x, l.DyPlane, dySample, xSample, samples, length, a); break;
                    case 1: Tile<Rows1>(dy, x, l.DyPlane, dySample, xSample, samples, length, a); break;
                    default: throw new InvalidOperationException($"{nameof(WeightGradient3x3)}: a block of {count} output channels (1 to {OcBlock}).");
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Reduce"/> with 512-bit tiles: [kh][o][kw] vectors of 16 partial sums for up to <see cref="OcBlock512"/>
    /// output channels.
    /// </summary>
    private static void Reduce512(in Layout l, int n0, int n1, int o0, int count, int ic, float* xp, float* dyp, Vector512<float>* acc)
    {
        var g = l.G;
        new Span<Vector512<float>>(acc, 3 * 3 * OcBlock512).Clear();
        nint dySample = (nint)g.OutChannels * l.DyPlane, xSample = (nint)g.InChannels * l.XPlane;
        float* dy0 = dyp + (nint)o0 * l.DyPlane;
        float* x0 = xp + (nint)ic * l.XPlane;
        int length = l.DyPlane;
        for (int n = n0; n < n1; n += l.ChunkSamples)
        {
            int samples = Math.Min(l.ChunkSamples, n1 - n);
            float* dy = dy0 + n * dySample;
            for (int kh = 0; kh < 3; kh++)
            {
                float* x = x0 + n * xSample + (nint)kh * l.S;
                Vector512<float>* a = acc + kh * 3 * OcBlock512;
                switch (count)
                {
                    case 4: Tile512<Rows4>(dy, x, l.DyPlane, dySample, xSample, samples, length, a); break;
                    case 3: Tile512<Rows3>(dy, x, l.DyPlane, dySample, xSample, samples, length, a); break;
                    case 2: Tile512<Rows2>(dy, x, l.DyPlane, dySample, xSample, samples, length, a); break;
                    case 1: Tile512<Rows1>(dy, x, l.DyPlane, dySample, xSample, samples, length, a); break;
                    default: throw new InvalidOperationException($"{nameof(WeightGradient3x3)}: a block of {count} output channels (1 to {OcBlock512}).");
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Tile{TO}"/> with 512-bit vectors and up to 4 output channels: 12 accumulators, 4 dy and 1 x vectors live.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile512<TO>(float* dy, float* x, nint dyPlane, nint dySample, nint xSample, int samples, int length, Vector512<float>* acc)
        where TO : struct, IRowCount
    {
        int rows = TO.Rows;
        Vector512<float> a00 = acc[0], a01 = acc[1], a02 = acc[2];
        Vector512<float> a10 = acc[3], a11 = acc[4], a12 = acc[5];
        Vector512<float> a20 = acc[6], a21 = acc[7], a22 = acc[8];
        Vector512<float> a30 = acc[9], a31 = acc[10], a32 = acc[11];
        for (int s = 0; s < samples; s++)
        {
            float* d0 = dy + s * dySample;
            float* d1 = d0 + dyPlane;
            float* d2 = d1 + dyPlane;
            float* d3 = d2 + dyPlane;
            float* xs = x + s * xSample;
            for (nint i = 0; i < length; i += 16)
            {
                Vector512<float> y0 = Vector512.Load(d0 + i);
                Vector512<float> y1 = rows > 1 ? Vector512.Load(d1 + i) : default;
                Vector512<float> y2 = rows > 2 ? Vector512.Load(d2 + i) : default;
                Vector512<float> y3 = rows > 3 ? Vector512.Load(d3 + i) : default;
                Vector512<float> v = Vector512.Load(xs + i);
                a00 = Vector512.FusedMultiplyAdd(y0, v, a00);
                if (rows > 1) a10 = Vector512.FusedMultiplyAdd(y1, v, a10);
                if (rows > 2) a20 = Vector512.FusedMultiplyAdd(y2, v, a20);
                if (rows > 3) a30 = Vector512.FusedMultiplyAdd(y3, v, a30);
                v = Vector512.Load(xs + i + 1);
                a01 = Vector512.FusedMultiplyAdd(y0, v, a01);
                if (rows > 1) a11 = Vector512.FusedMultiplyAdd(y1, v, a11);
                if (rows > 2) a21 = Vector512.FusedMultiplyAdd(y2, v, a21);
                if (rows > 3) a31 = Vector512.FusedMultiplyAdd(y3, v, a31);
                v = Vector512.Load(xs + i + 2);
                a02 = Vector512.FusedMultiplyAdd(y0, v, a02);
                if (rows > 1) a12 = Vector512.FusedMultiplyAdd(y1, v, a12);
                if (rows > 2) a22 = Vector512.FusedMultiplyAdd(y2, v, a22);
                if (rows > 3) a32 = Vector512.FusedMultiplyAdd(y3, v, a32);
            }
        }
        acc[0] = a00; acc[1] = a01; acc[2] = a02;
        acc[3] = a10; acc[4] = a11; acc[5] = a12;
        acc[6] = a20; acc[7] = a21; acc[8] = a22;
        acc[9] = a30; acc[10] = a31; acc[11] = a32;
    }

    /// <summary>
    /// acc[o*3 + kw] += dy[o][i] * x[i + kw] over i in [0, length) of each of <paramref name="samples"/> samples, for
    /// TO.Rows output channels <paramref name="dyPlane"/> apart, 8 positions at a time. Its own method so that nothing but the loop's values is
    /// live across the loop (see <see cref="MicroKernel256"/>): 9 accumulators, 3 dy and 1 x vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TO>(float* dy, float* x, nint dyPlane, nint dySample, nint xSample, int samples, int length, Vector256<float>* acc)
        where TO : struct, IRowCount
    {
        int rows = TO.Rows;
        Vector256<float> a00 = acc[0], a01 = acc[1], a02 = acc[2];
        Vector256<float> a10 = acc[3], a11 = acc[4], a12 = acc[5];
        Vector256<float> a20 = acc[6], a21 = acc[7], a22 = acc[8];
        for (int s = 0; s < samples; s++)
        {
            float* d0 = dy + s * dySample;
            float* d1 = d0 + dyPlane;
            float* d2 = d1 + dyPlane;
            float* xs = x + s * xSample;
            for (nint i = 0; i < length; i += 8)
            {
                Vector256<float> y0 = Vector256.Load(d0 + i);
                Vector256<float> y1 = rows > 1 ? Vector256.Load(d1 + i) : default;
                Vector256<float> y2 = rows > 2 ? Vector256.Load(d2 + i) : default;
                Vector256<float> v = Vector256.Load(xs + i);
                a00 = Vector256.FusedMultiplyAdd(y0, v, a00);
                if (rows > 1) a10 = Vector256.FusedMultiplyAdd(y1, v, a10);
                if (rows > 2) a20 = Vector256.FusedMultiplyAdd(y2, v, a20);
                v = Vector256.Load(xs + i + 1);
                a01 = Vector256.FusedMultiplyAdd(y0, v, a01);
                if (rows > 1) a11 = Vector256.FusedMultiplyAdd(y1, v, a11);
                if (rows > 2) a21 = Vector256.FusedMultiplyAdd(y2, v, a21);
                v = Vector256.Load(xs + i + 2);
                a02 = Vector256.FusedMultiplyAdd(y0, v, a02);
                if (rows > 1) a12 = Vector256.FusedMultiplyAdd(y1, v, a12);
                if (rows > 2) a22 = Vector256.FusedMultiplyAdd(y2, v, a22);
            }
        }
        acc[0] = a00; acc[1] = a01; acc[2] = a02;
        acc[3] = a10; acc[4] = a11; acc[5] = a12;
        acc[6] = a20; acc[7] = a21; acc[8] = a22;
    }

    /// <summary>Adds the per-plane sums of dy (<see cref="PadJob"/>) to db, over samples in order.</summary>
    public static void AddBias(in Layout l, float* planeSums, float* db)
    {
        int outC = l.G.OutChannels;
        for (int o = 0; o < outC; o++)
        {
            float s = 0f;
            for (int n = 0; n < l.G.Batch; n++)
            {
                s += planeSums[(nint)n * outC + o];
            }
            db[o] += s;
        }
    }
}
