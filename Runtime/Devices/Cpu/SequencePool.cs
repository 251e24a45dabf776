namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void MaxOverTimeCore(Tensor x, Tensor? lengths, Tensor y, Tensor argmax, int batch, int channels, int time)
    {
        var xs = F(x);
        var ys = F(y);
        var am = I(argmax);
        for (int n = 0; n < batch; n++)
        {
            int len = RowLength(lengths, n, time, nameof(MaxOverTime));
            for (int c = 0; c < channels; c++)
            {
                int row = n * channels + c;
                var xr = xs.Slice(row * time, len);
                int best = FirstMax(xr);
                ys[row] = best < 0 ? 0f : xr[best];
                am[row] = best;
            }
        }
    }

    /// <summary>
    /// The index of the first maximum of <paramref name="xr"/> (the first NaN if there is one, -1 when empty): the vectorised
    /// maximum, then a scan for its first occurrence (== treats +0 and -0 alike, as the strict comparison of a running maximum
    /// keeps the earlier of the two), the same winner as <see cref="PoolMath.MaxReplaces"/> over the steps in order.
    /// </summary>
    private static int FirstMax(ReadOnlySpan<float> xr)
    {
        if (xr.IsEmpty)
        {
            return -1;
        }
        float max = System.Numerics.Tensors.TensorPrimitives.Max(xr);
        if (float.IsNaN(max))
        {
            for (int t = 0; ; t++)
            {
                if (float.IsNaN(xr[t]))
                {
                    return t;
                }
            }
        }
        for (int t = 0; ; t++)
        {
            if (xr[t] == max)
            {
                return t;
            }
        }
    }

    protected override void MaxOverTimeBackwardCore(Tensor dy, Tensor argmax, Tensor dx, int batch, int channels, int time, bool accumulate)
    {
        var g = F(dy);
        var am = I(argmax);
        var d = F(dx);
        if (!accumulate)
        {
            d.Clear();
        }
        for (int row = 0; row < batch * channels; row++)
        {
            int t = am[row];
            if (t >= 0 && t < time)
            {
                d[row * time + t] += g[row];
            }
        }
    }

    protected override void MeanOverTimeCore(Tensor x, Tensor? lengths, Tensor y, int batch, int channels, int time)
    {
        var xs = F(x);
        var ys = F(y);
        for (int n = 0; n < batch; n++)
        {
            int len = RowLength(lengths, n, time, nameof(MeanOverTime));
            for (int c = 0; c < channels; c++)
            {
                int row = n * channels + c;
                ys[row] = len == 0 ? 0f : System.Numerics.Tensors.TensorPrimitives.Sum(xs.Slice(row * time, len)) / len;
            }
        }
    }

    protected override void MeanOverTimeBackwardCore(Tensor dy, Tensor? lengths, Tensor dx, int batch, int channels, int time, bool accumulate)
    {
        var g = F(dy);
        var d = F(dx);
        for (int n = 0; n < batch; n++)
        {
            int len = RowLength(lengths, n, time, nameof(MeanOverTimeBackward));
            for (int c = 0; c < channels; c++)
            {
                int row = n * channels + c;
                var dr = d.Slice(row * time, time);
                float v = len == 0 ? 0f : g[row] / len;
                if (accumulate)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(dr[..len], v, dr[..len]);
                }
                else
                {
                    dr[..len].Fill(v);
                    dr[len..].Clear();
                }
            }
        }
    }

    /// <summary>Row <paramref name="n"/>'s valid length (all <paramref name="time"/> steps without lengths); a length outside [0, T] is refused.</summary>
    private static int RowLength(Tensor? lengths, int n, int time, string op)
    {
        if (lengths is null)
        {
            return time;
        }
        long len = L(lengths)[n];
        if (len < 0 || len > time)
        {
            throw new ArgumentOutOfRangeException(nameof(lengths), $"{op}: length {len} of row {n} is outside [0, {time}].");
        }
        return (int)len;
    }

    protected override long MaskLengthsCore(Tensor mask, Tensor lengths, int batch, int time, int shift, string owner)
    {
        var m = F(mask);
        var l = L(lengths);
        for (int n = 0; n < batch; n++)
        {
            var row = m.Slice(n * time, time);
            int t = 0;
            while (t < time && row[t] == 1f)
            {
                t++;
            }
            l[n] = Math.Max(0, t + shift);
            for (int u = t; u < time; u++)
            {
                if (row[u] != 0f)
                {
                    return (long)n * time + u;
                }
            }
        }
        return -1;
    }
}
