using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dsl.Devices.Cpu;

/// <summary>
/// The per-segment loops of batch normalisation (<see cref="CpuDevice"/>'s <c>Normalize</c> and <c>NormalizeBackward</c>):
/// each reads a segment of one sample and channel once from memory and does everything that segment needs in that pass.
/// With <c>wide</c> the main loop is 512-bit, then 256-bit and scalar for the tail (the forward's), or one masked 512-bit
/// step (the backward's); without it, 256-bit then scalar (the fallback for machines without AVX-512, tested by forcing the
/// GEMM kernel width, which the caller reads).
/// </summary>
internal static unsafe class NormalizationRows
{
    /// <summary>The sum of <paramref name="x"/>[0..n) and the sum of squared deviations from its own mean (its M2).</summary>
    /// <remarks>The second loop re-reads the segment from L1; Chan's formula then combines segments in double.</remarks>
    public static (float Sum, float M2) Moments(float* x, int n, bool wide)
    {
        float sum = Sum(x, n, wide);
        float mean = sum / n;
        int i = 0;
        float m2 = 0f;
        if (wide)
        {
            var m = Vector512.Create(mean);
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                var d = Vector512.Load(x + i) - m;
                acc = Vector512.FusedMultiplyAdd(d, d, acc);
            }
            m2 = Vector512.Sum(acc);
        }
        {
            var m = Vector256.Create(mean);
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                var d = Vector256.Load(x + i) - m;
                acc = Vector256.FusedMultiplyAdd(d, d, acc);
            }
            m2 += Vector256.Sum(acc);
        }
        for (; i < n; i++)
        {
            float d = x[i] - mean;
            m2 += d * d;
        }
        return (sum, m2);
    }

    /// <summary>The sum of <paramref name="x"/>[0..n).</summary>
    public static float Sum(float* x, int n, bool wide)
    {
        int i = 0;
        float sum = 0f;
        if (wide)
        {
            var a0 = Vector512<float>.Zero;
            var a1 = Vector512<float>.Zero;
            for (; i + 32 <= n; i += 32)
            {
                a0 += Vector512.Load(x + i);
                a1 += Vector512.Load(x + i + 16);
            }
            for (; i + 16 <= n; i += 16)
            {
                a0 += Vector512.Load(x + i);
            }
            sum = Vector512.Sum(a0 + a1);
        }
        {
            var a = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                a += Vector256.Load(x + i);
            }
            sum += Vector256.Sum(a);
        }
        for (; i < n; i++)
        {
            sum += x[i];
        }
        return sum;
    }

    /// <summary>
    /// y = x * scale + shift, plus <paramref name="residual"/> when it is not null, then max(0, .) with
    /// <paramref name="relu"/>, in one pass: the operations of the batch norm, <c>Add</c> and ReLU unfused, in that order.
    /// </summary>
    public static void ScaleShift(float* x, float* residual, float* y, int n, float scale, float shift, bool relu, bool wide)
    {
        switch ((relu, residual != null))
        {
            case (true, true):
                ScaleShift<Relu, Added>(x, residual, y, n, scale, shift, wide);
                break;
            case (true, false):
                ScaleShift<Relu, NotAdded>(x, residual, y, n, scale, shift, wide);
                break;
            case (false, true):
                ScaleShift<Identity, Added>(x, residual, y, n, scale, shift, wide);
                break;
            case (false, false):
                ScaleShift<Identity, NotAdded>(x, residual, y, n, scale, shift, wide);
                break;
        }
    }

    private static void ScaleShift<TAct, TAdd>(float* x, float* r, float* y, int n, float scale, float shift, bool wide)
        where TAct : struct, IActivation where TAdd : struct, IResidual
    {
        int i = 0;
        if (wide)
        {
            var s = Vector512.Create(scale);
            var b = Vector512.Create(shift);
            for (; i + 16 <= n; i += 16)
            {
                TAct.Apply(TAdd.Add(Vector512.FusedMultiplyAdd(Vector512.Load(x + i), s, b), r + i)).Store(y + i);
            }
        }
        {
            var s = Vector256.Create(scale);
            var b = Vector256.Create(shift);
            for (; i + 8 <= n; i += 8)
            {
                TAct.Apply(TAdd.Add(Vector256.FusedMultiplyAdd(Vector256.Load(x + i), s, b), r + i)).Store(y + i);
            }
        }
        for (; i < n; i++)
        {
            y[i] = TAct.Apply(TAdd.Add(MathF.FusedMultiplyAdd(x[i], scale, shift), r + i));
        }
    }

    /// <summary>
    /// Floats of one segment's partial sums (<see cref="SegmentPartialSums"/>): two 512-bit vectors, or two floats.
    /// </summary>
    public static int PartialSumsLength(bool wide) => wide ? 32 : 2;

    /// <summary>
    /// The partial sums of g and g * (x - mean) over one segment of <paramref name="n"/> floats, where g is dy, or dy where
    /// the fused output <paramref name="mask"/> is positive (0 elsewhere) when it is not null, into
    /// <paramref name="partials"/> (<see cref="PartialSumsLength"/> floats; <see cref="CombinePartialSums"/> adds a
    /// channel's up).
    /// </summary>
    /// <remarks>
    /// 512-bit: the segment's lanes (the tail by a masked load) summed in two float vectors, which the combination widens
    /// into double lanes that run over the whole channel and reduces across lanes once at its end. ResNet-20's segments
    /// are short (49 and 196 floats at 7x7 and 14x14), and a float sum across lanes per segment and a scalar tail cost more
    /// than the loads. When a channel's segments still ran in one loop, this against per-segment float sums (the whole
    /// backward, batch 64, one thread, old and new builds loaded side by side in one process and alternated, median of 400
    /// pairs, two rounds): ResNet-20's 64-channel 7x7 shape 0.53-0.57x the time (0.84x with the fused ReLU's mask),
    /// 32-channel 14x14 0.86x (0.94-1.05x with it), 16-channel 28x28 0.91-0.93x (0.94-0.98x). The 256-bit fallback sums
    /// each segment in float and the combination adds the segments in double.
    /// </remarks>
    public static void SegmentPartialSums(float* dy, float* mask, float* x, float mean, int n, bool wide, float* partials)
    {
        if (mask == null)
        {
            SegmentPartialSums<Unmasked>(dy, mask, x, mean, n, wide, partials);
        }
        else
        {
            SegmentPartialSums<Masked>(dy, mask, x, mean, n, wide, partials);
        }
    }

    private static void SegmentPartialSums<TMask>(float* d, float* y, float* xs, float mean, int n, bool wide, float* partials)
        where TMask : struct, IMask
    {
        if (wide)
        {
            var m = Vector512.Create(mean);
            int whole = n & ~15;
            var accDy = Vector512<float>.Zero;
            var accCentered = Vector512<float>.Zero;
            for (int i = 0; i < whole; i += 16)
            {
                var g = TMask.Apply(Vector512.Load(d + i), y + i);
                accDy += g;
                accCentered = Vector512.FusedMultiplyAdd(g, Vector512.Load(xs + i) - m, accCentered);
            }
            if (whole < n)
            {
                // Lanes past the segment load 0 for dy, so they add nothing.
                var tail = TailLanes(n - whole);
                var g = TMask.Apply(Avx512F.MaskLoad(d + whole, tail, Vector512<float>.Zero), y + whole, tail);
                accDy += g;
                accCentered = Vector512.FusedMultiplyAdd(g, Avx512F.MaskLoad(xs + whole, tail, Vector512<float>.Zero) - m, accCentered);
            }
            accDy.Store(partials);
            accCentered.Store(partials + 16);
            return;
        }
        var m8 = Vector256.Create(mean);
        var acc8Dy = Vector256<float>.Zero;
        var acc8Centered = Vector256<float>.Zero;
        int j = 0;
        for (; j + 8 <= n; j += 8)
        {
            var g = TMask.Apply(Vector256.Load(d + j), y + j);
            acc8Dy += g;
            acc8Centered = Vector256.FusedMultiplyAdd(g, Vector256.Load(xs + j) - m8, acc8Centered);
        }
        float segmentSum = Vector256.Sum(acc8Dy), segmentCentered = Vector256.Sum(acc8Centered);
        for (; j < n; j++)
        {
            float g = TMask.Apply(d[j], y + j);
            segmentSum += g;
            segmentCentered += g * (xs[j] - mean);
        }
        partials[0] = segmentSum;
        partials[1] = segmentCentered;
    }

    /// <summary>
    /// A channel's sum(g) and sum(g * (x - mean)) from the partial sums of its <paramref name="segments"/> segments
    /// (<see cref="SegmentPartialSums"/>, <paramref name="stride"/> floats apart), added in segment order in double: the
    /// same sums whatever the threads that made the partial sums.
    /// </summary>
    public static (double Dy, double Centered) CombinePartialSums(float* partials, int segments, nint stride, bool wide)
    {
        if (wide)
        {
            var sumLo = Vector512<double>.Zero;
            var sumHi = Vector512<double>.Zero;
            var centeredLo = Vector512<double>.Zero;
            var centeredHi = Vector512<double>.Zero;
            for (int s = 0; s < segments; s++)
            {
                float* p = partials + s * stride;
                var accDy = Vector512.Load(p);
                var accCentered = Vector512.Load(p + 16);
                sumLo += Vector512.WidenLower(accDy);
                sumHi += Vector512.WidenUpper(accDy);
                centeredLo += Vector512.WidenLower(accCentered);
                centeredHi += Vector512.WidenUpper(accCentered);
            }
            return (Vector512.Sum(sumLo + sumHi), Vector512.Sum(centeredLo + centeredHi));
        }
        double sum = 0, centered = 0;
        for (int s = 0; s < segments; s++)
        {
            sum += partials[s * stride];
            centered += partials[s * stride + 1];
        }
        return (sum, centered);
    }

    /// <summary>The first <paramref name="count"/> of 16 lanes (0 to 15), as a mask for masked loads and stores.</summary>
    private static Vector512<float> TailLanes(int count) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    /// <summary>
    /// d = a * g + b * x + k (d += that when <paramref name="accumulate"/>) over one segment of <paramref name="n"/> floats,
    /// g being dy masked as in <see cref="SegmentPartialSums"/>: batch norm's dx with the batch statistics folded into a,
    /// b and k. 512-bit, the tail is one masked step; every float gets the same two fused multiply-adds either way.
    /// </summary>
    public static void InputGradient(float* dy, float* mask, float* x, float* d, int n, float a, float b, float k, bool accumulate, bool wide)
    {
        switch ((mask != null, accumulate))
        {
            case (false, false): InputGradient<Unmasked, Overwrite>(dy, mask, x, d, n, a, b, k, wide); break;
            case (false, true): InputGradient<Unmasked, Accumulate>(dy, mask, x, d, n, a, b, k, wide); break;
            case (true, false): InputGradient<Masked, Overwrite>(dy, mask, x, d, n, a, b, k, wide); break;
            case (true, true): InputGradient<Masked, Accumulate>(dy, mask, x, d, n, a, b, k, wide); break;
        }
    }

    private static void InputGradient<TMask, TStore>(float* g0, float* y, float* xs, float* ds, int n, float a, float b, float k, bool wide)
        where TMask : struct, IMask where TStore : struct, IStore
    {
        if (wide)
        {
            var av = Vector512.Create(a);
            var bv = Vector512.Create(b);
            var kv = Vector512.Create(k);
            int whole = n & ~15;
            for (int i = 0; i < whole; i += 16)
            {
                var g = TMask.Apply(Vector512.Load(g0 + i), y + i);
                TStore.Store(Vector512.FusedMultiplyAdd(g, av, Vector512.FusedMultiplyAdd(Vector512.Load(xs + i), bv, kv)), ds + i);
            }
            if (whole < n)
            {
                var tail = TailLanes(n - whole);
                var g = TMask.Apply(Avx512F.MaskLoad(g0 + whole, tail, Vector512<float>.Zero), y + whole, tail);
                var v = Vector512.FusedMultiplyAdd(g, av, Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(xs + whole, tail, Vector512<float>.Zero), bv, kv));
                TStore.Store(v, ds + whole, tail);
            }
            return;
        }
        var a8 = Vector256.Create(a);
        var b8 = Vector256.Create(b);
        var k8 = Vector256.Create(k);
        int j = 0;
        for (; j + 8 <= n; j += 8)
        {
            var g = TMask.Apply(Vector256.Load(g0 + j), y + j);
            TStore.Store(Vector256.FusedMultiplyAdd(g, a8, Vector256.FusedMultiplyAdd(Vector256.Load(xs + j), b8, k8)), ds + j);
        }
        for (; j < n; j++)
        {
            TStore.Store(MathF.FusedMultiplyAdd(TMask.Apply(g0[j], y + j), a, MathF.FusedMultiplyAdd(xs[j], b, k)), ds + j);
        }
    }

    /// <summary>The residual added to the normalised value (a sum closing a residual block), or nothing.</summary>
    private interface IResidual
    {
        static abstract Vector512<float> Add(Vector512<float> v, float* r);

        static abstract Vector256<float> Add(Vector256<float> v, float* r);

        static abstract float Add(float v, float* r);
    }

    private struct NotAdded : IResidual
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Add(Vector512<float> v, float* r) => v;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Add(Vector256<float> v, float* r) => v;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Add(float v, float* r) => v;
    }

    private struct Added : IResidual
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Add(Vector512<float> v, float* r) => v + Vector512.Load(r);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Add(Vector256<float> v, float* r) => v + Vector256.Load(r);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Add(float v, float* r) => v + *r;
    }

    private interface IActivation
    {
        static abstract Vector512<float> Apply(Vector512<float> v);

        static abstract Vector256<float> Apply(Vector256<float> v);

        static abstract float Apply(float v);
    }

    private struct Identity : IActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> v) => v;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Apply(Vector256<float> v) => v;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Apply(float v) => v;
    }

    private struct Relu : IActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> v) => Vector512.Max(v, Vector512<float>.Zero);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Apply(Vector256<float> v) => Vector256.Max(v, Vector256<float>.Zero);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Apply(float v) => MathF.Max(v, 0f);
    }

    /// <summary>dy as it is, or where the fused ReLU's output is positive.</summary>
    private interface IMask
    {
        static abstract Vector512<float> Apply(Vector512<float> dy, float* y);

        /// <summary>As above, reading y only in <paramref name="lanes"/> (a segment's tail).</summary>
        static abstract Vector512<float> Apply(Vector512<float> dy, float* y, Vector512<float> lanes);

        static abstract Vector256<float> Apply(Vector256<float> dy, float* y);

        static abstract float Apply(float dy, float* y);
    }

    private struct Unmasked : IMask
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> dy, float* y) => dy;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> dy, float* y, Vector512<float> lanes) => dy;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Apply(Vector256<float> dy, float* y) => dy;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Apply(float dy, float* y) => dy;
    }

    private struct Masked : IMask
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> dy, float* y)
            => Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Load(y), Vector512<float>.Zero), dy, Vector512<float>.Zero);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> dy, float* y, Vector512<float> lanes)
            => Vector512.ConditionalSelect(Vector512.GreaterThan(Avx512F.MaskLoad(y, lanes, Vector512<float>.Zero), Vector512<float>.Zero), dy, Vector512<float>.Zero);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Apply(Vector256<float> dy, float* y)
            => Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(y), Vector256<float>.Zero), dy, Vector256<float>.Zero);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Apply(float dy, float* y) => *y > 0f ? dy : 0f;
    }

    private interface IStore
    {
        static abstract void Store(Vector512<float> v, float* d);

        /// <summary>As above, in <paramref name="lanes"/> only (a segment's tail).</summary>
        static abstract void Store(Vector512<float> v, float* d, Vector512<float> lanes);

        static abstract void Store(Vector256<float> v, float* d);

        static abstract void Store(float v, float* d);
    }

    private struct Overwrite : IStore
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector512<float> v, float* d) => v.Store(d);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector512<float> v, float* d, Vector512<float> lanes) => Avx512F.MaskStore(d, lanes, v);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector256<float> v, float* d) => v.Store(d);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(float v, float* d) => *d = v;
    }

    private struct Accumulate : IStore
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector512<float> v, float* d) => (Vector512.Load(d) + v).Store(d);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector512<float> v, float* d, Vector512<float> lanes)
            => Avx512F.MaskStore(d, lanes, Avx512F.MaskLoad(d, lanes, Vector512<float>.Zero) + v);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector256<float> v, float* d) => (Vector256.Load(d) + v).Store(d);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(float v, float* d) => *d += v;
    }
}
