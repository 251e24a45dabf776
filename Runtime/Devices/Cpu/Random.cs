namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void DropoutCore(Tensor x, Tensor mask, Tensor y, float p, ulong seed, int group)
    {
        var xs = F(x);
        var m = F(mask);
        var ys = F(y);
        float scale = p >= 1f ? 0f : 1f / (1f - p);
        if (group > 1)
        {
            // Dropout2d: one draw per channel, then a constant fill and a scaled copy of the whole plane.
            for (int start = 0, k = 0; start < xs.Length; start += group, k++)
            {
                int len = Math.Min(group, xs.Length - start);
                float keep = CounterRandom.Uniform(seed, (ulong)k) >= p ? scale : 0f;
                m.Slice(start, len).Fill(keep);
                System.Numerics.Tensors.TensorPrimitives.Multiply(xs.Slice(start, len), keep, ys.Slice(start, len));
            }
            return;
        }
        for (int i = 0; i < xs.Length; i++)
        {
            float keep = CounterRandom.Uniform(seed, (ulong)i) >= p ? scale : 0f;
            m[i] = keep;
            ys[i] = xs[i] * keep;
        }
    }
}
