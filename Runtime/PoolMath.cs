namespace Dsl;

/// <summary>
/// Pooling windows with PyTorch's arithmetic, written once for both devices (plain static methods on ints, callable from
/// ILGPU kernels): a window <c>o</c> of size k and stride s starts at o*s - pad in the unpadded input; an adaptive cell
/// <c>o</c> of <c>outSize</c> over <c>size</c> covers floor(o*size/outSize) .. ceil((o+1)*size/outSize) - 1.
/// </summary>
public static class PoolMath
{
    /// <summary>
    /// The number of windows along one dimension: floor((size + 2*pad - kernel) / stride) + 1, or with
    /// <paramref name="ceilMode"/> the ceiling, less one when the last window would start at or past size + pad (PyTorch's
    /// rule: the last window must start inside the input or its leading padding).
    /// </summary>
    public static int OutSize(int size, int pad, int kernel, int stride, bool ceilMode)
    {
        int span = size + 2 * pad - kernel;
        int output = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
        return ceilMode && (output - 1) * stride >= size + pad ? output - 1 : output;
    }

    /// <summary>First input row (inclusive) of window <paramref name="o"/>, clipped to the image.</summary>
    public static int WindowStart(int o, int stride, int pad) => Math.Max(o * stride - pad, 0);

    /// <summary>Last input row (exclusive) of window <paramref name="o"/>, clipped to the image.</summary>
    public static int WindowEnd(int o, int stride, int pad, int kernel, int size) => Math.Min(o * stride - pad + kernel, size);

    /// <summary>
    /// The size of window <paramref name="o"/> counting padding (count_include_pad's divisor factor): the window clipped to
    /// the padded input, as PyTorch's <c>avg_pool2d</c>.
    /// </summary>
    public static int PaddedWindowSize(int o, int stride, int pad, int kernel, int size)
    {
        int start = o * stride - pad;
        return Math.Min(start + kernel, size + pad) - start;
    }

    /// <summary>The first window (of size <paramref name="kernel"/>, stride <paramref name="stride"/>) whose padded span reaches padded position <paramref name="t"/>.</summary>
    public static int FirstWindowCovering(int t, int kernel, int stride)
    {
        int lo = t - kernel + 1;
        return lo <= 0 ? 0 : (lo + stride - 1) / stride;
    }

    /// <summary>The last window whose span starts at or before padded position <paramref name="t"/> (clip to the output count).</summary>
    public static int LastWindowCovering(int t, int stride, int outSize) => Math.Min(outSize - 1, t / stride);

    /// <summary>
    /// Whether a later value <paramref name="v"/> of a max-pooling window replaces the running maximum: when greater, or
    /// when NaN (PyTorch propagates NaN; the first of equal maxima wins).
    /// </summary>
    /// <remarks><c>v != v</c> is the NaN test: plain arithmetic every ILGPU backend compiles.</remarks>
#pragma warning disable CS1718 // Comparison made to same variable: deliberate, true only for NaN.
    public static bool MaxReplaces(float v, float best) => v > best || v != v;
#pragma warning restore CS1718

    /// <summary>First input row (inclusive) of adaptive cell <paramref name="o"/>: floor(o*size/outSize).</summary>
    public static int AdaptiveStart(int o, int size, int outSize) => o * size / outSize;

    /// <summary>Last input row (exclusive) of adaptive cell <paramref name="o"/>: ceil((o+1)*size/outSize).</summary>
    public static int AdaptiveEnd(int o, int size, int outSize) => ((o + 1) * size + outSize - 1) / outSize;
}
