using System.Numerics.Tensors;
using Dsl.Devices.Cpu.Convolution;

namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    /// <summary>
    /// Fills in parts over the threads as large as an optimiser step's (<see cref="OptimizerPartFloats"/>), so zeroing a
    /// parameter's gradient splits like its update: each core zeroes the range that it then accumulates (a weight gradient
    /// split by rows, see <see cref="CpuGemm.SplitsColumns"/>) and updates, and that range stays in its cache. Zeroed on
    /// the caller alone, the batch-64 MLP's 200,704 fc1 weight gradients crossed to the other core every step: its
    /// two-thread training ran 1.08x one thread's, 1.19x split (measured as told there).
    /// </summary>
    protected override void FillCore(Tensor y, float value)
    {
        var job = new FillJob
        {
            Value = value, Length = checked((int)y.Length), Y = HostBuffers.Floats(y, nameof(Fill), out int yo), YOffset = yo,
        };
        RunElementwise(ref job, OptimizerPartFloats);
    }

    private struct FillJob : IRangeJob, IElementwiseLength
    {
        public float Value;
        public float[] Y;
        public int YOffset;

        public int Length { get; set; }

        public readonly void Run(int start, int end)
        {
            var (from, to) = ElementwiseFloats(start, end, Length);
            Y.AsSpan(YOffset + from, to - from).Fill(Value);
        }
    }

    protected override void CopyCore(Tensor x, Tensor y)
    {
        switch (x.DType)
        {
            case DType.Float32 when x.Storage == y.Storage && Math.Abs(x.Offset - y.Offset) < x.Length:
                F(x).CopyTo(F(y)); // overlapping views of one storage: one memmove, as parts could read what another wrote
                break;
            case DType.Float32: Elementwise(ElementwiseOp.Copy, 0f, x, null, y, nameof(Copy)); break;
            case DType.Int64: L(x).CopyTo(L(y)); break;
            default: I(x).CopyTo(I(y)); break;
        }
    }

    protected override void AddCore(Tensor a, Tensor b, Tensor y) => Elementwise(ElementwiseOp.Add, 0f, a, b, y, nameof(Add));

    protected override void AddReluCore(Tensor a, Tensor b, Tensor y) => Elementwise(ElementwiseOp.AddRelu, 0f, a, b, y, nameof(AddRelu));

    protected override void AxpyCore(float alpha, Tensor x, Tensor y) => Elementwise(ElementwiseOp.Axpy, alpha, x, null, y, nameof(Axpy));

    protected override void MulCore(Tensor a, Tensor b, Tensor y) => Elementwise(ElementwiseOp.Mul, 0f, a, b, y, nameof(Mul));

    /// <summary>
    /// The fewest floats of a part of an element-wise kernel: at memory speed a few microseconds, against the microsecond
    /// or two of a fork, so a thread gets at least one such part. ResNet-20's batch-64 feature maps (800 thousand floats)
    /// split over two threads, and a batch-64 MLP's activations (16 thousand) stay on one thread.
    /// </summary>
    internal const int ElementwisePartFloats = 1 << 14;

    /// <summary>Element-wise parts start at multiples of this many floats, so every part runs the same full-width vector code.</summary>
    private const int ElementwiseBlock = 64;

    /// <summary>
    /// y = op(a, b) element by element, split over the threads in balanced parts (each element's value does not depend on
    /// the split). <paramref name="b"/> is null for the unary ops; <paramref name="alpha"/> is Axpy's scale.
    /// </summary>
    private void Elementwise(ElementwiseOp op, float alpha, Tensor a, Tensor? b, Tensor y, string name)
    {
        var job = new ElementwiseJob
        {
            Op = op, Alpha = alpha, Length = checked((int)y.Length),
            A = HostBuffers.Floats(a, name, out int ao), AOffset = ao,
            B = b is null ? null : HostBuffers.Floats(b, name, out _), BOffset = b is null ? 0 : (int)b.Offset,
            Y = HostBuffers.Floats(y, name, out int yo), YOffset = yo,
        };
        RunElementwise(ref job);
    }

    private void RunElementwise<T>(ref T job, int partFloats = ElementwisePartFloats) where T : struct, IRangeJob, IElementwiseLength
    {
        int blocks = (job.Length + ElementwiseBlock - 1) / ElementwiseBlock;
        ForkJoin.RunBalanced(blocks, partFloats / ElementwiseBlock, Threads, ref job);
    }

    /// <summary>The floats [From, To) of items (blocks) [start, end) of an element-wise job over <paramref name="length"/> floats.</summary>
    private static (int From, int To) ElementwiseFloats(int start, int end, int length) =>
        (start * ElementwiseBlock, Math.Min(length, end * ElementwiseBlock));

    /// <summary>The floats an element-wise job covers; its items are blocks of <see cref="ElementwiseBlock"/> floats.</summary>
    private interface IElementwiseLength
    {
        int Length { get; }
    }

    private enum ElementwiseOp
    {
        Copy,
        Add,
        AddRelu,
        Axpy,
        Mul,
    }

    private struct ElementwiseJob : IRangeJob, IElementwiseLength
    {
        public ElementwiseOp Op;
        public float Alpha;
        public float[] A, Y;
        public float[]? B;
        public int AOffset, BOffset, YOffset;

        public int Length { get; set; }

        public readonly void Run(int start, int end)
        {
            var (from, to) = ElementwiseFloats(start, end, Length);
            var a = A.AsSpan(AOffset + from, to - from);
            var y = Y.AsSpan(YOffset + from, to - from);
            switch (Op)
            {
                case ElementwiseOp.Copy:
                    a.CopyTo(y);
                    break;
                case ElementwiseOp.Add:
                    TensorPrimitives.Add(a, B.AsSpan(BOffset + from, to - from), y);
                    break;
                case ElementwiseOp.AddRelu:
                    AddRelu(a, B.AsSpan(BOffset + from, to - from), y);
                    break;
                case ElementwiseOp.Axpy:
                    if (Alpha == 1f)
                    {
                        TensorPrimitives.Add(a, y, y);
                    }
                    else
                    {
                        TensorPrimitives.MultiplyAdd(a, Alpha, y, y);
                    }
                    break;
                case ElementwiseOp.Mul:
                    TensorPrimitives.Multiply(a, B.AsSpan(BOffset + from, to - from), y);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(Op), Op, "unknown element-wise op");
            }
        }

        private static void AddRelu(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
        {
            // In blocks that stay in L1: the sum is read back for the max while still cached, one pass over memory.
            const int block = 4096;
            for (int at = 0; at < y.Length; at += block)
            {
                int length = Math.Min(block, y.Length - at);
                var part = y.Slice(at, length);
                TensorPrimitives.Add(a.Slice(at, length), b.Slice(at, length), part);
                TensorPrimitives.Max(part, 0f, part);
            }
        }
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
        var job = new CopyChannelsJob
        {
            Src = HostBuffers.Floats(src, nameof(CopyChannels), out int so), SrcBase = so + srcOffset * spatial, SrcStride = srcChannels * spatial,
            Dst = HostBuffers.Floats(dst, nameof(CopyChannels), out int dso), DstBase = dso + dstOffset * spatial, DstStride = dstChannels * spatial,
            Block = count * spatial, Accumulate = accumulate,
        };
        // Per sample, balanced: each sample's block is copied (or added) the same way whatever the split.
        ForkJoin.RunBalanced(batch, Math.Max(1, ElementwisePartFloats / Math.Max(1, job.Block)), Threads, ref job);
    }

    private struct CopyChannelsJob : IRangeJob
    {
        public float[] Src, Dst;
        public int SrcBase, SrcStride, DstBase, DstStride, Block;
        public bool Accumulate;

        public readonly void Run(int start, int end)
        {
            for (int n = start; n < end; n++)
            {
                var from = Src.AsSpan(SrcBase + n * SrcStride, Block);
                var to = Dst.AsSpan(DstBase + n * DstStride, Block);
                if (Accumulate)
                {
                    TensorPrimitives.Add(to, from, to);
                }
                else
                {
                    from.CopyTo(to);
                }
            }
        }
    }
}
