using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu.Convolution;

/// <summary>
/// The column matrix of a convolution over a chunk of samples: row r = (c, kh, kw) of the kernel, column
/// j = (sample, oh, ow), so a group's output is W_g[OutC/G, C/G*KH*KW] * col_g[C/G*KH*KW, samples*OH*OW]
/// (output channels as GEMM rows: the orientation that keeps the long dimension in the GEMM's columns).
/// </summary>
internal static class Im2Col
{
    /// <summary>
    /// The columns <c>[owLo, owHi)</c> whose input column ow*stride + offset lies inside [0, width).
    /// </summary>
    public static (int Lo, int Hi) ValidRange(int offset, int stride, int width, int outWidth)
    {
        int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int hi = width - offset <= 0 ? 0 : (width - offset + stride - 1) / stride;
        lo = Math.Min(lo, outWidth);
        hi = Math.Clamp(hi, lo, outWidth);
        return (lo, hi);
    }

    /// <summary>
    /// Fills rows [rowStart, rowEnd) of col[Rows, samples*OH*OW] from samples [n0, n0+samples) of x (whole batch array at xOffset).
    /// </summary>
    public static void Gather(in ConvPlan p, float[] x, int xOffset, int n0, int samples, float[] col, int rowStart, int rowEnd)
    {
        var g = p.G;
        int cols = samples * p.Positions;
        int sampleStride = g.InChannels * p.Plane;
        for (int row = rowStart; row < rowEnd; row++)
        {
            int c = row / p.KernelArea;
            int kh = row % p.KernelArea / g.KernelW;
            int kw = row % p.KernelArea % g.KernelW;
            var dst = col.AsSpan(row * cols, cols);
            if (p.Pointwise)
            {
                for (int i = 0; i < samples; i++)
                {
                    x.AsSpan(xOffset + (n0 + i) * sampleStride + c * p.Plane, p.Plane).CopyTo(dst.Slice(i * p.Positions, p.Positions));
                }
                continue;
            }
            int ihBase = kh * g.DilationH - g.PadTop;
            int iwBase = kw * g.DilationW - g.PadLeft;
            var (owLo, owHi) = ValidRange(iwBase, g.StrideW, g.Width, p.OutWidth);
            for (int i = 0; i < samples; i++)
            {
                var src = x.AsSpan(xOffset + (n0 + i) * sampleStride + c * p.Plane, p.Plane);
                for (int oh = 0; oh < p.OutHeight; oh++)
                {
                    var d = dst.Slice(i * p.Positions + oh * p.OutWidth, p.OutWidth);
                    int ih = oh * g.StrideH + ihBase;
                    if ((uint)ih >= (uint)g.Height)
                    {
                        d.Clear();
                        continue;
                    }
                    d[..owLo].Clear();
                    d[owHi..].Clear();
                    var srcRow = src.Slice(ih * g.Width, g.Width);
                    if (g.StrideW == 1)
                    {
                        srcRow.Slice(owLo + iwBase, owHi - owLo).CopyTo(d[owLo..owHi]);
                    }
                    else
                    {
                        for (int ow = owLo; ow < owHi; ow++)
                        {
                            d[ow] = srcRow[ow * g.StrideW + iwBase];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// col2im: adds the column gradients of planes [planeStart, planeEnd) (plane = sample*C + channel, samples counted from n0)
    /// into dx, overwriting each plane first unless <paramref name="accumulate"/>. Planes are disjoint, so ranges run in parallel.
    /// </summary>
    public static void Scatter(in ConvPlan p, float[] dcol, int samples, float[] dx, int dxOffset, int n0, int planeStart, int planeEnd, bool accumulate)
    {
        var g = p.G;
        int cols = samples * p.Positions;
        for (int plane = planeStart; plane < planeEnd; plane++)
        {
            int i = plane / g.InChannels;
            int c = plane % g.InChannels;
            var dst = dx.AsSpan(dxOffset + ((n0 + i) * g.InChannels + c) * p.Plane, p.Plane);
            if (p.Pointwise)
            {
                var s = dcol.AsSpan(c * cols + i * p.Positions, p.Positions);
                if (accumulate)
                {
                    TensorPrimitives.Add(dst, s, dst);
                }
                else
                {
                    s.CopyTo(dst);
                }
                continue;
            }
            if (!accumulate)
            {
                dst.Clear();
            }
            for (int k = 0; k < p.KernelArea; k++)
            {
                int kh = k / g.KernelW;
                int kw = k % g.KernelW;
                var src = dcol.AsSpan((c * p.KernelArea + k) * cols + i * p.Positions, p.Positions);
                int ihBase = kh * g.DilationH - g.PadTop;
                int iwBase = kw * g.DilationW - g.PadLeft;
                var (owLo, owHi) = ValidRange(iwBase, g.StrideW, g.Width, p.OutWidth);
                if (owHi <= owLo)
                {
                    continue;
                }
                for (int oh = 0; oh < p.OutHeight; oh++)
                {
                    int ih = oh * g.StrideH + ihBase;
                    if ((uint)ih >= (uint)g.Height)
                    {
                        continue;
                    }
                    var s = src.Slice(oh * p.OutWidth, p.OutWidth);
                    var dRow = dst.Slice(ih * g.Width, g.Width);
                    if (g.StrideW == 1)
                    {
                        var d = dRow.Slice(owLo + iwBase, owHi - owLo);
                        TensorPrimitives.Add(d, s[owLo..owHi], d);
                    }
                    else
                    {
                        for (int ow = owLo; ow < owHi; ow++)
                        {
                            dRow[ow * g.StrideW + iwBase] += s[ow];
                        }
                    }
                }
            }
        }
    }
}

/// <summary>Grow-only buffers a CPU device keeps for convolutions, so a training step allocates nothing after its first batch.</summary>
internal sealed class ConvWorkspace
{
    private float[] _col = [];
    private float[] _mat = [];
    private float[] _dcol = [];

    /// <summary>The column matrix, at least <paramref name="length"/> floats.</summary>
    public float[] Col(long length) => Grow(ref _col, length);

    /// <summary>A GEMM output or gathered output gradient [OutC, samples*OH*OW].</summary>
    public float[] Mat(long length) => Grow(ref _mat, length);

    /// <summary>The column gradient, shaped like <see cref="Col"/>.</summary>
    public float[] DCol(long length) => Grow(ref _dcol, length);

    private static float[] Grow(ref float[] a, long length)
    {
        if (a.Length < length)
        {
            a = GC.AllocateUninitializedArray<float>(checked((int)length));
        }
        return a;
    }
}
