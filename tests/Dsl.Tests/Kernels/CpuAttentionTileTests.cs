using Dsl.Devices.Cpu;
using Dsl.Tests.Fixtures;
using Dsl.Tests.Gradients;
using Xunit;

namespace Dsl.Tests.Kernels;

/// <summary>
/// The tiled fused attention kernel of the CPU backend at the edges of its tiles (64 query rows, 64 keys, widths padded to
/// 16): lengths that are not multiples of a tile, a single query or key, causal masks with more or fewer queries than
/// keys, widths that need padding and widths that do not, against the unfused reference; results that do not depend on
/// the thread count; and a repeated call that allocates nothing.
/// </summary>
public class CpuAttentionTileTests
{
    private sealed record Case(int N, int Heads, int T, int S, int D, int Dv, bool Causal, bool Masks)
    {
        public int B => N * Heads;
    }

    private static (Tensor Q, Tensor K, Tensor V, Tensor? Mask, Tensor? Pad, Tensor DOut) Operands(Case c, Device dev)
    {
        var rng = new Random(c.T * 131 + c.S * 17 + c.D * 3 + c.Dv + (c.Causal ? 1 : 0));
        Tensor? mask = null, pad = null;
        if (c.Masks)
        {
            mask = Tensor.From(RandomInputs.Uniform(rng, c.T * c.S, -1, 0), dev, c.T, c.S);
            var p = new float[c.N * c.S];
            p[c.S - 1] = c.S > 1 ? float.NegativeInfinity : 0f; // a padded key, never a row's only one
            pad = Tensor.From(p, dev, c.N, c.S);
        }
        return (Tensor.From(RandomInputs.Normal(rng, c.B * c.T * c.D, 1.5), dev, c.B, c.T, c.D),
            Tensor.From(RandomInputs.Normal(rng, c.B * c.S * c.D, 1.5), dev, c.B, c.S, c.D),
            Tensor.From(RandomInputs.Normal(rng, c.B * c.S * c.Dv), dev, c.B, c.S, c.Dv), mask, pad,
            Tensor.From(RandomInputs.Normal(rng, c.B * c.T * c.Dv), dev, c.B, c.T, c.Dv));
    }

    private static float[][] Fused(Case c, Device dev)
    {
        var (q, k, v, mask, pad, dOut) = Operands(c, dev);
        var (y, lse) = (Tensor.Full(dev, float.NaN, c.B, c.T, c.Dv), Tensor.Full(dev, float.NaN, c.B, c.T));
        dev.Attention(q, k, v, mask, pad, c.Causal, c.Heads, float.NaN, y, lse);
        var (dq, dk, dv) = (Tensor.Full(dev, float.NaN, q.Shape), Tensor.Full(dev, float.NaN, k.Shape), Tensor.Full(dev, float.NaN, v.Shape));
        dev.AttentionBackward(q, k, v, mask, pad, c.Causal, c.Heads, float.NaN, y, lse, dOut, dq, dk, dv);
        return [y.ToArray(), dq.ToArray(), dk.ToArray(), dv.ToArray()];
    }

    private static float[][] Unfused(Case c, Device dev)
    {
        var (q, k, v, mask, pad, dOut) = Operands(c, dev);
        var (y, w) = (Tensor.Full(dev, float.NaN, c.B, c.T, c.Dv), Tensor.Full(dev, float.NaN, c.B, c.T, c.S));
        dev.AttentionReference(q, k, v, mask, pad, c.Causal, c.Heads, float.NaN, y, w);
        var (dq, dk, dv) = (Tensor.Full(dev, float.NaN, q.Shape), Tensor.Full(dev, float.NaN, k.Shape), Tensor.Full(dev, float.NaN, v.Shape));
        dev.AttentionReferenceBackward(q, k, v, float.NaN, w, dOut, dq, dk, dv);
        return [y.ToArray(), dq.ToArray(), dk.ToArray(), dv.ToArray()];
    }

    [Theory]
    [InlineData(1, 1, 1, 1, 4, 3, false, false)]       // one query, one key
    [InlineData(1, 2, 1, 200, 20, 5, false, true)]     // one query against four key blocks, the last partial
    [InlineData(2, 1, 65, 63, 17, 33, false, true)]    // one row past a query tile, a key block short of full
    [InlineData(1, 1, 130, 129, 64, 64, true, true)]   // unpadded widths, causal over several tiles
    [InlineData(1, 2, 70, 100, 24, 16, true, false)]   // causal with fewer queries than keys
    [InlineData(1, 1, 100, 70, 16, 24, true, true)]    // causal with more queries than keys
    [InlineData(3, 1, 64, 64, 80, 72, false, true)]    // exactly one tile, widths of a 64-wide block plus a tail
    [InlineData(1, 1, 9, 150, 3, 1, true, false)]      // causal: most key blocks skipped
    public void Fused_matches_the_unfused_reference_at_tile_edges(int n, int heads, int t, int s, int d, int dv, bool causal, bool masks)
    {
        var c = new Case(n, heads, t, s, d, dv, causal, masks);
        var fused = Fused(c, Device.Cpu);
        var unfused = Unfused(c, Device.Cpu);
        var agree = new Tolerance(3e-5, 3e-4);
        string[] names = ["y", "dq", "dk", "dv"];
        for (int i = 0; i < names.Length; i++)
        {
            agree.AssertClose(unfused[i], fused[i], $"{names[i]} of {c}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Both_vector_widths_of_the_tile_products_match_the_reference(bool wide)
    {
        // One thread, so every tile runs on this thread and sees the override (each machine runs only one width by itself).
        var c = new Case(1, 2, 70, 90, 20, 72, true, true);
        var dev = new CpuDevice(1);
        var unfused = Unfused(c, dev);
        AttentionTiles.WideOverride = wide;
        try
        {
            var fused = Fused(c, dev);
            var agree = new Tolerance(3e-5, 3e-4);
            string[] names = ["y", "dq", "dk", "dv"];
            for (int i = 0; i < names.Length; i++)
            {
                agree.AssertClose(unfused[i], fused[i], $"{names[i]} (wide {wide})");
            }
        }
        finally
        {
            AttentionTiles.WideOverride = null;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Results_do_not_depend_on_the_thread_count(bool causal)
    {
        var c = new Case(2, 3, 150, 90, 20, 12, causal, true);
        var one = Fused(c, new CpuDevice(1));
        var two = Fused(c, new CpuDevice(2));
        for (int i = 0; i < one.Length; i++)
        {
            Assert.Equal(one[i], two[i]);
        }
    }

    [Fact]
    public void A_repeated_call_allocates_nothing()
    {
        var c = new Case(1, 2, 100, 90, 20, 12, true, true);
        var dev = Device.Cpu;
        var (q, k, v, mask, pad, dOut) = Operands(c, dev);
        var (y, lse) = (Tensor.Zeros(dev, c.B, c.T, c.Dv), Tensor.Zeros(dev, c.B, c.T));
        var (dq, dk, dv) = (Tensor.Zeros(dev, q.Shape), Tensor.Zeros(dev, k.Shape), Tensor.Zeros(dev, v.Shape));
        void Step()
        {
            dev.Attention(q, k, v, mask, pad, c.Causal, c.Heads, float.NaN, y, lse);
            dev.AttentionBackward(q, k, v, mask, pad, c.Causal, c.Heads, float.NaN, y, lse, dOut, dq, dk, dv);
        }
        Step();
        Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Step();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
