using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Devices.Gpu;

/// <summary>
/// Convolution as im2col + tiled GEMM, one group at a time over the whole batch: the column matrix of a group is
/// [Cg*KH*KW, N*OH*OW], so each group costs one im2col launch and one GEMM, whatever the batch size.
/// </summary>
public sealed partial class GpuDevice
{
    protected override void Conv2dCore(Tensor x, Tensor w, Tensor? b, Tensor y, in Conv2dGeometry g, bool relu)
    {
        const string op = nameof(Conv2d);
        var a = ConvArgs.From(g);
        var (xv, wv, yv) = (F(x, op), F(w, op), F(y, op));
        var bv = b is null ? yv : F(b, op);
        if (g.OutputLength == 0)
        {
            return;
        }
        int cols = Checked((long)a.N * a.OH * a.OW, op);
        int rows = Checked((long)a.Cg * a.KH * a.KW, op);
        int ocg = a.OC / a.G;
        var col = Scratch(FloatScratch.Columns, (long)rows * cols);
        var product = Scratch(FloatScratch.Product, (long)a.OC * cols);
        for (int group = 0; group < a.G; group++)
        {
            Im2Col(xv, col, a, group, rows, cols);
            GemmViews(false, false, ocg, cols, rows, 1f,
                wv.SubView(group * ocg * rows, ocg * rows), col, 0f, product.SubView((long)group * ocg * cols, (long)ocg * cols));
        }
        Kernel(nameof(Conv2dScatterKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvArgs, int, int>(Conv2dScatterKernel))(
            Checked(g.OutputLength, op), product, bv, yv, a, b is null ? 0 : 1, relu ? 1 : 0);
    }

    protected override void Conv2dBackwardCore(Tensor x, Tensor w, Tensor dy, Tensor? dx, Tensor dw, Tensor? db, in Conv2dGeometry g, bool accumulateDx)
    {
        const string op = nameof(Conv2dBackward);
        var a = ConvArgs.From(g);
        var (xv, wv, g2, dwv) = (F(x, op), F(w, op), F(dy, op), F(dw, op));
        var dxv = dx is null ? xv : F(dx, op);
        var dbv = db is null ? dwv : F(db, op);
        int cols = Checked((long)a.N * a.OH * a.OW, op);
        int rows = Checked((long)a.Cg * a.KH * a.KW, op);
        int ocg = a.OC / a.G;
        if (db is not null && a.OC > 0)
        {
            BiasGradViews(g2, dbv, a.OC, a.OH * a.OW, a.N, accumulate: true);
        }
        if (cols == 0)
        {
            if (dx is not null && !accumulateDx && g.InputLength > 0)
            {
                Fill(dx, 0f);
            }
            return;
        }
        var col = Scratch(FloatScratch.Columns, (long)rows * cols);
        var product = Scratch(FloatScratch.Product, (long)a.OC * cols);
        Kernel(nameof(Conv2dGatherKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvArgs>(Conv2dGatherKernel))(
            Checked(g.OutputLength, op), g2, product, a);
        for (int group = 0; group < a.G; group++)
        {
            var dyGroup = product.SubView((long)group * ocg * cols, (long)ocg * cols);
            var wGroup = wv.SubView(group * ocg * rows, ocg * rows);
            Im2Col(xv, col, a, group, rows, cols);
            // dW_g += dY_g [OCg, N*P] x col^T [N*P, Cg*K*K]
            GemmViews(false, true, ocg, rows, cols, 1f, dyGroup, col, 1f, dwv.SubView(group * ocg * rows, ocg * rows));
            if (dx is not null)
            {
                // dcol = W_g^T [Cg*K*K, OCg] x dY_g [OCg, N*P], folded back onto the input by col2im.
                GemmViews(true, false, rows, cols, ocg, 1f, wGroup, dyGroup, 0f, col);
                long inputs = (long)a.N * a.Cg * a.H * a.W;
                if (inputs > 0)
                {
                    Kernel(nameof(Conv2dCol2ImKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvArgs, int, int>(Conv2dCol2ImKernel))(
                        Checked(inputs, op), col, dxv, a, group, accumulateDx ? 1 : 0);
                }
            }
        }
    }

    private void Im2Col(ArrayView<float> x, ArrayView<float> col, ConvArgs a, int group, int rows, int cols)
    {
        long total = (long)rows * cols;
        if (total == 0)
        {
            return;
        }
        Kernel(nameof(Conv2dIm2ColKernel), acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvArgs, int>(Conv2dIm2ColKernel))(
            Checked(total, nameof(Conv2d)), x, col, a, group);
    }

    /// <summary>The geometry as the kernels read it, with the output size and channels per group precomputed.</summary>
    internal readonly record struct ConvArgs(
        int N, int C, int H, int W, int OC, int KH, int KW, int SH, int SW, int PT, int PL, int DH, int DW, int G, int Cg, int OH, int OW)
    {
        /// <summary>The kernels' copy of a geometry <see cref="Conv2dGeometry.Validate"/> has accepted.</summary>
        public static ConvArgs From(in Conv2dGeometry g)
        {
            return new ConvArgs(g.Batch, g.InChannels, g.Height, g.Width, g.OutChannels, g.KernelH, g.KernelW, g.StrideH, g.StrideW,
                g.PadTop, g.PadLeft, g.DilationH, g.DilationW, g.Groups, g.InChannels / g.Groups, g.OutHeight, g.OutWidth);
        }
    }

    // ------------------------------------------------------------------ kernels

    /// <summary>col[r, n*P + p] = x[n, group*Cg + c, oh*SH - PT + kh*DH, ow*SW - PL + kw*DW] with r = (c, kh, kw); 0 in the padding.</summary>
    internal static void Conv2dIm2ColKernel(Index1D i, ArrayView<float> x, ArrayView<float> col, ConvArgs a, int group)
    {
        int p = a.OH * a.OW;
        int cols = a.N * p;
        int r = i / cols;
        int j = i - r * cols;
        int n = j / p;
        int q = j - n * p;
        int oh = q / a.OW;
        int ow = q - oh * a.OW;
        int kk = a.KH * a.KW;
        int c = r / kk;
        int k = r - c * kk;
        int kh = k / a.KW;
        int kw = k - kh * a.KW;
        int h = oh * a.SH - a.PT + kh * a.DH;
        int w = ow * a.SW - a.PL + kw * a.DW;
        float v = 0f;
        if (h >= 0 && h < a.H && w >= 0 && w < a.W)
        {
            v = x[((n * a.C + group * a.Cg + c) * a.H + h) * a.W + w];
        }
        col[i] = v;
    }

    /// <summary>y[n, oc, p] = product[oc, n*P + p] (+ bias[oc]), through ReLU when <paramref name="relu"/> is 1: the GEMM's epilogue.</summary>
    internal static void Conv2dScatterKernel(Index1D i, ArrayView<float> product, ArrayView<float> bias, ArrayView<float> y, ConvArgs a, int hasBias, int relu)
    {
        int p = a.OH * a.OW;
        int n = i / (a.OC * p);
        int rest = i - n * a.OC * p;
        int oc = rest / p;
        int q = rest - oc * p;
        float v = product[(oc * a.N + n) * p + q];
        v = hasBias != 0 ? v + bias[oc] : v;
        y[i] = relu != 0 ? ActivationMath.Forward(ActivationKind.Relu, 0f, 0f, v) : v;
    }

    /// <summary>product[oc, n*P + p] = dy[n, oc, p]: the inverse of the scatter.</summary>
    internal static void Conv2dGatherKernel(Index1D i, ArrayView<float> dy, ArrayView<float> product, ConvArgs a)
    {
        int p = a.OH * a.OW;
        int n = i / (a.OC * p);
        int rest = i - n * a.OC * p;
        int oc = rest / p;
        int q = rest - oc * p;
        product[(oc * a.N + n) * p + q] = dy[i];
    }

    /// <summary>
    /// One thread per input element of the group: gathers every column entry that im2col copied from it, so no two
    /// threads write the same element and no atomics are needed.
    /// </summary>
    internal static void Conv2dCol2ImKernel(Index1D i, ArrayView<float> col, ArrayView<float> dx, ConvArgs a, int group, int accumulate)
    {
        int hw = a.H * a.W;
        int n = i / (a.Cg * hw);
        int rest = i - n * a.Cg * hw;
        int c = rest / hw;
        int s = rest - c * hw;
        int h = s / a.W;
        int w = s - h * a.W;
        int p = a.OH * a.OW;
        int cols = a.N * p;
        float sum = 0f;
        for (int kh = 0; kh < a.KH; kh++)
        {
            int th = h + a.PT - kh * a.DH;
            if (th < 0 || th % a.SH != 0)
            {
                continue;
            }
            int oh = th / a.SH;
            if (oh >= a.OH)
            {
                continue;
            }
            for (int kw = 0; kw < a.KW; kw++)
            {
                int tw = w + a.PL - kw * a.DW;
                if (tw < 0 || tw % a.SW != 0)
                {
                    continue;
                }
                int ow = tw / a.SW;
                if (ow >= a.OW)
                {
                    continue;
                }
                int r = (c * a.KH + kh) * a.KW + kw;
                sum += col[r * cols + n * p + oh * a.OW + ow];
            }
        }
        int at = ((n * a.C + group * a.Cg + c) * a.H + h) * a.W + w;
        dx[at] = accumulate != 0 ? dx[at] + sum : sum;
    }
}
