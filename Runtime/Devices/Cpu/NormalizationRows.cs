using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dsl.Devices.Cpu;

/// <summary>
/// The per-segment loops of batch normalisation (<see cref="CpuDevice"/>'s <c>Normalize</c> and <c>NormalizeBackward</c>):
/// each reads a segment of one sample and channel once from memory and does everything that segment needs in that pass.
/// With <c>wide</c> the main loop is 512-bit, then 256-bit, then scalar for the tail; without it, 256-bit then scalar
/// (the fallback for machines without AVX-512, tested by forcing the GEMM kernel width, which the caller reads).
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

    /// <summary>y = x * scale + shift, and max(0, .) with <paramref name="relu"/>, in one pass.</summary>
    public static void ScaleShift(float* x, float* y, int n, float scale, float shift, bool relu, bool wide)
    {
        if (relu)
        {
            ScaleShift<Relu>(x, y, n, scale, shift, wide);
        }
        else
        {
            ScaleShift<Identity>(x, y, n, scale, shift, wide);
        }
    }

    private static void ScaleShift<TAct>(float* x, float* y, int n, float scale, float shift, bool wide) where TAct : struct, IActivation
    {
        int i = 0;
        if (wide)
        {
            var s = Vector512.Create(scale);
            var b = Vector512.Create(shift);
            for (; i + 16 <= n; i += 16)
            {
                TAct.Apply(Vector512.FusedMultiplyAdd(Vector512.Load(x + i), s, b)).Store(y + i);
            }
        }
        {
            var s = Vector256.Create(scale);
            var b = Vector256.Create(shift);
            for (; i + 8 <= n; i += 8)
            {
                TAct.Apply(Vector256.FusedMultiplyAdd(Vector256.Load(x + i), s, b)).Store(y + i);
            }
        }
        for (; i < n; i++)
        {
            y[i] = TAct.Apply(MathF.FusedMultiplyAdd(x[i], scale, shift));
        }
    }

    /// <summary>
    /// sum(g) and sum(g * (x - mean)) where g is dy, or dy where the fused output <paramref name="mask"/> is positive
    /// (0 elsewhere) when it is not null.
    /// </summary>
    public static (float Dy, float Centered) GradientSums(float* dy, float* mask, float* x, float mean, int n, bool wide)
        => mask == null ? GradientSums<Unmasked>(dy, mask, x, mean, n, wide) : GradientSums<Masked>(dy, mask, x, mean, n, wide);

    private static (float Dy, float Centered) GradientSums<TMask>(float* dy, float* mask, float* x, float mean, int n, bool wide)
        where TMask : struct, IMask
    {
        int i = 0;
        float sum = 0f, centered = 0f;
        if (wide)
        {
            var m = Vector512.Create(mean);
            var accDy = Vector512<float>.Zero;
            var accCentered = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                var g = TMask.Apply(Vector512.Load(dy + i), mask + i);
                accDy += g;
                accCentered = Vector512.FusedMultiplyAdd(g, Vector512.Load(x + i) - m, accCentered);
            }
            sum = Vector512.Sum(accDy);
            centered = Vector512.Sum(accCentered);
        }
        {
            var m = Vector256.Create(mean);
            var accDy = Vector256<float>.Zero;
            var accCentered = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                var g = TMask.Apply(Vector256.Load(dy + i), mask + i);
                accDy += g;
                accCentered = Vector256.FusedMultiplyAdd(g, Vector256.Load(x + i) - m, accCentered);
            }
            sum += Vector256.Sum(accDy);
            centered += Vector256.Sum(accCentered);
        }
        for (; i < n; i++)
        {
            float g = TMask.Apply(dy[i], mask + i);
            sum += g;
            centered += g * (x[i] - mean);
        }
        return (sum, centered);
    }

    /// <summary>
    /// d = a * g + b * x + k (d += that when <paramref name="accumulate"/>) in one pass, g being dy masked as in
    /// <see cref="GradientSums"/>: batch norm's dx with the batch statistics folded into a, b and k.
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

    private static void InputGradient<TMask, TStore>(float* dy, float* mask, float* x, float* d, int n, float a, float b, float k, bool wide)
        where TMask : struct, IMask where TStore : struct, IStore
    {
        int i = 0;
        if (wide)
        {
            var av = Vector512.Create(a);
            var bv = Vector512.Create(b);
            var kv = Vector512.Create(k);
            for (; i + 16 <= n; i += 16)
            {
                var g = TMask.Apply(Vector512.Load(dy + i), mask + i);
                TStore.Store(Vector512.FusedMultiplyAdd(g, av, Vector512.FusedMultiplyAdd(Vector512.Load(x + i), bv, kv)), d + i);
            }
        }
        {
            var av = Vector256.Create(a);
            var bv = Vector256.Create(b);
            var kv = Vector256.Create(k);
            for (; i + 8 <= n; i += 8)
            {
                var g = TMask.Apply(Vector256.Load(dy + i), mask + i);
                TStore.Store(Vector256.FusedMultiplyAdd(g, av, Vector256.FusedMultiplyAdd(Vector256.Load(x + i), bv, kv)), d + i);
            }
        }
        for (; i < n; i++)
        {
            TStore.Store(MathF.FusedMultiplyAdd(TMask.Apply(dy[i], mask + i), a, MathF.FusedMultiplyAdd(x[i], b, k)), d + i);
        }
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

        static abstract Vector256<float> Apply(Vector256<float> dy, float* y);

        static abstract float Apply(float dy, float* y);
    }

    private struct Unmasked : IMask
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> dy, float* y) => dy;

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
        public static Vector256<float> Apply(Vector256<float> dy, float* y)
            => Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(y), Vector256<float>.Zero), dy, Vector256<float>.Zero);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Apply(float dy, float* y) => *y > 0f ? dy : 0f;
    }

    private interface IStore
    {
        static abstract void Store(Vector512<float> v, float* d);

        static abstract void Store(Vector256<float> v, float* d);

        static abstract void Store(float v, float* d);
    }

    private struct Overwrite : IStore
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector512<float> v, float* d) => v.Store(d);

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
        public static void Store(Vector256<float> v, float* d) => (Vector256.Load(d) + v).Store(d);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(float v, float* d) => *d += v;
    }
}
