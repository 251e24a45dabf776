namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    public override void Dropout(Tensor x, Tensor mask, Tensor y, float p, ulong seed, int group)
    {
        SameLength(x, mask, nameof(Dropout));
        SameLength(x, y, nameof(Dropout));
        if (group < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(group));
        }
        var xs = F(x);
        var m = F(mask);
        var ys = F(y);
        float scale = p >= 1f ? 0f : 1f / (1f - p);
        for (int i = 0; i < xs.Length; i++)
        {
            float keep = CounterRandom.Uniform(seed, (ulong)(i / group)) >= p ? scale : 0f;
            m[i] = keep;
            ys[i] = xs[i] * keep;
        }
    }
}
