using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dsl.Devices.Cpu.Convolution;

namespace Dsl.Devices.Cpu;

// Pooling with PyTorch's arithmetic (ceil_mode off): windows start at o*stride - pad, padding never wins a max
// (PyTorch pads with -inf) and counts in an average's divisor only with count_include_pad. Work is split over
// the N*C planes, which are independent, so the backward scatters never race.
public sealed partial class CpuDevice
{
    protected override void MaxPool2dCore(Tensor x, Tensor y, Tensor argmax, in Pool2dGeometry g)
        => MaxPool2dFusedCore(x, y, argmax, g, relu: false, recordArgmax: true);

    // One pass for the pool and the ReLU after it (max(0, .) with TensorPrimitives.Max's rules: a NaN stays NaN, -0 becomes
    // +0), and an evaluation pool that writes no argmax.
    protected override void MaxPool2dFusedCore(Tensor x, Tensor y, Tensor argmax, in Pool2dGeometry g, bool relu, bool recordArgmax)
    {
        const string op = nameof(MaxPool2d);
        var xa = HostBuffers.Floats(x, op, out int xo);
        var ya = HostBuffers.Floats(y, op, out int yo);
        var ia = HostBuffers.Ints(argmax, op, out int io);
        var job = new MaxPoolJob
        {
            X = xa, XOffset = xo, Y = ya, YOffset = yo, Argmax = ia, ArgmaxOffset = io, Geometry = g,
            TwoByTwo = g.IsWholeTwoByTwo,
            Relu = relu, Record = recordArgmax,
        };
        ParallelRange(g.Batch * g.Channels, Math.Max(1, 131072 / (g.Height * g.Width)), ref job);
    }

    private struct MaxPoolJob : IRangeJob
    {
        public float[] X, Y;
        public int[] Argmax;
        public int XOffset, YOffset, ArgmaxOffset;
        public Pool2dGeometry Geometry;
        public bool TwoByTwo, Relu, Record;

        public readonly void Run(int start, int end)
        {
            var geo = Geometry;
            int plane = geo.Height * geo.Width;
            int outPlane = geo.OutHeight * geo.OutWidth;
            for (int pl = start; pl < end; pl++)
            {
                var xs = X.AsSpan(XOffset + pl * plane, plane);
                var ys = Y.AsSpan(YOffset + pl * outPlane, outPlane);
                var idx = Argmax.AsSpan(ArgmaxOffset + pl * outPlane, outPlane);
                if (TwoByTwo)
                {
                    MaxPool2x2(xs, geo.Width, geo.OutHeight, geo.OutWidth, pl * plane, ys, idx, Record, Relu);
                }
                else
                {
                    MaxPoolPlane(xs, geo, pl * plane, ys, idx, Record, Relu);
                }
            }
        }
    }

    protected override void MaxPool2dBackwardCore(Tensor dy, Tensor argmax, Tensor dx, in Pool2dGeometry g, bool accumulate, Tensor? reluOutput)
    {
        const string op = nameof(MaxPool2dBackward);
        var dya = HostBuffers.Floats(dy, op, out int dyo);
        var dxa = HostBuffers.Floats(dx, op, out int dxo);
        var ia = HostBuffers.Ints(argmax, op, out int io);
        var ya = HostBuffers.FloatsOrNull(reluOutput, op, out int yo);
        var job = new MaxPoolBackwardJob
        {
            Dy = dya, DyOffset = dyo, Dx = dxa, DxOffset = dxo, Argmax = ia, ArgmaxOffset = io, ReluOutput = ya, ReluOutputOffset = yo,
            Plane = g.Height * g.Width, OutPlane = g.OutHeight * g.OutWidth, Accumulate = accumulate,
        };
        ParallelRange(g.Batch * g.Channels, Math.Max(1, 131072 / job.Plane), ref job);
    }

    private struct MaxPoolBackwardJob : IRangeJob
    {
        public float[] Dy, Dx;
        public int[] Argmax;
        /// <summary>The pool's output when it does the backward of the ReLU before it (dy passes where it is &gt; 0), or null.</summary>
        public float[]? ReluOutput;
        public int DyOffset, DxOffset, ArgmaxOffset, ReluOutputOffset, Plane, OutPlane;
        public bool Accumulate;

        /// <summary>Outputs masked at a time: the ReLU's mask is one vector pass into a stack buffer, not a branch per output.</summary>
        private const int MaskChunk = 256;

        public readonly void Run(int start, int end)
        {
            int plane = Plane, outPlane = OutPlane;
            Span<float> masked = stackalloc float[ReluOutput is null ? 0 : MaskChunk];
            for (int pl = start; pl < end; pl++)
            {
                var dxs = Dx.AsSpan(DxOffset + pl * plane, plane);
                if (!Accumulate)
                {
                    dxs.Clear();
                }
                int first = pl * plane;
                for (int o0 = 0; o0 < outPlane; o0 += MaskChunk)
                {
                    int count = Math.Min(MaskChunk, outPlane - o0), at = pl * outPlane + o0;
                    scoped ReadOnlySpan<float> dys = Dy.AsSpan(DyOffset + at, count);
                    var idx = Argmax.AsSpan(ArgmaxOffset + at, count);
                    if (ReluOutput is not null)
                    {
                        // The standard ReLU rule with the pool's output as the ReLU's at each argmax: dy where y > 0, else 0.
                        ReluBackwardRows(ReluBackwardRule.Standard, ReluOutput.AsSpan(ReluOutputOffset + at, count), dys, masked, accumulate: false);
                        dys = masked[..count];
                    }
                    for (int o = 0; o < count; o++)
                    {
                        int k = idx[o] - first;
                        if ((uint)k >= (uint)plane)
                        {
                            throw new ArgumentException($"{nameof(MaxPool2dBackward)}: argmax {idx[o]} at output {at + o} lies outside its input plane; was it filled by {nameof(MaxPool2d)} with this geometry?");
                        }
                        dxs[k] += dys[o];
                    }
                }
            }
        }
    }

    protected override void AvgPool2dCore(Tensor x, Tensor y, in Pool2dGeometry g, bool countIncludePad)
    {
        const string op = nameof(AvgPool2d);
        var job = new AvgPoolJob
        {
            Windows = AvgWindows.Of(g, countIncludePad),
            X = HostBuffers.Floats(x, op, out int xo), XOffset = xo, Y = HostBuffers.Floats(y, op, out int yo), YOffset = yo,
            TwoByTwo = g.IsWholeTwoByTwo,
        };
        ParallelRange(g.Batch * g.Channels, Math.Max(1, 16384 / (g.Height * g.Width)), ref job);
    }

    protected override void AvgPool2dBackwardCore(Tensor dy, Tensor dx, in Pool2dGeometry g, bool countIncludePad, bool accumulate)
    {
        const string op = nameof(AvgPool2dBackward);
        var job = new AvgPoolBackwardJob
        {
            Windows = AvgWindows.Of(g, countIncludePad), Accumulate = accumulate,
            Dy = HostBuffers.Floats(dy, op, out int dyo), DyOffset = dyo, Dx = HostBuffers.Floats(dx, op, out int dxo), DxOffset = dxo,
        };
        ParallelRange(g.Batch * g.Channels, Math.Max(1, 16384 / (g.Height * g.Width)), ref job);
    }

    protected override void AdaptiveAvgPool2dCore(Tensor x, Tensor y, int batch, int channels, int height, int width, int outHeight, int outWidth)
    {
        const string op = nameof(AdaptiveAvgPool2d);
        var job = new AvgPoolJob
        {
            Windows = AvgWindows.Adaptive(height, width, outHeight, outWidth),
            X = HostBuffers.Floats(x, op, out int xo), XOffset = xo, Y = HostBuffers.Floats(y, op, out int yo), YOffset = yo,
        };
        ParallelRange(batch * channels, Math.Max(1, 16384 / (height * width)), ref job);
    }

    protected override void AdaptiveAvgPool2dBackwardCore(Tensor dy, Tensor dx, int batch, int channels, int height, int width, int outHeight, int outWidth, bool accumulate)
    {
        const string op = nameof(AdaptiveAvgPool2dBackward);
        var job = new AvgPoolBackwardJob
        {
            Windows = AvgWindows.Adaptive(height, width, outHeight, outWidth), Accumulate = accumulate,
            Dy = HostBuffers.Floats(dy, op, out int dyo), DyOffset = dyo, Dx = HostBuffers.Floats(dx, op, out int dxo), DxOffset = dxo,
        };
        ParallelRange(batch * channels, Math.Max(1, 16384 / (height * width)), ref job);
    }

    /// <summary>
    /// The windows of an average pool over one plane: for output row <c>oh</c> the input rows [h0, h1) and the rows the
    /// divisor counts, the same along the width. Strided windows (<see cref="Pool2dGeometry"/>, padding counted in the
    /// divisor or not) or adaptive ones (PyTorch's floor/ceil bounds, <see cref="PoolMath"/>).
    /// </summary>
    private readonly struct AvgWindows
    {
        public int Height { get; init; }
        public int Width { get; init; }
        public int OutHeight { get; init; }
        public int OutWidth { get; init; }
        private bool IsAdaptive { get; init; }
        private Pool2dGeometry Strided { get; init; }
        private bool CountIncludePad { get; init; }

        public static AvgWindows Of(in Pool2dGeometry g, bool countIncludePad) => new()
        {
            Height = g.Height, Width = g.Width, OutHeight = g.OutHeight, OutWidth = g.OutWidth, Strided = g, CountIncludePad = countIncludePad,
        };

        public static AvgWindows Adaptive(int height, int width, int outHeight, int outWidth) => new()
        {
            Height = height, Width = width, OutHeight = outHeight, OutWidth = outWidth, IsAdaptive = true,
        };

        /// <summary>Input rows [Lo, Hi) of output row <paramref name="oh"/>, and how many rows its divisor counts.</summary>
        public (int Lo, int Hi, int Count) Rows(int oh) => Bounds(oh, Strided.StrideH, Strided.PadH, Strided.KernelH, Height, OutHeight);

        /// <summary>Input columns [Lo, Hi) of output column <paramref name="ow"/>, and how many columns its divisor counts.</summary>
        public (int Lo, int Hi, int Count) Columns(int ow) => Bounds(ow, Strided.StrideW, Strided.PadW, Strided.KernelW, Width, OutWidth);

        private (int Lo, int Hi, int Count) Bounds(int o, int stride, int pad, int kernel, int size, int outSize)
        {
            if (IsAdaptive)
            {
                int lo = PoolMath.AdaptiveStart(o, size, outSize), hi = PoolMath.AdaptiveEnd(o, size, outSize);
                return (lo, hi, hi - lo);
            }
            var (l, h, all) = Window(o, stride, pad, kernel, size);
            return (l, h, CountIncludePad ? all : h - l);
        }
    }

    /// <summary>Item = a plane: each output cell the mean of its window. A struct, so a call allocates nothing.</summary>
    private struct AvgPoolJob : IRangeJob
    {
        public AvgWindows Windows;
        public float[] X, Y;
        public int XOffset, YOffset;
        public bool TwoByTwo;

        public readonly void Run(int start, int end)
        {
            var w = Windows;
            int plane = w.Height * w.Width, outPlane = w.OutHeight * w.OutWidth;
            for (int pl = start; pl < end; pl++)
            {
                var xs = X.AsSpan(XOffset + pl * plane, plane);
                var ys = Y.AsSpan(YOffset + pl * outPlane, outPlane);
                if (TwoByTwo)
                {
                    AvgPool2x2(xs, w.Width, w.OutHeight, w.OutWidth, ys);
                    continue;
                }
                for (int oh = 0; oh < w.OutHeight; oh++)
                {
                    var (h0, h1, hCount) = w.Rows(oh);
                    for (int ow = 0; ow < w.OutWidth; ow++)
                    {
                        var (w0, w1, wCount) = w.Columns(ow);
                        float sum = 0f;
                        for (int ih = h0; ih < h1; ih++)
                        {
                            sum += WindowRowSum(xs.Slice(ih * w.Width + w0, w1 - w0));
                        }
                        ys[oh * w.OutWidth + ow] = sum / (hCount * wCount);
                    }
                }
            }
        }
    }

    /// <summary>Item = a plane: each output cell's gradient spread evenly over its window.</summary>
    private struct AvgPoolBackwardJob : IRangeJob
    {
        public AvgWindows Windows;
        public float[] Dy, Dx;
        public int DyOffset, DxOffset;
        public bool Accumulate;

        public readonly void Run(int start, int end)
        {
            var w = Windows;
            int plane = w.Height * w.Width, outPlane = w.OutHeight * w.OutWidth;
            for (int pl = start; pl < end; pl++)
            {
                var dxs = Dx.AsSpan(DxOffset + pl * plane, plane);
                var dys = Dy.AsSpan(DyOffset + pl * outPlane, outPlane);
                if (!Accumulate)
                {
                    dxs.Clear();
                }
                for (int oh = 0; oh < w.OutHeight; oh++)
                {
                    var (h0, h1, hCount) = w.Rows(oh);
                    for (int ow = 0; ow < w.OutWidth; ow++)
                    {
                        var (w0, w1, wCount) = w.Columns(ow);
                        float v = dys[oh * w.OutWidth + ow] / (hCount * wCount);
                        for (int ih = h0; ih < h1; ih++)
                        {
                            WindowRowAdd(dxs.Slice(ih * w.Width + w0, w1 - w0), v);
                        }
                    }
                }
            }
        }
    }

    /// <summary>Input rows [lo, hi) of window <paramref name="o"/> after clipping to the image, and its size counting padding (<see cref="PoolMath"/>).</summary>
    private static (int Lo, int Hi, int Padded) Window(int o, int stride, int pad, int kernel, int size)
        => (PoolMath.WindowStart(o, stride, pad), PoolMath.WindowEnd(o, stride, pad, kernel, size), PoolMath.PaddedWindowSize(o, stride, pad, kernel, size));

    // PyTorch's CPU max pool: the first maximum in row-major window order wins; a NaN always takes over.
    private static void MaxPoolPlane(ReadOnlySpan<float> xs, in Pool2dGeometry g, int first, Span<float> ys, Span<int> idx, bool record, bool relu)
    {
        for (int oh = 0; oh < g.OutHeight; oh++)
        {
            var (h0, h1, _) = Window(oh, g.StrideH, g.PadH, g.KernelH, g.Height);
            for (int ow = 0; ow < g.OutWidth; ow++)
            {
                var (w0, w1, _) = Window(ow, g.StrideW, g.PadW, g.KernelW, g.Width);
                float best = float.NegativeInfinity;
                int at = h0 * g.Width + w0;
                for (int ih = h0; ih < h1; ih++)
                {
                    for (int iw = w0; iw < w1; iw++)
                    {
                        float v = xs[ih * g.Width + iw];
                        if (PoolMath.MaxReplaces(v, best))
                        {
                            best = v;
                            at = ih * g.Width + iw;
                        }
                    }
                }
                ys[oh * g.OutWidth + ow] = relu ? MathF.Max(best, 0f) : best;
                if (record)
                {
                    idx[oh * g.OutWidth + ow] = first + at;
                }
            }
        }
    }

    // The common 2x2 stride-2 unpadded case, unrolled; same tie and NaN rules as MaxPoolPlane.
    private static void MaxPool2x2(ReadOnlySpan<float> xs, int width, int outHeight, int outWidth, int first, Span<float> ys, Span<int> idx, bool record, bool relu)
    {
        if (Avx512F.IsSupported)
        {
            MaxPool2x2Vector(xs, width, outHeight, outWidth, first, ys, idx, record, relu);
            return;
        }
        for (int oh = 0; oh < outHeight; oh++)
        {
            int r0 = 2 * oh * width;
            var top = xs.Slice(r0, 2 * outWidth);
            var bottom = xs.Slice(r0 + width, 2 * outWidth);
            var yRow = ys.Slice(oh * outWidth, outWidth);
            var iRow = idx.Slice(oh * outWidth, outWidth);
            int ow = 0;
            if (Avx2.IsSupported)
            {
                ow = MaxPool2x2Avx2(top, bottom, r0 + first, width, yRow, iRow, record, relu);
            }
            for (; ow < yRow.Length; ow++)
            {
                int c = 2 * ow;
                float best = top[c];
                int at = r0 + c;
                float v = top[c + 1];
                if (PoolMath.MaxReplaces(v, best))
                {
                    best = v;
                    at = r0 + c + 1;
                }
                v = bottom[c];
                if (PoolMath.MaxReplaces(v, best))
                {
                    best = v;
                    at = r0 + width + c;
                }
                v = bottom[c + 1];
                if (PoolMath.MaxReplaces(v, best))
                {
                    best = v;
                    at = r0 + width + c + 1;
                }
                yRow[ow] = relu ? MathF.Max(best, 0f) : best;
                if (record)
                {
                    iRow[ow] = first + at;
                }
            }
        }
    }

    /// <summary>
    /// A 2x2 stride-2 average (DenseNet's transitions) without the general path's window bounds per output, which cost
    /// more than the four additions: ((0 + a) + b) per window row, the two rows added, divided by 4, the general path's
    /// operations in its order, so the results are the same bit for bit. Eight, then four outputs at a time.
    /// </summary>
    private static unsafe void AvgPool2x2(ReadOnlySpan<float> xs, int width, int outHeight, int outWidth, Span<float> ys)
    {
        fixed (float* px = xs, py = ys)
        {
            for (int oh = 0; oh < outHeight; oh++)
            {
                float* top = px + 2 * oh * width, bottom = top + width, y = py + oh * outWidth;
                int ow = 0;
                if (Avx2.IsSupported)
                {
                    for (; ow <= outWidth - 8; ow += 8)
                    {
                        var (te, to) = EvensOdds(top + 2 * ow);
                        var (be, bo) = EvensOdds(bottom + 2 * ow);
                        (((Vector256<float>.Zero + te + to) + (Vector256<float>.Zero + be + bo)) / Vector256.Create(4f)).Store(y + ow);
                    }
                    var split4 = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
                    for (; ow <= outWidth - 4; ow += 4)
                    {
                        var t = Avx2.PermuteVar8x32(Vector256.Load(top + 2 * ow), split4);
                        var b = Avx2.PermuteVar8x32(Vector256.Load(bottom + 2 * ow), split4);
                        var sum = (Vector128<float>.Zero + t.GetLower() + t.GetUpper()) + (Vector128<float>.Zero + b.GetLower() + b.GetUpper());
                        (sum / Vector128.Create(4f)).Store(y + ow);
                    }
                }
                for (; ow < outWidth; ow++)
                {
                    float t = 0f + top[2 * ow] + top[2 * ow + 1], b = 0f + bottom[2 * ow] + bottom[2 * ow + 1];
                    y[ow] = (t + b) / 4f;
                }
            }
        }
    }

    /// <summary>
    /// <see cref="MaxPool2x2Vector"/> with 256-bit vectors (AVX2 hosts), eight then four outputs at a time, with or without the
    /// argmax and the fused ReLU. Returns how many outputs it wrote.
    /// </summary>
    private static unsafe int MaxPool2x2Avx2(ReadOnlySpan<float> top, ReadOnlySpan<float> bottom, int rowStart, int width, Span<float> y, Span<int> idx, bool record, bool relu)
    {
        int ow = 0;
        fixed (float* pt = top, pb = bottom, py = y)
        fixed (int* pi = idx)
        {
            var lane2 = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
            for (; ow <= y.Length - 8; ow += 8)
            {
                var (te, to) = EvensOdds(pt + 2 * ow);
                var (be, bo) = EvensOdds(pb + 2 * ow);
                var best = te;
                if (record)
                {
                    var at = lane2 + Vector256.Create(rowStart + 2 * ow);
                    Take(to, ref best, ref at, at + Vector256<int>.One);
                    Take(be, ref best, ref at, lane2 + Vector256.Create(rowStart + width + 2 * ow));
                    Take(bo, ref best, ref at, lane2 + Vector256.Create(rowStart + width + 2 * ow + 1));
                    at.Store(pi + ow);
                }
                else
                {
                    best = VectorMax.Take(to, best);
                    best = VectorMax.Take(be, best);
                    best = VectorMax.Take(bo, best);
                }
                (relu ? Relu(best) : best).Store(py + ow);
            }
            var split4 = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
            var lane4 = Vector128.Create(0, 2, 4, 6);
            for (; ow <= y.Length - 4; ow += 4)
            {
                var t = Avx2.PermuteVar8x32(Vector256.Load(pt + 2 * ow), split4);
                var b = Avx2.PermuteVar8x32(Vector256.Load(pb + 2 * ow), split4);
                var best = t.GetLower();
                if (record)
                {
                    var at = lane4 + Vector128.Create(rowStart + 2 * ow);
                    Take(t.GetUpper(), ref best, ref at, at + Vector128<int>.One);
                    Take(b.GetLower(), ref best, ref at, lane4 + Vector128.Create(rowStart + width + 2 * ow));
                    Take(b.GetUpper(), ref best, ref at, lane4 + Vector128.Create(rowStart + width + 2 * ow + 1));
                    at.Store(pi + ow);
                }
                else
                {
                    best = VectorMax.Take(t.GetUpper(), best);
                    best = VectorMax.Take(b.GetLower(), best);
                    best = VectorMax.Take(b.GetUpper(), best);
                }
                (relu ? Relu(best) : best).Store(py + ow);
            }
        }
        return ow;
    }

    /// <summary>The eight even and the eight odd floats of the sixteen at <paramref name="p"/>, each in order.</summary>
    private static unsafe (Vector256<float> Evens, Vector256<float> Odds) EvensOdds(float* p)
    {
        var a = Vector256.Load(p);
        var b = Vector256.Load(p + 8);
        // Shuffle picks within 128-bit lanes (a0 a2 b0 b2 | a4 a6 b4 b6); the 64-bit permute puts the pairs in order.
        var evens = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
        var odds = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle();
        return (evens, odds);
    }


    /// <summary>
    /// The sum of one row of a pooling window. A window row is short (2 or 3 floats for the usual kernels; 2x2 stride-2
    /// windows take <see cref="AvgPool2x2"/>): a call into TensorPrimitives per two elements cost more than the additions,
    /// so rows shorter than a vector add in a plain loop.
    /// </summary>
    private static float WindowRowSum(ReadOnlySpan<float> row)
    {
        if (row.Length >= 16)
        {
            return TensorPrimitives.Sum(row);
        }
        float sum = 0f;
        foreach (float v in row)
        {
            sum += v;
        }
        return sum;
    }

    /// <summary>row += v, in a plain loop for rows shorter than a vector (see <see cref="WindowRowSum"/>).</summary>
    private static void WindowRowAdd(Span<float> row, float v)
    {
        if (row.Length >= 16)
        {
            TensorPrimitives.Add(row, v, row);
            return;
        }
        for (int i = 0; i < row.Length; i++)
        {
            row[i] += v;
        }
    }

    /// <summary>max(0, v) with TensorPrimitives.Max's rules: NaN stays, -0 becomes +0.</summary>
    private static Vector256<float> Relu(Vector256<float> v)
        => Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero) | ~Vector256.Equals(v, v), v, Vector256<float>.Zero);

    private static Vector128<float> Relu(Vector128<float> v)
        => Vector128.ConditionalSelect(Vector128.GreaterThan(v, Vector128<float>.Zero) | ~Vector128.Equals(v, v), v, Vector128<float>.Zero);

    /// <summary>
    /// A whole plane's 2x2 windows (with the argmax when <paramref name="record"/>, the fused ReLU when
    /// <paramref name="relu"/>), row by row: eight outputs at a time, the last 1 to 7 of a row as one masked step. Evens
    /// and odds of the two input rows are split with a permute and compared in window order with the scalar path's rule
    /// (a later value wins when greater, or when NaN). TwoConv's pools (rows of 14 and 7 outputs) took a 4-wide step and
    /// a scalar tail per row, and a call per row: 0.70-0.91 ms a call against 0.15-0.24 ms this way (batch 64, two threads).
    /// </summary>
    private static unsafe void MaxPool2x2Vector(ReadOnlySpan<float> xs, int width, int outHeight, int outWidth, int first, Span<float> ys, Span<int> idx,
        bool record, bool relu)
    {
        if (xs.Length < (2 * outHeight - 1) * width + 2 * outWidth || ys.Length < outHeight * outWidth || record && idx.Length < ys.Length)
        {
            throw new ArgumentException("MaxPool2d: a plane shorter than its 2x2 windows.");
        }
        var split = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
        var lane2 = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
        int rest = outWidth % 8;
        // The last outputs of a row: the row's floats past its end are not read, the lanes past its outputs not stored.
        var inRow = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(2 * rest)).AsSingle();
        var outputs = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(rest));
        fixed (float* px = xs, pys = ys)
        fixed (int* pis = idx)
        {
            for (int oh = 0; oh < outHeight; oh++)
            {
                int rowStart = 2 * oh * width;
                float* pt = px + rowStart, pb = pt + width, py = pys + oh * outWidth;
                int* pi = pis + oh * outWidth;
                int r0 = first + rowStart, ow = 0;
                for (; ow <= outWidth - 8; ow += 8)
                {
                    var t = Avx512F.PermuteVar16x32(Vector512.Load(pt + 2 * ow), split);
                    var b = Avx512F.PermuteVar16x32(Vector512.Load(pb + 2 * ow), split);
                    var (best, at) = Window(t, b, lane2, r0 + 2 * ow, width);
                    (relu ? Relu(best) : best).Store(py + ow);
                    if (record)
                    {
                        at.Store(pi + ow);
                    }
                }
                if (rest != 0)
                {
                    var t = Avx512F.PermuteVar16x32(Avx512F.MaskLoad(pt + 2 * ow, inRow, Vector512<float>.Zero), split);
                    var b = Avx512F.PermuteVar16x32(Avx512F.MaskLoad(pb + 2 * ow, inRow, Vector512<float>.Zero), split);
                    var (best, at) = Window(t, b, lane2, r0 + 2 * ow, width);
                    Avx.MaskStore(py + ow, outputs.AsSingle(), relu ? Relu(best) : best);
                    if (record)
                    {
                        Avx2.MaskStore(pi + ow, outputs, at);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The max and its index of 8 windows from their rows split into evens and odds (top t, bottom b; the first window's
    /// top-left float at index start), in window order: top-left, top-right, bottom-left, bottom-right.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Best, Vector256<int> At) Window(Vector512<float> t, Vector512<float> b, Vector256<int> lane2, int start, int width)
    {
        var at = lane2 + Vector256.Create(start);
        var best = t.GetLower();
        Take(t.GetUpper(), ref best, ref at, at + Vector256<int>.One);
        Take(b.GetLower(), ref best, ref at, lane2 + Vector256.Create(start + width));
        Take(b.GetUpper(), ref best, ref at, lane2 + Vector256.Create(start + width + 1));
        return (best, at);
    }

    private static void Take(Vector256<float> v, ref Vector256<float> best, ref Vector256<int> at, Vector256<int> where)
    {
        var m = Vector256.GreaterThan(v, best) | ~Vector256.Equals(v, v);
        best = Vector256.ConditionalSelect(m, v, best);
        at = Vector256.ConditionalSelect(m.AsInt32(), where, at);
    }

    private static void Take(Vector128<float> v, ref Vector128<float> best, ref Vector128<int> at, Vector128<int> where)
    {
        var m = Vector128.GreaterThan(v, best) | ~Vector128.Equals(v, v);
        best = Vector128.ConditionalSelect(m, v, best);
        at = Vector128.ConditionalSelect(m.AsInt32(), where, at);
    }
}
