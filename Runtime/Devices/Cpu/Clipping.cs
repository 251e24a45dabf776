using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void AccumulateNormPowerCore(Tensor x, Tensor accumulator, float normType)
    {
        var xs = F(x);
        var acc = F(accumulator);
        if (float.IsPositiveInfinity(normType))
        {
            acc[0] = MathF.Max(acc[0], MathF.Abs(TensorPrimitives.MaxMagnitude(xs)));
            return;
        }
        double sum = 0;
        if (normType == 2f)
        {
            sum = TensorPrimitives.SumOfSquares(xs);
        }
        else if (normType == 1f)
        {
            sum = TensorPrimitives.SumOfMagnitudes(xs);
        }
        else
        {
            foreach (float v in xs)
            {
                sum += Math.Pow(Math.Abs(v), normType);
            }
        }
        acc[0] += (float)sum;
    }

    protected override void ScaleCore(Tensor y, float alpha)
    {
        var ys = F(y);
        TensorPrimitives.Multiply(ys, alpha, ys);
    }

    protected override void ClampCore(Tensor y, float min, float max)
    {
        var ys = F(y);
        for (int i = 0; i < ys.Length; i++)
        {
            ys[i] = Math.Clamp(ys[i], min, max);
        }
    }
}
