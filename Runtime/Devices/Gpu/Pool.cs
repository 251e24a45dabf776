using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Pooling. Forward kernels run one thread per output; backward kernels run one thread per input and gather from
/// the outputs whose windows cover it, so every element has a single writer and no atomics are needed.
/// </summary>
public sealed partial class GpuDevice
{
    protected override void MaxPool2dCore(Tensor x, Tensor y, Tensor argmax, in Pool2dGeometry g)
    {
        const string op = nameof(MaxPool2d);
        var a = PoolArgs.From(g);
        var (xv, yv, iv) = (F(x, op), F(y, op), I(argmax, op));
        if (g.OutputLength == 0)
        {
            return;
        }
        Kernel(nameof(MaxPool2dKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolArgs>(MaxPool2dKernel))(
            Checked(g.OutputLength, op), xv, yv, iv, a);
    }

    protected override void MaxPool2dBackwardCore(Tensor dy, Tensor argmax, Tensor dx, in Pool2dGeometry g, bool accumulate, Tensor? reluOutput)
    {
        const string op = nameof(MaxPool2dBackward);
        var a = PoolArgs.From(g);
        var (gv, iv, dv) = (F(dy, op), I(argmax, op), F(dx, op));
        // Without a ReLU's output the kernel never reads that view: dy's stands in for it.
        var yv = reluOutput is null ? gv : F(reluOutput, op);
        if (g.InputLength == 0)
        {
            return;
        }
        Kernel(nameof(MaxPool2dBackwardKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, PoolArgs, int, int>(MaxPool2dBackwardKernel))(
            Checked(g.InputLength, op), gv, iv, yv, dv, a, accumulate ? 1 : 0, reluOutput is null ? 0 : 1);
    }

    protected override void AvgPool2dCore(Tensor x, Tensor y, in Pool2dGeometry g, bool countIncludePad)
    {
        const string op = nameof(AvgPool2d);
        var a = PoolArgs.From(g);
        var (xv, yv) = (F(x, op), F(y, op));
        if (g.OutputLength == 0)
        {
            return;
        }
        Kernel(nameof(AvgPool2dKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolArgs, int>(AvgPool2dKernel))(
            Checked(g.OutputLength, op), xv, yv, a, countIncludePad ? 1 : 0);
    }

    protected override void AvgPool2dBackwardCore(Tensor dy, Tensor dx, in Pool2dGeometry g, bool countIncludePad, bool accumulate)
    {
        const string op = nameof(AvgPool2dBackward);
        var a = PoolArgs.From(g);
        var (gv, dv) = (F(dy, op), F(dx, op));
        if (g.InputLength == 0)
        {
            return;
        }
        Kernel(nameof(AvgPool2dBackwardKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolArgs, int, int>(AvgPool2dBackwardKernel))(
            Checked(g.InputLength, op), gv, dv, a, countIncludePad ? 1 : 0, accumulate ? 1 : 0);
    }

    protected override void AdaptiveAvgPool2dCore(Tensor x, Tensor y, int batch, int channels, int height, int width, int outHeight, int outWidth)
    {
        const string op = nameof(AdaptiveAvgPool2d);
        var a = new PoolArgs(batch, channels, height, width, 0, 0, 0, 0, 0, 0, outHeight, outWidth);
        var (xv, yv) = (F(x, op), F(y, op));
        if (y.Length == 0)
        {
            return;
        }
        Kernel(nameof(AdaptiveAvgPool2dKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolArgs>(AdaptiveAvgPool2dKernel))(
            Checked(y.Length, op), xv, yv, a);
    }

    protected override void AdaptiveAvgPool2dBackwardCore(Tensor dy, Tensor dx, int batch, int channels, int height, int width, int outHeight, int outWidth, bool accumulate)
    {
        const string op = nameof(AdaptiveAvgPool2dBackward);
        var a = new PoolArgs(batch, channels, height, width, 0, 0, 0, 0, 0, 0, outHeight, outWidth);
        var (gv, dv) = (F(dy, op), F(dx, op));
        if (dx.Length == 0)
        {
            return;
        }
        Kernel(nameof(AdaptiveAvgPool2dBackwardKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolArgs, int>(AdaptiveAvgPool2dBackwardKernel))(
            Checked(dx.Length, op), gv, dv, a, accumulate ? 1 : 0);
    }

    /// <summary>Pooling geometry as the kernels read it (for adaptive pooling only the sizes are used).</summary>
    internal readonly record struct PoolArgs(int N, int C, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int OH, int OW)
    {
        /// <summary>The kernels' copy of a geometry <see cref="Pool2dGeometry.Validate"/> has accepted.</summary>
        public static PoolArgs From(in Pool2dGeometry g)
        {
            return new PoolArgs(g.Batch, g.Channels, g.Height, g.Width, g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadH, g.PadW, g.OutHeight, g.OutWidth);
        }
    }

    // ------------------------------------------------------------------ kernels

    /// <summary>
    /// argmax holds the flat index into x (over the whole tensor, not the plane) of the first maximum in the window
    /// (a NaN takes over, as on the CPU and in PyTorch: <see cref="PoolMath.MaxReplaces"/>); padded positions are
    /// skipped, so padding never wins.
    /// </summary>
    internal static void MaxPool2dKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<int> argmax, PoolArgs a)
    {
        int plane = i / (a.OH * a.OW);
        int q = i - plane * a.OH * a.OW;
        int oh = q / a.OW;
        int ow = q - oh * a.OW;
        int h0 = PoolMath.WindowStart(oh, a.SH, a.PH), h1 = PoolMath.WindowEnd(oh, a.SH, a.PH, a.KH, a.H);
        int w0 = PoolMath.WindowStart(ow, a.SW, a.PW), w1 = PoolMath.WindowEnd(ow, a.SW, a.PW, a.KW, a.W);
        int baseIndex = plane * a.H * a.W;
        float best = float.NegativeInfinity;
        int bestIndex = -1;
        for (int h = h0; h < h1; h++)
        {
            for (int w = w0; w < w1; w++)
            {
                int at = baseIndex + h * a.W + w;
                float v = x[at];
                if (bestIndex < 0 || PoolMath.MaxReplaces(v, best))
                {
                    best = v;
                    bestIndex = at;
                }
            }
        }
        y[i] = best;
        argmax[i] = bestIndex;
    }

    /// <summary>
    /// One input element: the sum of dy over the windows whose maximum it is; with <paramref name="relu"/>, each window's dy
    /// through the standard ReLU rule at y (<see cref="ReluBackwardMath.Gradient"/>, the rule the CPU's mask and every ReLU
    /// backward call).
    /// </summary>
    internal static void MaxPool2dBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<int> argmax, ArrayView<float> y, ArrayView<float> dx, PoolArgs a, int accumulate, int relu)
    {
        int plane = i / (a.H * a.W);
        int s = i - plane * a.H * a.W;
        int h = s / a.W;
        int w = s - h * a.W;
        int ohLo = PoolMath.FirstWindowCovering(h + a.PH, a.KH, a.SH);
        int ohHi = PoolMath.LastWindowCovering(h + a.PH, a.SH, a.OH);
        int owLo = PoolMath.FirstWindowCovering(w + a.PW, a.KW, a.SW);
        int owHi = PoolMath.LastWindowCovering(w + a.PW, a.SW, a.OW);
        float sum = 0f;
        for (int oh = ohLo; oh <= ohHi; oh++)
        {
            for (int ow = owLo; ow <= owHi; ow++)
            {
                int o = (plane * a.OH + oh) * a.OW + ow;
                if (argmax[o] == i)
                {
                    sum += relu == 0 ? dy[o] : ReluBackwardMath.Gradient(ReluBackwardRule.Standard, y[o], dy[o]);
                }
            }
        }
        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }

    internal static void AvgPool2dKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, PoolArgs a, int countIncludePad)
    {
        int plane = i / (a.OH * a.OW);
        int q = i - plane * a.OH * a.OW;
        int oh = q / a.OW;
        int ow = q - oh * a.OW;
        int h0 = PoolMath.WindowStart(oh, a.SH, a.PH), h1 = PoolMath.WindowEnd(oh, a.SH, a.PH, a.KH, a.H);
        int w0 = PoolMath.WindowStart(ow, a.SW, a.PW), w1 = PoolMath.WindowEnd(ow, a.SW, a.PW, a.KW, a.W);
        int baseIndex = plane * a.H * a.W;
        float sum = 0f;
        for (int h = h0; h < h1; h++)
        {
            for (int w = w0; w < w1; w++)
            {
                sum += x[baseIndex + h * a.W + w];
            }
        }
        int count = (h1 - h0) * (w1 - w0);
        int padded = PoolMath.PaddedWindowSize(oh, a.SH, a.PH, a.KH, a.H) * PoolMath.PaddedWindowSize(ow, a.SW, a.PW, a.KW, a.W);
        y[i] = sum / (countIncludePad != 0 ? padded : count);
    }

    internal static void AvgPool2dBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx, PoolArgs a, int countIncludePad, int accumulate)
    {
        int plane = i / (a.H * a.W);
        int s = i - plane * a.H * a.W;
        int h = s / a.W;
        int w = s - h * a.W;
        int ohLo = PoolMath.FirstWindowCovering(h + a.PH, a.KH, a.SH);
        int ohHi = PoolMath.LastWindowCovering(h + a.PH, a.SH, a.OH);
        int owLo = PoolMath.FirstWindowCovering(w + a.PW, a.KW, a.SW);
        int owHi = PoolMath.LastWindowCovering(w + a.PW, a.SW, a.OW);
        float sum = 0f;
        for (int oh = ohLo; oh <= ohHi; oh++)
        {
            int rows = PoolMath.WindowEnd(oh, a.SH, a.PH, a.KH, a.H) - PoolMath.WindowStart(oh, a.SH, a.PH);
            int rowsPadded = PoolMath.PaddedWindowSize(oh, a.SH, a.PH, a.KH, a.H);
            for (int ow = owLo; ow <= owHi; ow++)
            {
                int colsIn = PoolMath.WindowEnd(ow, a.SW, a.PW, a.KW, a.W) - PoolMath.WindowStart(ow, a.SW, a.PW);
                int divisor = countIncludePad != 0 ? rowsPadded * PoolMath.PaddedWindowSize(ow, a.SW, a.PW, a.KW, a.W) : rows * colsIn;
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
        int h0 = PoolMath.AdaptiveStart(oh, a.H, a.OH);
        int h1 = PoolMath.AdaptiveEnd(oh, a.H, a.OH);
        int w0 = PoolMath.AdaptiveStart(ow, a.W, a.OW);
        int w1 = PoolMath.AdaptiveEnd(ow, a.W, a.OW);
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
            int h0 = PoolMath.AdaptiveStart(oh, a.H, a.OH);
            int h1 = PoolMath.AdaptiveEnd(oh, a.H, a.OH);
            if (h < h0 || h >= h1)
            {
                continue;
            }
            for (int ow = 0; ow < a.OW; ow++)
            {
                int w0 = PoolMath.AdaptiveStart(ow, a.W, a.OW);
                int w1 = PoolMath.AdaptiveEnd(ow, a.W, a.OW);
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
