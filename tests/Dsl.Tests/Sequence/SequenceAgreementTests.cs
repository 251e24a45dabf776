using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Dsl.Tests.Kernels;
using Xunit;

namespace Dsl.Tests.Sequence;

/// <summary>
/// Every sequence kernel on the CPU device and on the ILGPU kernels (CPU accelerator) with the same random inputs, tiny
/// shapes: both must agree to float rounding (each is also checked against PyTorch or finite differences in its own suite).
/// </summary>
[Collection(IlgpuCpuAcceleratorCollection.Name)]
public sealed class SequenceAgreementTests(IlgpuCpuAcceleratorFixture fixture)
{
    private static readonly Tolerance Agree = new(2e-5, 2e-4);

    private Device Gpu => fixture.Device;

    [Theory]
    [InlineData(RecurrentKind.RnnTanh)]
    [InlineData(RecurrentKind.RnnRelu)]
    [InlineData(RecurrentKind.Lstm)]
    [InlineData(RecurrentKind.Gru)]
    public void Recurrent_forward_and_backward_agree(RecurrentKind kind)
    {
        const int n = 4, t = 7, d = 5, h = 3;
        var g = new RecurrentGeometry(kind, n, t, d, h, Reverse: kind != RecurrentKind.RnnTanh, OutputStride: 2 * h + 1, OutputOffset: 1);
        int gh = g.GateWidth;
        bool lstm = kind == RecurrentKind.Lstm;
        var rng = new Random(90 + (int)kind);
        long[] lengths = { 7, 1, 4, 0 };
        float[] x = RandomInputs.Normal(rng, n * t * d), wih = RandomInputs.Uniform(rng, gh * d, -0.5, 0.5), whh = RandomInputs.Uniform(rng, gh * h, -0.5, 0.5);
        float[] bih = RandomInputs.Normal(rng, gh, 0.3), bhh = RandomInputs.Normal(rng, gh, 0.3), h0 = RandomInputs.Normal(rng, n * h), c0 = RandomInputs.Normal(rng, n * h);
        float[] dOut = RandomInputs.Normal(rng, n * t * g.RowWidth), dhL = RandomInputs.Normal(rng, n * h), dcL = RandomInputs.Normal(rng, n * h);

        float[][] Run(Device dev)
        {
            var xt = Tensor.From(x, dev, n, t, d);
            var (wi, wh) = (Tensor.From(wih, dev, gh, d), Tensor.From(whh, dev, gh, h));
            var len = Tensor.From(lengths, dev, n);
            var output = Tensor.Zeros(dev, n, t, g.RowWidth);
            var hLast = Tensor.Zeros(dev, n, h);
            var cLast = lstm ? Tensor.Zeros(dev, n, h) : null;
            var ws = Tensor.Zeros(dev, (int)RecurrentWorkspace.Size(g));
            dev.RecurrentForward(g, xt, len, wi, wh, Tensor.From(bih, dev, gh), Tensor.From(bhh, dev, gh), Tensor.From(h0, dev, n, h),
                lstm ? Tensor.From(c0, dev, n, h) : null, output, hLast, cLast, ws);
            var dx = Tensor.Zeros(dev, n, t, d);
            var dh0 = Tensor.Zeros(dev, n, h);
            var dc0 = lstm ? Tensor.Zeros(dev, n, h) : null;
            var (dwi, dwh, dbi, dbh) = (Tensor.Zeros(dev, gh, d), Tensor.Zeros(dev, gh, h), Tensor.Zeros(dev, gh), Tensor.Zeros(dev, gh));
            dev.RecurrentBackward(g, xt, len, wi, wh, Tensor.From(dOut, dev, n, t, g.RowWidth), Tensor.From(dhL, dev, n, h),
                lstm ? Tensor.From(dcL, dev, n, h) : null, ws, dx, dh0, dc0, dwi, dwh, dbi, dbh, accumulateDx: false);
            return new[] { output.ToArray(), hLast.ToArray(), cLast?.ToArray() ?? Array.Empty<float>(), dx.ToArray(), dh0.ToArray(),
                dc0?.ToArray() ?? Array.Empty<float>(), dwi.ToArray(), dwh.ToArray(), dbi.ToArray(), dbh.ToArray() };
        }

        Compare(Run(Device.Cpu), Run(Gpu), "output", "hLast", "cLast", "dx", "dh0", "dc0", "dW_ih", "dW_hh", "db_ih", "db_hh");
    }

    [Fact]
    public void Embedding_pools_and_attention_agree()
    {
        const int n = 3, t = 5, d = 4, num = 6;
        var rng = new Random(97);
        long[] ids = { 1, 1, 0, 5, 2, 3, 1, 4, 4, 0, 2, 2, 5, 1, 3 };
        long[] lengths = { 5, 2, 0 };
        float[] table = RandomInputs.Normal(rng, num * d), dy = RandomInputs.Normal(rng, n * t * d), context = RandomInputs.Normal(rng, d);
        float[] dPooled = RandomInputs.Normal(rng, n * d), x = RandomInputs.Distinct(rng, n * d * t);

        float[][] Run(Device dev)
        {
            var idt = Tensor.From(ids, dev, n, t);
            var len = Tensor.From(lengths, dev, n);
            var emb = Tensor.Zeros(dev, n, t, d);
            dev.Embedding(idt, Tensor.From(table, dev, num, d), emb, dev.Allocate(DType.Int32, 1));
            var dtable = Tensor.Zeros(dev, num, d);
            dev.EmbeddingBackward(idt, Tensor.From(dy, dev, n, t, d), dtable, paddingIdx: 1);
            var weights = Tensor.Zeros(dev, n, t);
            var pooled = Tensor.Zeros(dev, n, d);
            var ct = Tensor.From(context, dev, d);
            dev.AttentionPool(emb, ct, len, weights, pooled, n, t, d);
            var demb = Tensor.Zeros(dev, n, t, d);
            var dc = Tensor.Zeros(dev, d);
            dev.AttentionPoolBackward(emb, ct, weights, Tensor.From(dPooled, dev, n, d), demb, dc, n, t, d, accumulateDx: false);
            var xt = Tensor.From(x, dev, n, d, t);
            var max = Tensor.Zeros(dev, n, d);
            var argmax = dev.Allocate(DType.Int32, n, d);
            dev.MaxOverTime(xt, len, max, argmax, n, d, t);
            var dmax = Tensor.Zeros(dev, n, d, t);
            dev.MaxOverTimeBackward(Tensor.From(dPooled, dev, n, d), argmax, dmax, n, d, t, accumulate: false);
            var mean = Tensor.Zeros(dev, n, d);
            dev.MeanOverTime(xt, len, mean, n, d, t);
            var dmean = Tensor.Zeros(dev, n, d, t);
            dev.MeanOverTimeBackward(Tensor.From(dPooled, dev, n, d), len, dmean, n, d, t, accumulate: false);
            var p = new Parameter("table", Tensor.Zeros(dev, num, d));
            dev.Copy(dtable, p.Grad);
            float total = GradientClipping.ClipNorm(new[] { p }, 0.5f, 3f);
            return new[] { emb.ToArray(), dtable.ToArray(), weights.ToArray(), pooled.ToArray(), demb.ToArray(), dc.ToArray(),
                max.ToArray(), Ints(dev, argmax), dmax.ToArray(), mean.ToArray(), dmean.ToArray(), p.Grad.ToArray(), new[] { total } };
        }

        Compare(Run(Device.Cpu), Run(Gpu), "embedding", "dtable", "attention weights", "attention y", "attention dx", "dcontext",
            "max over time", "argmax", "max dx", "mean over time", "mean dx", "clipped grad", "norm");
    }

    private static float[] Ints(Device dev, Tensor t)
    {
        var v = new int[t.Length];
        dev.Download(t, v);
        return v.Select(i => (float)i).ToArray();
    }

    private static void Compare(float[][] cpu, float[][] gpu, params string[] names)
    {
        for (int k = 0; k < names.Length; k++)
        {
            Agree.AssertClose(cpu[k], gpu[k], names[k]);
        }
    }
}
