using System.Numerics.Tensors;

namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void FillCore(Tensor y, float value) => F(y, nameof(Fill)).Fill(value);

    protected override void CopyCore(Tensor x, Tensor y)
    {
        switch (x.DType)
        {
            case DType.Float32: F(x).CopyTo(F(y)); break;
            case DType.Int64: L(x).CopyTo(L(y)); break;
            default: I(x).CopyTo(I(y)); break;
        }
    }

    protected override void AddCore(Tensor a, Tensor b, Tensor y)
    {
        TensorPrimitives.Add(F(a), F(b), F(y));
    }

    protected override void AddReluCore(Tensor a, Tensor b, Tensor y)
    {
        var ys = F(y, nameof(AddRelu));
        var av = F(a);
        var bv = F(b);
        // In blocks that stay in L1: the sum is read back for the max while still cached, one pass over memory.
        const int block = 4096;
        for (int at = 0; at < ys.Length; at += block)
        {
            int length = Math.Min(block, ys.Length - at);
            var part = ys.Slice(at, length);
            TensorPrimitives.Add(av.Slice(at, length), bv.Slice(at, length), part);
            TensorPrimitives.Max(part, 0f, part);
        }
    }

    protected override void AxpyCore(float alpha, Tensor x, Tensor y)
    {
        if (alpha == 1f)
        {
            TensorPrimitives.Add(F(x), F(y), F(y));
        }
        else
        {
            TensorPrimitives.MultiplyAdd(F(x), alpha, F(y), F(y));
        }
    }

    protected override void MulCore(Tensor a, Tensor b, Tensor y)
    {
        TensorPrimitives.Multiply(F(a), F(b), F(y));
    }

    /// <summary>
    /// The most rows a <see cref="Device.Linear"/> computes as dot products of x's rows with w's: a batch-1 evaluation
    /// (320 x 50) took 20-40 microseconds in the packed GEMM, most of it packing w, and a microsecond or two this way.
    /// </summary>
    internal const int LinearDotRows = 2;

    protected override void LinearCore(int rows, int inF, int outF, Tensor x, Tensor w, Tensor? b, Tensor y)
    {
        if (rows > LinearDotRows || (b is not null && (b.DType != DType.Float32 || b.Length != outF)))
        {
            base.LinearCore(rows, inF, outF, x, w, b, y);
            return;
        }
        var xs = F(x, nameof(Linear));
        var ws = F(w, nameof(Linear));
        var ys = F(y, nameof(Linear));
        var bs = b is null ? default : F(b, nameof(Linear));
        for (int r = 0; r < rows; r++)
        {
            var row = xs.Slice(r * inF, inF);
            for (int o = 0; o < outF; o++)
            {
                float dot = TensorPrimitives.Dot(row, ws.Slice(o * inF, inF));
                ys[r * outF + o] = b is null ? dot : dot + bs[o];
            }
        }
    }

    protected override void AddBiasCore(Tensor y, Tensor bias, int inner)
    {
        var ys = F(y, nameof(AddBias));
        var b = F(bias, nameof(AddBias));
        int c = b.Length;
        int row = c * inner;
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

    protected override void BiasGradCore(Tensor dy, Tensor db, int inner, bool accumulate)
    {
        var g = F(dy, nameof(BiasGrad));
        var d = F(db, nameof(BiasGrad));
        int c = d.Length;
        int row = c * inner;
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
    protected override void CopyChannelsCore(Tensor src, int srcChannels, int srcOffset, Tensor dst, int dstChannels, int dstOffset,
        int count, int batch, int spatial, bool accumulate)
    {
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
