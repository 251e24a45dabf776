namespace Dsl.Tests.Kernels;

/// <summary>
/// Direct double-precision loops with PyTorch's semantics for the convolution, pooling and batch-norm kernels:
/// the oracle the devices are checked against. Written for clarity, never for speed; tiny shapes only.
/// </summary>
internal static class NaiveReference
{
    public static double[] Conv2d(float[] x, float[] w, float[]? b, Conv2dGeometry g)
    {
        int oh = g.OutHeight, ow = g.OutWidth, cg = g.InChannels / g.Groups, ocg = g.OutChannels / g.Groups;
        var y = new double[g.OutputLength];
        for (int n = 0; n < g.Batch; n++)
        {
            for (int oc = 0; oc < g.OutChannels; oc++)
            {
                int group = oc / ocg;
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        double s = b is null ? 0 : b[oc];
                        for (int c = 0; c < cg; c++)
                        {
                            for (int kh = 0; kh < g.KernelH; kh++)
                            {
                                for (int kw = 0; kw < g.KernelW; kw++)
                                {
                                    int h = i * g.StrideH - g.PadTop + kh * g.DilationH;
                                    int v = j * g.StrideW - g.PadLeft + kw * g.DilationW;
                                    if (h >= 0 && h < g.Height && v >= 0 && v < g.Width)
                                    {
                                        s += (double)x[XIndex(g, n, group * cg + c, h, v)] * w[((oc * cg + c) * g.KernelH + kh) * g.KernelW + kw];
                                    }
                                }
                            }
                        }
                        y[((n * g.OutChannels + oc) * oh + i) * ow + j] = s;
                    }
                }
            }
        }
        return y;
    }

    /// <summary>The gradients of <see cref="Conv2d"/> by scattering each output gradient back over its receptive field.</summary>
    public static (double[] Dx, double[] Dw, double[] Db) Conv2dBackward(float[] x, float[] w, float[] dy, Conv2dGeometry g)
    {
        int oh = g.OutHeight, ow = g.OutWidth, cg = g.InChannels / g.Groups, ocg = g.OutChannels / g.Groups;
        var dx = new double[g.InputLength];
        var dw = new double[g.WeightLength];
        var db = new double[g.OutChannels];
        for (int n = 0; n < g.Batch; n++)
        {
            for (int oc = 0; oc < g.OutChannels; oc++)
            {
                int group = oc / ocg;
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        double d = dy[((n * g.OutChannels + oc) * oh + i) * ow + j];
                        db[oc] += d;
                        for (int c = 0; c < cg; c++)
                        {
                            for (int kh = 0; kh < g.KernelH; kh++)
                            {
                                for (int kw = 0; kw < g.KernelW; kw++)
                                {
                                    int h = i * g.StrideH - g.PadTop + kh * g.DilationH;
                                    int v = j * g.StrideW - g.PadLeft + kw * g.DilationW;
                                    if (h >= 0 && h < g.Height && v >= 0 && v < g.Width)
                                    {
                                        int xi = XIndex(g, n, group * cg + c, h, v);
                                        int wi = ((oc * cg + c) * g.KernelH + kh) * g.KernelW + kw;
                                        dx[xi] += d * w[wi];
                                        dw[wi] += d * x[xi];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dx, dw, db);
    }

    /// <summary>Max pooling; argmax is the flat index into the whole of x of the first maximum in the window.</summary>
    public static (double[] Y, int[] Argmax) MaxPool2d(float[] x, Pool2dGeometry g)
    {
        var y = new double[g.OutputLength];
        var arg = new int[g.OutputLength];
        int o = 0;
        for (int plane = 0; plane < g.Batch * g.Channels; plane++)
        {
            for (int i = 0; i < g.OutHeight; i++)
            {
                for (int j = 0; j < g.OutWidth; j++, o++)
                {
                    double best = double.NegativeInfinity;
                    int at = -1;
                    foreach (var (h, v) in Window(g, i, j))
                    {
                        int xi = (plane * g.Height + h) * g.Width + v;
                        if (at < 0 || x[xi] > best)
                        {
                            best = x[xi];
                            at = xi;
                        }
                    }
                    y[o] = best;
                    arg[o] = at;
                }
            }
        }
        return (y, arg);
    }

    public static double[] AvgPool2d(float[] x, Pool2dGeometry g, bool countIncludePad)
    {
        var y = new double[g.OutputLength];
        int o = 0;
        for (int plane = 0; plane < g.Batch * g.Channels; plane++)
        {
            for (int i = 0; i < g.OutHeight; i++)
            {
                for (int j = 0; j < g.OutWidth; j++, o++)
                {
                    double s = 0;
                    int count = 0;
                    foreach (var (h, v) in Window(g, i, j))
                    {
                        s += x[(plane * g.Height + h) * g.Width + v];
                        count++;
                    }
                    y[o] = s / (countIncludePad ? g.KernelH * g.KernelW : count);
                }
            }
        }
        return y;
    }

    /// <summary>The gradient of <see cref="AvgPool2d"/>, scattering each output gradient evenly over its window.</summary>
    public static double[] AvgPool2dBackward(float[] dy, Pool2dGeometry g, bool countIncludePad)
    {
        var dx = new double[g.InputLength];
        int o = 0;
        for (int plane = 0; plane < g.Batch * g.Channels; plane++)
        {
            for (int i = 0; i < g.OutHeight; i++)
            {
                for (int j = 0; j < g.OutWidth; j++, o++)
                {
                    var cells = Window(g, i, j).ToList();
                    double share = dy[o] / (countIncludePad ? g.KernelH * g.KernelW : cells.Count);
                    foreach (var (h, v) in cells)
                    {
                        dx[(plane * g.Height + h) * g.Width + v] += share;
                    }
                }
            }
        }
        return dx;
    }

    public static double[] AdaptiveAvgPool2d(float[] x, int planes, int height, int width, int outHeight, int outWidth)
    {
        var y = new double[planes * outHeight * outWidth];
        int o = 0;
        for (int plane = 0; plane < planes; plane++)
        {
            for (int i = 0; i < outHeight; i++)
            {
                for (int j = 0; j < outWidth; j++, o++)
                {
                    var (h0, h1) = AdaptiveRange(i, height, outHeight);
                    var (w0, w1) = AdaptiveRange(j, width, outWidth);
                    double s = 0;
                    for (int h = h0; h < h1; h++)
                    {
                        for (int v = w0; v < w1; v++)
                        {
                            s += x[(plane * height + h) * width + v];
                        }
                    }
                    y[o] = s / ((h1 - h0) * (w1 - w0));
                }
            }
        }
        return y;
    }

    public static double[] AdaptiveAvgPool2dBackward(float[] dy, int planes, int height, int width, int outHeight, int outWidth)
    {
        var dx = new double[planes * height * width];
        int o = 0;
        for (int plane = 0; plane < planes; plane++)
        {
            for (int i = 0; i < outHeight; i++)
            {
                for (int j = 0; j < outWidth; j++, o++)
                {
                    var (h0, h1) = AdaptiveRange(i, height, outHeight);
                    var (w0, w1) = AdaptiveRange(j, width, outWidth);
                    double share = dy[o] / ((h1 - h0) * (w1 - w0));
                    for (int h = h0; h < h1; h++)
                    {
                        for (int v = w0; v < w1; v++)
                        {
                            dx[(plane * height + h) * width + v] += share;
                        }
                    }
                }
            }
        }
        return dx;
    }

    /// <summary>Training-mode batch norm forward in double: y, the batch mean and the biased variance per channel.</summary>
    public static (double[] Y, double[] Mean, double[] Var) BatchNormTraining(double[] x, float[] gamma, float[] beta, int n, int c, int s, double eps)
    {
        var mean = new double[c];
        var variance = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            var values = ChannelValues(x, n, c, s, ch).ToList();
            mean[ch] = values.Average();
            variance[ch] = values.Select(v => (v - mean[ch]) * (v - mean[ch])).Average();
        }
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int ch = i / s % c;
            y[i] = (x[i] - mean[ch]) / Math.Sqrt(variance[ch] + eps) * gamma[ch] + beta[ch];
        }
        return (y, mean, variance);
    }

    private static IEnumerable<double> ChannelValues(double[] x, int n, int c, int s, int ch)
    {
        for (int b = 0; b < n; b++)
        {
            for (int k = 0; k < s; k++)
            {
                yield return x[(b * c + ch) * s + k];
            }
        }
    }

    private static IEnumerable<(int H, int W)> Window(Pool2dGeometry g, int i, int j)
    {
        for (int kh = 0; kh < g.KernelH; kh++)
        {
            for (int kw = 0; kw < g.KernelW; kw++)
            {
                int h = i * g.StrideH - g.PadH + kh;
                int v = j * g.StrideW - g.PadW + kw;
                if (h >= 0 && h < g.Height && v >= 0 && v < g.Width)
                {
                    yield return (h, v);
                }
            }
        }
    }

    private static (int Start, int End) AdaptiveRange(int i, int size, int outSize)
        => ((int)Math.Floor((double)i * size / outSize), (int)Math.Ceiling((double)(i + 1) * size / outSize));

    private static int XIndex(Conv2dGeometry g, int n, int c, int h, int w) => ((n * g.InChannels + c) * g.Height + h) * g.Width + w;
}
