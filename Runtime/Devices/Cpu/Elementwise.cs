using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    public override void Fill(Tensor y, float value) => F(y, nameof(Fill)).Fill(value);

    public override void Copy(Tensor x, Tensor y)
    {
        SameLength(x, y, nameof(Copy));
        switch (x.DType)
        {
            case DType.Float32: F(x).CopyTo(F(y)); break;
            case DType.Int64: L(x).CopyTo(L(y)); break;
            default: I(x).CopyTo(I(y)); break;
        }
    }

    public override void Add(Tensor a, Tensor b, Tensor y)
    {
        SameLength(a, b, nameof(Add));
        SameLength(a, y, nameof(Add));
        TensorPrimitives.Add(F(a), F(b), F(y));
    }

    public override void Axpy(float alpha, Tensor x, Tensor y)
    {
        SameLength(x, y, nameof(Axpy));
        if (alpha == 1f)
        {
            TensorPrimitives.Add(F(x), F(y), F(y));
        }
        else
        {
            TensorPrimitives.MultiplyAdd(F(x), alpha, F(y), F(y));
        }
    }

    public override void Mul(Tensor a, Tensor b, Tensor y)
    {
        SameLength(a, b, nameof(Mul));
        SameLength(a, y, nameof(Mul));
        TensorPrimitives.Multiply(F(a), F(b), F(y));
    }

    public override void AddBias(Tensor y, Tensor bias, int inner)
    {
        var ys = F(y, nameof(AddBias));
        var b = F(bias, nameof(AddBias));
        int c = b.Length;
        int row = c * inner;
        if (row == 0 || ys.Length % row != 0)
        {
            throw new ArgumentException($"{nameof(AddBias)}: {y} is not a whole number of [{c},{inner}] blocks.");
        }
        int outer = ys.Length / row;
        var job = new AddBiasJob
        {
            Y = ((CpuStorage)y.Storage).Floats!, YOffset = (int)y.Offset, Bias = ((CpuStorage)bias.Storage).Floats!,
            BiasOffset = (int)bias.Offset, Channels = c, Inner = inner,
        };
        ParallelRange(outer, Math.Max(1, 32768 / row), ref job);
    }

    private struct AddBiasJob : IRangeJob
    {
        public float[] Y, Bias;
        public int YOffset, BiasOffset, Channels, Inner;

        public readonly void Run(int start, int end)
        {
            int c = Channels, inner = Inner, row = c * inner;
            var b = Bias.AsSpan(BiasOffset, c);
            for (int o = start; o < end; o++)
            {
                var r = Y.AsSpan(YOffset + o * row, row);
                if (inner == 1)
                {
                    TensorPrimitives.Add(r, b, r);
                }
                else
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        var seg = r.Slice(ch * inner, inner);
                        TensorPrimitives.Add(seg, b[ch], seg);
                    }
                }
            }
        }
    }

    public override void BiasGrad(Tensor dy, Tensor db, int inner, bool accumulate)
    {
        var g = F(dy, nameof(BiasGrad));
        var d = F(db, nameof(BiasGrad));
        int c = d.Length;
        int row = c * inner;
        if (row == 0 || g.Length % row != 0)
        {
            throw new ArgumentException($"{nameof(BiasGrad)}: {dy} is not a whole number of [{c},{inner}] blocks.");
        }
        int outer = g.Length / row;
        if (!accumulate)
        {
            d.Clear();
        }
        for (int o = 0; o < outer; o++)
        {
            var r = g.Slice(o * row, row);
            if (inner == 1)
            {
                TensorPrimitives.Add(d, r, d);
            }
            else
            {
                for (int ch = 0; ch < c; ch++)
                {
                    d[ch] += TensorPrimitives.Sum(r.Slice(ch * inner, inner));
                }
            }
        }
    }
}

public sealed partial class CpuDevice
{
    public override void CopyChannels(Tensor src, int srcChannels, int srcOffset, Tensor dst, int dstChannels, int dstOffset,
        int count, int batch, int spatial, bool accumulate)
    {
        RequireLength(src, (long)batch * srcChannels * spatial, nameof(CopyChannels), "src");
        RequireLength(dst, (long)batch * dstChannels * spatial, nameof(CopyChannels), "dst");
        if (srcOffset < 0 || dstOffset < 0 || srcOffset + count > srcChannels || dstOffset + count > dstChannels)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"{nameof(CopyChannels)}: channels {srcOffset}+{count} of {srcChannels} -> {dstOffset}+{count} of {dstChannels} do not fit.");
        }
        var s = F(src);
        var d = F(dst);
        int block = count * spatial;
        for (int n = 0; n < batch; n++)
        {
            var from = s.Slice((n * srcChannels + srcOffset) * spatial, block);
            var to = d.Slice((n * dstChannels + dstOffset) * spatial, block);
            if (accumulate)
            {
                System.Numerics.Tensors.TensorPrimitives.Add(to, from, to);
            }
            else
            {
                from.CopyTo(to);
            }
        }
    }
}
