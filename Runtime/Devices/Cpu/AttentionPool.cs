using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void AttentionPoolCore(Tensor x, Tensor context, Tensor? lengths, Tensor weights, Tensor y, int batch, int time, int dim)
    {
        var xs = F(x);
        var c = F(context);
        var a = F(weights);
        var ys = F(y);
        for (int n = 0; n < batch; n++)
        {
            int len = RowLength(lengths, n, time, nameof(AttentionPool));
            var ar = a.Slice(n * time, time);
            var yr = ys.Slice(n * dim, dim);
            yr.Clear();
            ar.Clear();
            if (len == 0)
            {
                continue;
            }
            for (int t = 0; t < len; t++)
            {
                ar[t] = TensorPrimitives.Dot(xs.Slice((n * time + t) * dim, dim), c);
            }
            var valid = ar[..len];
            float max = TensorPrimitives.Max(valid);
            TensorPrimitives.Subtract(valid, max, valid);
            TensorPrimitives.Exp(valid, valid);
            TensorPrimitives.Divide(valid, TensorPrimitives.Sum(valid), valid);
            for (int t = 0; t < len; t++)
            {
                TensorPrimitives.MultiplyAdd(xs.Slice((n * time + t) * dim, dim), ar[t], yr, yr);
            }
        }
    }

    protected override void AttentionPoolBackwardCore(Tensor x, Tensor context, Tensor weights, Tensor dy, Tensor dx, Tensor dcontext, int batch, int time, int dim, bool accumulateDx)
    {
        var xs = F(x);
        var c = F(context);
        var a = F(weights);
        var g = F(dy);
        var d = F(dx);
        var dc = F(dcontext);
        for (int n = 0; n < batch; n++)
        {
            var ar = a.Slice(n * time, time);
            var gr = g.Slice(n * dim, dim);
            // s = sum_t a_t (dy . x_t); di_t = a_t (dy . x_t - s).
            float s = 0f;
            for (int t = 0; t < time; t++)
            {
                if (ar[t] != 0f)
                {
                    s += ar[t] * TensorPrimitives.Dot(gr, xs.Slice((n * time + t) * dim, dim));
                }
            }
            for (int t = 0; t < time; t++)
            {
                var xr = xs.Slice((n * time + t) * dim, dim);
                var dr = d.Slice((n * time + t) * dim, dim);
                if (!accumulateDx)
                {
                    dr.Clear();
                }
                float at = ar[t];
                if (at == 0f)
                {
                    continue;
                }
                float di = at * (TensorPrimitives.Dot(gr, xr) - s);
                TensorPrimitives.MultiplyAdd(gr, at, dr, dr);
                TensorPrimitives.MultiplyAdd(c, di, dr, dr);
                TensorPrimitives.MultiplyAdd(xr, di, dc, dc);
            }
        }
    }
}
