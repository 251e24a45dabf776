using Dsl.Tests.Fixtures;
using Xunit;

namespace Dsl.Tests.Gradients;

/// <summary>
/// Scaled dot-product attention, fused (<see cref="Device.Attention"/>) and unfused (<see cref="Device.AttentionReference"/>):
/// forward and backward against PyTorch's explicit math (attention.json), gradients against central differences of a
/// float64 forward, and the two paths against each other on shapes that span several key blocks.
/// </summary>
public class AttentionTests
{
    private const string File = "attention.json";

    public static TheoryData<string> Cases => FixtureFile.CaseNames(File);

    /// <summary>The device under test.</summary>
    protected virtual Device Target => Device.Cpu;

    /// <summary>One call's operands on the target device.</summary>
    private sealed record Operands(Tensor Q, Tensor K, Tensor V, Tensor? Mask, Tensor? KeyPadding, bool Causal, int Heads, Tensor DOutput)
    {
        public int B => Q.Size(0);
        public int T => Q.Size(1);
        public int S => K.Size(1);
        public int Dv => V.Size(2);
    }

    private Operands FromFixture(FixtureCase c)
    {
        Tensor? mask = null, keyPadding = null;
        if (c.HasInput("mask"))
        {
            var m = c.Input("mask");
            mask = c.String("mask") == "bool"
                ? AttentionMath.AdditiveMask(m.Data.Select(v => v != 0f).ToArray(), Target, m.Shape)
                : m.ToTensor(Target);
        }
        if (c.HasInput("key_padding"))
        {
            var p = c.Input("key_padding");
            keyPadding = AttentionMath.AdditiveMask(p.Data.Select(v => v != 0f).ToArray(), Target, p.Shape);
        }
        return new Operands(c.Input("q").ToTensor(Target), c.Input("k").ToTensor(Target), c.Input("v").ToTensor(Target),
            mask, keyPadding, c.Bool("causal"), c.Int("heads"), c.Input("dy").ToTensor(Target));
    }

    private (Tensor Y, Tensor Lse, Tensor Dq, Tensor Dk, Tensor Dv) Fused(Operands o)
    {
        var y = Tensor.Full(Target, float.NaN, o.B, o.T, o.Dv);
        var lse = Tensor.Full(Target, float.NaN, o.B, o.T);
        Target.Attention(o.Q, o.K, o.V, o.Mask, o.KeyPadding, o.Causal, o.Heads, float.NaN, y, lse);
        var (dq, dk, dv) = (Tensor.Full(Target, float.NaN, o.Q.Shape), Tensor.Full(Target, float.NaN, o.K.Shape), Tensor.Full(Target, float.NaN, o.V.Shape));
        Target.AttentionBackward(o.Q, o.K, o.V, o.Mask, o.KeyPadding, o.Causal, o.Heads, float.NaN, y, lse, o.DOutput, dq, dk, dv);
        return (y, lse, dq, dk, dv);
    }

    private (Tensor Y, Tensor Weights, Tensor Dq, Tensor Dk, Tensor Dv) Unfused(Operands o)
    {
        var y = Tensor.Full(Target, float.NaN, o.B, o.T, o.Dv);
        var w = Tensor.Full(Target, float.NaN, o.B, o.T, o.S);
        Target.AttentionReference(o.Q, o.K, o.V, o.Mask, o.KeyPadding, o.Causal, o.Heads, float.NaN, y, w);
        var (dq, dk, dv) = (Tensor.Full(Target, float.NaN, o.Q.Shape), Tensor.Full(Target, float.NaN, o.K.Shape), Tensor.Full(Target, float.NaN, o.V.Shape));
        Target.AttentionReferenceBackward(o.Q, o.K, o.V, float.NaN, w, o.DOutput, dq, dk, dv);
        return (y, w, dq, dk, dv);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_attention_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var (y, _, dq, dk, dv) = Fused(FromFixture(c));
        Tolerance.Reduction.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y");
        Tolerance.Reduction.AssertClose(c.Expected("dq").Data, dq.ToArray(), $"{c} dq");
        Tolerance.Reduction.AssertClose(c.Expected("dk").Data, dk.ToArray(), $"{c} dk");
        Tolerance.Reduction.AssertClose(c.Expected("dv").Data, dv.ToArray(), $"{c} dv");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Unfused_attention_matches_pytorch(string name)
    {
        var c = FixtureFile.Load(File).Case(name);
        var (y, w, dq, dk, dv) = Unfused(FromFixture(c));
        Tolerance.Reduction.AssertClose(c.Expected("y").Data, y.ToArray(), $"{c} y");
        Tolerance.Reduction.AssertClose(c.Expected("weights").Data, w.ToArray(), $"{c} weights");
        Tolerance.Reduction.AssertClose(c.Expected("dq").Data, dq.ToArray(), $"{c} dq");
        Tolerance.Reduction.AssertClose(c.Expected("dk").Data, dk.ToArray(), $"{c} dk");
        Tolerance.Reduction.AssertClose(c.Expected("dv").Data, dv.ToArray(), $"{c} dv");
    }

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, false, false)]
    [InlineData(false, true, true)]
    [InlineData(true, true, true)]
    public void Fused_gradients_match_finite_differences(bool causal, bool mask, bool keyPadding)
    {
        const int n = 2, heads = 2, t = 3, s = 4, d = 3, dv = 2, b = n * heads;
        var rng = new Random(11 + (causal ? 1 : 0) + (mask ? 2 : 0) + (keyPadding ? 4 : 0));
        float[] q = RandomInputs.Normal(rng, b * t * d), k = RandomInputs.Normal(rng, b * s * d), v = RandomInputs.Normal(rng, b * s * dv);
        float[] dy = RandomInputs.Normal(rng, b * t * dv);
        float[]? m = mask ? RandomInputs.Uniform(rng, t * s, -2, 0) : null;
        float[]? pad = keyPadding ? new float[] { 0, 0, 0, float.NegativeInfinity, 0, 0, float.NegativeInfinity, float.NegativeInfinity } : null;
        var o = new Operands(Tensor.From(q, Target, b, t, d), Tensor.From(k, Target, b, s, d), Tensor.From(v, Target, b, s, dv),
            m is null ? null : Tensor.From(m, Target, t, s), pad is null ? null : Tensor.From(pad, Target, n, s), causal, heads, Tensor.From(dy, Target, b, t, dv));
        var (y, _, dq, dk, dvt) = Fused(o);

        double[] Forward(double[] qd, double[] kd, double[] vd) => Reference(qd, kd, vd, m, pad, causal, heads, b, t, s, d, dv);
        double[] qx = RandomInputs.ToDoubles(q), kx = RandomInputs.ToDoubles(k), vx = RandomInputs.ToDoubles(v), dyx = RandomInputs.ToDoubles(dy);
        Tolerance.Reduction.AssertClose(Forward(qx, kx, vx), y.ToArray(), "y");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(x => Forward(x, kx, vx), qx, dyx), dq.ToArray(), "dq");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(x => Forward(qx, x, vx), kx, dyx), dk.ToArray(), "dk");
        Tolerance.FiniteDifference.AssertClose(FiniteDifference.Gradient(x => Forward(qx, kx, x), vx, dyx), dvt.ToArray(), "dv");
    }

    [Theory]
    [InlineData(1, 2, 5, 130, 8, 6, false)]   // keys span three blocks of 64
    [InlineData(2, 1, 70, 70, 4, 4, true)]    // causal across a block boundary
    public void Fused_and_unfused_agree_across_key_blocks(int n, int heads, int t, int s, int d, int dv, bool causal)
    {
        int b = n * heads;
        var rng = new Random(t * 7 + s);
        var pad = new float[n * s];
        pad[s - 1] = float.NegativeInfinity;
        var o = new Operands(Tensor.From(RandomInputs.Normal(rng, b * t * d, 2.0), Target, b, t, d), Tensor.From(RandomInputs.Normal(rng, b * s * d, 2.0), Target, b, s, d),
            Tensor.From(RandomInputs.Normal(rng, b * s * dv), Target, b, s, dv), Tensor.From(RandomInputs.Uniform(rng, t * s, -1, 0), Target, t, s),
            Tensor.From(pad, Target, n, s), causal, heads, Tensor.From(RandomInputs.Normal(rng, b * t * dv), Target, b, t, dv));
        var fused = Fused(o);
        var unfused = Unfused(o);
        var agree = new Tolerance(2e-5, 2e-4);
        agree.AssertClose(unfused.Y.ToArray(), fused.Y.ToArray(), "y");
        agree.AssertClose(unfused.Dq.ToArray(), fused.Dq.ToArray(), "dq");
        agree.AssertClose(unfused.Dk.ToArray(), fused.Dk.ToArray(), "dk");
        agree.AssertClose(unfused.Dv.ToArray(), fused.Dv.ToArray(), "dv");
    }

    [Fact]
    public void Fully_masked_rows_give_zero_output_and_gradients_in_the_fused_kernel()
    {
        var rng = new Random(3);
        var o = new Operands(Tensor.From(RandomInputs.Normal(rng, 2 * 3), Target, 1, 2, 3), Tensor.From(RandomInputs.Normal(rng, 2 * 3), Target, 1, 2, 3),
            Tensor.From(RandomInputs.Normal(rng, 2 * 2), Target, 1, 2, 2), null,
            Tensor.From(new[] { float.NegativeInfinity, float.NegativeInfinity }, Target, 1, 2), false, 1, Tensor.From(RandomInputs.Normal(rng, 2 * 2), Target, 1, 2, 2));
        var (y, lse, dq, dk, dv) = Fused(o);
        Assert.All(y.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(lse.ToArray(), v => Assert.Equal(float.NegativeInfinity, v));
        Assert.All(dq.ToArray().Concat(dk.ToArray()).Concat(dv.ToArray()), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Queries_and_keys_of_different_widths_are_rejected_naming_both()
    {
        var ex = Assert.Throws<ArgumentException>(() => Target.Attention(Tensor.Zeros(Target, 2, 3, 4), Tensor.Zeros(Target, 2, 5, 6), Tensor.Zeros(Target, 2, 5, 4),
            null, null, false, 1, float.NaN, Tensor.Zeros(Target, 2, 3, 4), Tensor.Zeros(Target, 2, 3)));
        Assert.Contains("[2,3,4]", ex.Message);
        Assert.Contains("[2,5,6]", ex.Message);
        Assert.Throws<ArgumentException>(() => Target.Attention(Tensor.Zeros(Target, 3, 3, 4), Tensor.Zeros(Target, 3, 5, 4), Tensor.Zeros(Target, 3, 5, 4),
            null, null, false, 2, float.NaN, Tensor.Zeros(Target, 3, 3, 4), Tensor.Zeros(Target, 3, 3)));
    }

    /// <summary>softmax(q k^T / sqrt(d) + masks) v in float64, the oracle for finite differences.</summary>
    internal static double[] Reference(double[] q, double[] k, double[] v, float[]? mask, float[]? keyPadding, bool causal, int heads, int b, int t, int s, int d, int dv)
    {
        var y = new double[b * t * dv];
        var w = new double[s];
        for (int p = 0; p < b; p++)
        {
            for (int i = 0; i < t; i++)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < s; j++)
                {
                    double dot = 0;
                    for (int c = 0; c < d; c++)
                    {
                        dot += q[(p * t + i) * d + c] * k[(p * s + j) * d + c];
                    }
                    double score = dot / Math.Sqrt(d) + (mask?[i * s + j] ?? 0) + (keyPadding?[p / heads * s + j] ?? 0);
                    w[j] = causal && j > i ? double.NegativeInfinity : score;
                    max = Math.Max(max, w[j]);
                }
                double sum = 0;
                for (int j = 0; j < s; j++)
                {
                    w[j] = Math.Exp(w[j] - max);
                    sum += w[j];
                }
                for (int j = 0; j < s; j++)
                {
                    for (int c = 0; c < dv; c++)
                    {
                        y[(p * t + i) * dv + c] += w[j] / sum * v[(p * s + j) * dv + c];
                    }
                }
            }
        }
        return y;
    }
}
