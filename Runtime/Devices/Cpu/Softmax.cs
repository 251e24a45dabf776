using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void SoftmaxCore(Tensor x, Tensor y, bool log)
    {
        int c = x.Dims[^1];
        var xs = F(x);
        var ys = F(y);
        for (int r = 0; r < xs.Length / c; r++)
        {
            var xr = xs.Slice(r * c, c);
            var yr = ys.Slice(r * c, c);
            float max = TensorPrimitives.Max(xr);
            TensorPrimitives.Subtract(xr, max, yr);
            if (log)
            {
                float sum = 0f;
                foreach (float v in yr)
                {
                    sum += MathF.Exp(v);
                }
                TensorPrimitives.Subtract(yr, MathF.Log(sum), yr);
            }
            else
            {
                TensorPrimitives.Exp(yr, yr);
                TensorPrimitives.Divide(yr, TensorPrimitives.Sum(yr), yr);
            }
        }
    }

    protected override void SoftmaxBackwardCore(Tensor y, Tensor dy, Tensor dx, bool log, bool accumulate)
    {
        int c = y.Dims[^1];
        var ys = F(y);
        var g = F(dy);
        var d = F(dx);
        for (int r = 0; r < ys.Length / c; r++)
        {
            var yr = ys.Slice(r * c, c);
            var gr = g.Slice(r * c, c);
            var dr = d.Slice(r * c, c);
            if (log)
            {
                float sum = TensorPrimitives.Sum(gr);
                for (int j = 0; j < c; j++)
                {
                    float v = gr[j] - MathF.Exp(yr[j]) * sum;
                    dr[j] = accumulate ? dr[j] + v : v;
                }
            }
            else
            {
                float dot = TensorPrimitives.Dot(gr, yr);
                for (int j = 0; j < c; j++)
                {
                    float v = yr[j] * (gr[j] - dot);
                    dr[j] = accumulate ? dr[j] + v : v;
                }
            }
        }
    }
}
