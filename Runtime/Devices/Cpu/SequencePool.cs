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
                var xr = xs.Slice(row * time, time);
                int best = len > 0 ? 0 : -1;
                for (int t = 1; t < len; t++)
                {
                    if (PoolMath.MaxReplaces(xr[t], xr[best]))
                    {
                        best = t;
                        if (float.IsNaN(xr[t]))
                        {
                            break;
                        }
                    }
                }
                ys[row] = best < 0 ? 0f : xr[best];
                am[row] = best;
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
