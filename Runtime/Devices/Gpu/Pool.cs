using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Pooling. Forward kernels run one thread per output; backward kernels run one thread per input and gather from
/// the outputs whose windows cover it, so every element has a single writer and no atomics are needed.
/// </summary>
public sealed partial class GpuDevice
{
    public override void MaxPool2d(Tensor x, Tensor y, Tensor argmax, in Pool2dGeometry g)
    {
        const string op = nameof(MaxPool2d);
        var a = PoolArgs.From(g, op);
        RequireExact(x, g.InputLength, op, "x");
        RequireExact(y, g.OutputLength, op, "y");
        RequireExact(argmax, g.OutputLength, op, "argmax");
        var (xv, yv, iv) = (F(x, op), F(y, op), I(argmax, op));
        if (g.OutputLength == 0)
        {
            return;
        }
        Kernel(nameof(MaxPool2dKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolArgs>(MaxPool2dKernel))(
            Checked(g.OutputLength, op), xv, yv, iv, a);
    }

    public override void MaxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, in Pool2dGeometry g, bool accumulate)
    {
        const string op = nameof(MaxPool2dBackward);
        var a = PoolArgs.From(g, op);
        RequireExact(dy, g.OutputLength, op, "dy");
        RequireExact(argmax, g.OutputLength, op, "argmax");
        RequireExact(dx, g.InputLength, op, "dx");
        var (gv, iv, dv) = (F(dy, op), I(argmax, op), F(dx, op));
        if (g.InputLength == 0)
        {
            return;
        }
        Kernel(nameof(MaxPool2dBackwardKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, PoolArgs, int>(MaxPool2dBackwardKernel))(
            Checked(g.InputLength, op), gv, iv, dv, a, accumulate ? 1 : 0);
    }

    public override void AvgPool2d(Tensor x, Tensor y, in Pool2dGeometry g, bool countIncludePad)
    {
        const string op = nameof(AvgPool2d);
        var a = PoolArgs.From(g, op);
        RequireExact(x, g.InputLength, op, "x");
        RequireExact(y, g.OutputLength, op, "y");
        var (xv, yv) = (F(x, op), F(y, op));
        if (g.OutputLength == 0)
        {
            return;
        }
        Kernel(nameof(AvgPool2dKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolArgs, int>(AvgPool2dKernel))(
            Checked(g.OutputLength, op), xv, yv, a, countIncludePad ? 1 : 0);
    }

    public override void AvgPool2dBackward(Tensor dy, Tensor dx, in Pool2dGeometry g, bool countIncludePad, bool accumulate)
    {
        const string op = nameof(AvgPool2dBackward);
        var a = PoolArgs.From(g, op);
        RequireExact(dy, g.OutputLength, op, "dy");
        RequireExact(dx, g.InputLength, op, "dx");
        var (gv, dv) = (F(dy, op), F(dx, op));
        if (g.InputLength == 0)
        {
            return;
        }
        Kernel(nameof(AvgPool2dBackwardKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolArgs, int, int>(AvgPool2dBackwardKernel))(
            Checked(g.InputLength, op), gv, dv, a, countIncludePad ? 1 : 0, accumulate ? 1 : 0);
    }

    public override void AdaptiveAvgPool2d(Tensor x, Tensor y, int batch, int channels, int height, int width, int outHeight, int outWidth)
    {
        const string op = nameof(AdaptiveAvgPool2d);
        var a = AdaptiveArgs(batch, channels, height, width, outHeight, outWidth, op);
        RequireExact(x, (long)batch * channels * height * width, op, "x");
        RequireExact(y, (long)batch * channels * outHeight * outWidth, op, "y");
        var (xv, yv) = (F(x, op), F(y, op));
        if (y.Length == 0)
        {
            return;
        }
        Kernel(nameof(AdaptiveAvgPool2dKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolArgs>(AdaptiveAvgPool2dKernel))(
            Checked(y.Length, op), xv, yv, a);
    }

    public override void AdaptiveAvgPool2dBackward(Tensor dy, Tensor dx, int batch, int channels, int height, int width, int outHeight, int outWidth, bool accumulate)
    {
        const string op = nameof(AdaptiveAvgPool2dBackward);
        var a = AdaptiveArgs(batch, channels, height, width, outHeight, outWidth, op);
        RequireExact(dy, (long)batch * channels * outHeight * outWidth, op, "dy");
        RequireExact(dx, (long)batch * channels * height * width, op, "dx");
        var (gv, dv) = (F(dy, op), F(dx, op));
        if (dx.Length == 0)
        {
            return;
        }
        Kernel(nameof(AdaptiveAvgPool2dBackwardKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolArgs, int>(AdaptiveAvgPool2dBackwardKernel))(
            Checked(dx.Length, op), gv, dv, a, accumulate ? 1 : 0);
    }

    private static PoolArgs AdaptiveArgs(int batch, int channels, int height, int width, int outHeight, int outWidth, string op)
    {
        if (batch < 0 || channels < 0 || height < 1 || width < 1 || outHeight < 1 || outWidth < 1)
        {
            throw new ArgumentException($"{op}: invalid sizes [{batch},{channels},{height},{width}] -> [{outHeight},{outWidth}].");
        }
        return new PoolArgs(batch, channels, height, width, 0, 0, 0, 0, 0, 0, outHeight, outWidth);
    }

    /// <summary>Pooling geometry as the kernels read it (for adaptive pooling only the sizes are used).</summary>
    internal readonly record struct PoolArgs(int N, int C, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int OH, int OW)
    {
        public static PoolArgs From(in Pool2dGeometry g, string op)
        {
            if (g.Batch < 0 || g.Channels < 0 || g.Height < 1 || g.Width < 1 || g.KernelH < 1 || g.KernelW < 1 || g.StrideH < 1 || g.StrideW < 1
                || g.PadH < 0 || g.PadW < 0)
            {
                throw new ArgumentException($"{op}: invalid geometry {g}.");
            }
            // PyTorch's rule: padding at most half the kernel, so every window holds at least one real element.
            if (2 * g.PadH > g.KernelH || 2 * g.PadW > g.KernelW)
            {
                throw new ArgumentException($"{op}: padding ({g.PadH},{g.PadW}) must be at most half the kernel ({g.KernelH},{g.KernelW}).");
            }
            if (g.OutHeight < 1 || g.OutWidth < 1)
            {
                throw new ArgumentException($"{op}: the window does not fit the padded input: {g}.");
            }
            return new PoolArgs(g.Batch, g.Channels, g.Height, g.Width, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadH, g.PadW, g.OutHeight, g.OutWidth);
        }
    }

    // ------------------------------------------------------------------ kernels

    /// <summary>
    /// argmax holds the flat index into x (over the whole tensor, not the plane) of the first maximum in the window;
    /// padded positions are skipped, so padding never wins.
    /// </summary>
    internal static void MaxPool2dKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<int> argmax, PoolArgs a)
    {
        int plane = i / (a.OH * a.OW);
        int q = i - plane * a.OH * a.OW;
        int oh = q / a.OW;
        int ow = q - oh * a.OW;
        int h0 = oh * a.SH - a.PH;
        int w0 = ow * a.SW - a.PW;
        int baseIndex = plane * a.H * a.W;
        float best = float.NegativeInfinity;
        int bestIndex = -1;
        for (int kh = 0; kh < a.KH; kh++)
        {
            int h = h0 + kh;
            if (h < 0 || h >= a.H)
            {
                continue;
            }
            for (int kw = 0; kw < a.KW; kw++)
            {
                int w = w0 + kw;
                if (w < 0 || w >= a.W)
                {
                    continue;
                }
                int at = baseIndex + h * a.W + w;
                float v = x[at];
                if (bestIndex < 0 || v > best)
                {
                    best = v;
                    bestIndex = at;
                }
            }
        }
        y[i] = best;
        argmax[i] = bestIndex;
    }

    internal static void MaxPool2dBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<int> argmax, ArrayView<float> dx, PoolArgs a, int accumulate)
    {
        int plane = i / (a.H * a.W);
        int s = i - plane * a.H * a.W;
        int h = s / a.W;
        int w = s - h * a.W;
        int ohLo = FirstWindow(h + a.PH, a.KH, a.SH);
        int ohHi = Math.Min(a.OH - 1, (h + a.PH) / a.SH);
        int owLo = FirstWindow(w + a.PW, a.KW, a.SW);
        int owHi = Math.Min(a.OW - 1, (w + a.PW) / a.SW);
        float sum = 0f;
        for (int oh = ohLo; oh <= ohHi; oh++)
        {
            for (int ow = owLo; ow <= owHi; ow++)
            {
                int o = (plane * a.OH + oh) * a.OW + ow;
                if (argmax[o] == i)
                {
                    sum += dy[o];
                }
            }
        }
        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }

    /// <summary>The first window (of size k, stride s) whose padded span reaches padded position t.</summary>
    private static int FirstWindow(int t, int k, int s)
    {
        int lo = t - k + 1;
        return lo <= 0 ? 0 : (lo + s - 1) / s;
    }

    internal static void AvgPool2dKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, PoolArgs a, int countIncludePad)
    {
        int plane = i / (a.OH * a.OW);
        int q = i - plane * a.OH * a.OW;
        int oh = q / a.OW;
        int ow = q - oh * a.OW;
        int h0 = oh * a.SH - a.PH;
        int w0 = ow * a.SW - a.PW;
        int baseIndex = plane * a.H * a.W;
        float sum = 0f;
        int count = 0;
        for (int kh = 0; kh < a.KH; kh++)
        {
            int h = h0 + kh;
            if (h < 0 || h >= a.H)
            {
                continue;
            }
            for (int kw = 0; kw < a.KW; kw++)
            {
                int w = w0 + kw;
                if (w < 0 || w >= a.W)
                {
                    continue;
                }
                sum += x[baseIndex + h * a.W + w];
                count++;
            }
        }
        y[i] = sum / (countIncludePad != 0 ? a.KH * a.KW : count);
    }

    internal static void AvgPool2dBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx, PoolArgs a, int countIncludePad, int accumulate)
    {
        int plane = i / (a.H * a.W);
        int s = i - plane * a.H * a.W;
        int h = s / a.W;
        int w = s - h * a.W;
        int ohLo = FirstWindow(h + a.PH, a.KH, a.SH);
        int ohHi = Math.Min(a.OH - 1, (h + a.PH) / a.SH);
        int owLo = FirstWindow(w + a.PW, a.KW, a.SW);
        int owHi = Math.Min(a.OW - 1, (w + a.PW) / a.SW);
        float sum = 0f;
        for (int oh = ohLo; oh <= ohHi; oh++)
        {
            int h0 = oh * a.SH - a.PH;
            int rows = Math.Min(h0 + a.KH, a.H) - Math.Max(h0, 0);
            for (int ow = owLo; ow <= owHi; ow++)
            {
                int w0 = ow * a.SW - a.PW;
                int colsIn = Math.Min(w0 + a.KW, a.W) - Math.Max(w0, 0);
                int divisor = countIncludePad != 0 ? a.KH * a.KW : rows * colsIn;
                sum += dy[(plane * a.OH + oh) * a.OW + ow] / divisor;
            }
        }
        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }

    internal static void AdaptiveAvgPool2dKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, PoolArgs a)
    {
        int plane = i / (a.OH * a.OW);
        int q = i - plane * a.OH * a.OW;
        int oh = q / a.OW;
        int ow = q - oh * a.OW;
        int h0 = oh * a.H / a.OH;
        int h1 = ((oh + 1) * a.H + a.OH - 1) / a.OH;
        int w0 = ow * a.W / a.OW;
        int w1 = ((ow + 1) * a.W + a.OW - 1) / a.OW;
        int baseIndex = plane * a.H * a.W;
        float sum = 0f;
        for (int h = h0; h < h1; h++)
        {
            for (int w = w0; w < w1; w++)
            {
                sum += x[baseIndex + h * a.W + w];
            }
        }
        y[i] = sum / ((h1 - h0) * (w1 - w0));
    }

    internal static void AdaptiveAvgPool2dBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx, PoolArgs a, int accumulate)
    {
        int plane = i / (a.H * a.W);
        int s = i - plane * a.H * a.W;
        int h = s / a.W;
        int w = s - h * a.W;
        float sum = 0f;
        for (int oh = 0; oh < a.OH; oh++)
        {
            int h0 = oh * a.H / a.OH;
            int h1 = ((oh + 1) * a.H + a.OH - 1) / a.OH;
            if (h < h0 || h >= h1)
            {
                continue;
            }
            for (int ow = 0; ow < a.OW; ow++)
            {
                int w0 = ow * a.W / a.OW;
                int w1 = ((ow + 1) * a.W + a.OW - 1) / a.OW;
                if (w < w0 || w >= w1)
                {
                    continue;
                }
                sum += dy[(plane * a.OH + oh) * a.OW + ow] / ((h1 - h0) * (w1 - w0));
            }
        }
        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }
}
