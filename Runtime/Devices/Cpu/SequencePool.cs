using System.Runtime.Intrinsics;
using Dsl.Devices.Cpu.Gemm;

namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override unsafe void MaxOverTimeCore(Tensor x, Tensor? lengths, Tensor y, Tensor argmax, int batch, int channels, int time)
    {
        for (int n = 0; lengths is not null && n < batch; n++)
        {
            RowLength(lengths, n, time, nameof(MaxOverTime)); // refused here, before the rows are split over threads
        }
        fixed (float* px = F(x), py = F(y))
        fixed (int* pam = I(argmax))
        fixed (long* pl = lengths is null ? default : L(lengths))
        {
            var job = new MaxOverTimeJob
            {
                X = px, Y = py, Argmax = pam, Lengths = pl, Channels = channels, Time = time, Kind = CpuGemm.CurrentKernel,
            };
            // A row is a few dozen steps: thousands of floats per part before a second thread pays for its wake-up.
            ParallelRange(batch, Math.Max(1, 4096 / Math.Max(1, channels * time)), ref job);
        }
    }

    /// <summary>
    /// <see cref="Device.MaxOverTime"/> over samples [start, end): each (n, c) row's first maximum over its valid steps
    /// (<see cref="FirstMax"/>), with the kernel width the caller's thread chose.
    /// </summary>
    private unsafe struct MaxOverTimeJob : IRangeJob
    {
        public float* X, Y;
        public int* Argmax;
        public long* Lengths;
        public int Channels, Time;
        public GemmKernel Kind;

        public readonly void Run(int start, int end)
        {
            for (int n = start; n < end; n++)
            {
                int len = Lengths == null ? Time : (int)Lengths[n];
                for (int c = 0; c < Channels; c++)
                {
                    nint row = (nint)n * Channels + c;
                    float* xr = X + row * Time;
                    int best = FirstMax(xr, len, Kind);
                    Y[row] = best < 0 ? 0f : xr[best];
                    Argmax[row] = best;
                }
            }
        }
    }

    /// <summary>
    /// The index of the first maximum of the <paramref name="len"/> floats at <paramref name="xr"/> (the first NaN if there
    /// is one, -1 when empty), the same winner as a running maximum that a later step replaces only when strictly greater:
    /// the maximum over whole vectors (the last one overlapping the one before, which a maximum does not mind), then the
    /// first vector holding it (== treats +0 and -0 alike, so the earlier zero wins whatever the maximum's sign). NaNs are
    /// tracked apart (the hardware maximum drops them) and send the row to a scan for the first. 512-bit vectors with the
    /// 512-bit kernels, 256-bit ones otherwise, scalar below one vector.
    /// </summary>
    internal static unsafe int FirstMax(float* xr, int len, GemmKernel kind)
    {
        if (len <= 0)
        {
            return -1;
        }
        if (kind == GemmKernel.Vector512 && Vector512.IsHardwareAccelerated && len >= Vector512<float>.Count)
        {
            const int W = 16;
            var max = Vector512.Load(xr);
            var nan = ~Vector512.Equals(max, max);
            for (int t = W; t < len; t += W)
            {
                var v = Vector512.Load(xr + Math.Min(t, len - W));
                max = Vector512.Max(max, v);
                nan |= ~Vector512.Equals(v, v);
            }
            if (nan != Vector512<float>.Zero)
            {
                return FirstNaN(xr, len);
            }
            var m = Vector512.Create(Horizontal(Vector256.Max(max.GetLower(), max.GetUpper())));
            for (int t = 0; ; t += W)
            {
                int at = Math.Min(t, len - W);
                ulong bits = Vector512.Equals(Vector512.Load(xr + at), m).ExtractMostSignificantBits();
                if (bits != 0)
                {
                    return at + System.Numerics.BitOperations.TrailingZeroCount(bits);
                }
            }
        }
        if (Vector256.IsHardwareAccelerated && len >= Vector256<float>.Count)
        {
            const int W = 8;
            var max = Vector256.Load(xr);
            var nan = ~Vector256.Equals(max, max);
            for (int t = W; t < len; t += W)
            {
                var v = Vector256.Load(xr + Math.Min(t, len - W));
                max = Vector256.Max(max, v);
                nan |= ~Vector256.Equals(v, v);
            }
            if (nan != Vector256<float>.Zero)
            {
                return FirstNaN(xr, len);
            }
            var m = Vector256.Create(Horizontal(max));
            for (int t = 0; ; t += W)
            {
                int at = Math.Min(t, len - W);
                uint bits = Vector256.Equals(Vector256.Load(xr + at), m).ExtractMostSignificantBits();
                if (bits != 0)
                {
                    return at + System.Numerics.BitOperations.TrailingZeroCount(bits);
                }
            }
        }
        int best = 0;
        for (int t = 0; t < len; t++)
        {
            float v = xr[t];
            if (float.IsNaN(v))
            {
                return t;
            }
            if (v > xr[best])
            {
                best = t;
            }
        }
        return best;
    }

    /// <summary>The largest of a NaN-free vector's eight floats.</summary>
    private static float Horizontal(Vector256<float> v)
    {
        var h = Vector128.Max(v.GetLower(), v.GetUpper());
        h = Vector128.Max(h, Vector128.Shuffle(h, Vector128.Create(2, 3, 0, 1)));
        h = Vector128.Max(h, Vector128.Shuffle(h, Vector128.Create(1, 0, 3, 2)));
        return h.ToScalar();
    }

    private static unsafe int FirstNaN(float* xr, int len)
    {
        for (int t = 0; ; t++)
        {
            if (float.IsNaN(xr[t]))
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
