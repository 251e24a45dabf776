using Dsl.Tests.Gradients;
using Dsl.Tests.Networks;
using Xunit;

namespace Dsl.Tests.Sequence;

/// <summary>
/// The sequence kernels keep the CPU's standard: after warm-up, a training step of an embedding, a padded bidirectional
/// LSTM layer, attention pooling, max over time and gradient clipping allocates (almost) nothing (shapes large enough that the
/// GEMMs split over threads). Runs alone in <see cref="SteadyStateAllocationCollection"/> so no other test's
/// allocations are counted.
/// </summary>
[Collection(SteadyStateAllocationCollection.Name)]
public sealed class SequenceAllocationTests
{
    /// <summary>
    /// Bytes a whole step may allocate, far below any buffer of these shapes (one [32,40,64] activation is 327 KB). Steps
    /// measured at 0 to about 110 bytes, landing on different kernels from run to run (ClipValue, which only clamps in
    /// place, among them), while the count included the runtime's background threads; it now counts the threads the
    /// kernels run on (<see cref="StepAllocations"/>), and the budget stays as a margin.
    /// </summary>
    private const long BudgetPerStep = 256;

    [Fact]
    public void Sequence_kernels_allocate_nothing_in_a_steady_state_step()
    {
        const int n = 32, t = 40, vocab = 500, d = 64, h = 64;
        var dev = Device.Cpu;
        var rng = new Random(3);
        var ids = Tensor.From(Enumerable.Range(0, n * t).Select(i => (long)rng.Next(vocab)).ToArray(), dev, n, t);
        var lengths = Tensor.From(Enumerable.Range(0, n).Select(i => (long)(t - i % 7)).ToArray(), dev, n);
        var table = Tensor.From(RandomInputs.Normal(rng, vocab * d), dev, vocab, d);
        var status = dev.Allocate(DType.Int32, 1);
        var emb = Tensor.Zeros(dev, n, t, d);
        var dtable = Tensor.Zeros(dev, vocab, d);
        var parameters = new List<Parameter> { new("table", table) };
        var g = new RecurrentGeometry[2];
        var ws = new Tensor[2];
        var weights = new (Tensor Wih, Tensor Whh, Tensor Bih, Tensor Bhh)[2];
        var grads = new (Parameter Wih, Parameter Whh, Parameter Bih, Parameter Bhh)[2];
        for (int dir = 0; dir < 2; dir++)
        {
            g[dir] = new RecurrentGeometry(RecurrentKind.Lstm, n, t, d, h, dir == 1, 2 * h, dir * h);
            ws[dir] = Tensor.Zeros(dev, (int)RecurrentWorkspace.Size(g[dir]));
            weights[dir] = (Tensor.From(RandomInputs.Uniform(rng, 4 * h * d, -0.1, 0.1), dev, 4 * h, d), Tensor.From(RandomInputs.Uniform(rng, 4 * h * h, -0.1, 0.1), dev, 4 * h, h),
                Tensor.Zeros(dev, 4 * h), Tensor.Zeros(dev, 4 * h));
            grads[dir] = (new("wih" + dir, weights[dir].Wih), new("whh" + dir, weights[dir].Whh), new("bih" + dir, weights[dir].Bih), new("bhh" + dir, weights[dir].Bhh));
            parameters.AddRange(new[] { grads[dir].Wih, grads[dir].Whh, grads[dir].Bih, grads[dir].Bhh });
        }
        var output = Tensor.Zeros(dev, n, t, 2 * h);
        var hLast = Tensor.Zeros(dev, n, h);
        var cLast = Tensor.Zeros(dev, n, h);
        var context = Tensor.From(RandomInputs.Normal(rng, 2 * h), dev, 2 * h);
        var dcontext = Tensor.Zeros(dev, 2 * h);
        var attn = Tensor.Zeros(dev, n, t);
        var pooled = Tensor.Zeros(dev, n, 2 * h);
        var dpooled = Tensor.From(RandomInputs.Normal(rng, n * 2 * h), dev, n, 2 * h);
        var doutput = Tensor.Zeros(dev, n, t, 2 * h);
        var demb = Tensor.Zeros(dev, n, t, d);
        var maxed = Tensor.Zeros(dev, n, 2 * h);
        var argmax = dev.Allocate(DType.Int32, n, 2 * h);
        var transposed = Tensor.From(RandomInputs.Normal(rng, n * 2 * h * t), dev, n, 2 * h, t);
        var dtransposed = Tensor.Zeros(dev, n, 2 * h, t);

        var phases = new (string Name, Action Run)[]
        {
            ("Embedding", () => dev.Embedding(ids, table, emb, status)),
            ("RecurrentForward", () =>
            {
                for (int dir = 0; dir < 2; dir++)
                {
                    var w = weights[dir];
                    dev.RecurrentForward(g[dir], emb, lengths, w.Wih, w.Whh, w.Bih, w.Bhh, null, null, output, hLast, cLast, ws[dir]);
                }
            }),
            ("AttentionPool", () => dev.AttentionPool(output, context, lengths, attn, pooled, n, t, 2 * h)),
            ("MaxOverTime", () =>
            {
                dev.MaxOverTime(transposed, lengths, maxed, argmax, n, 2 * h, t);
                dev.MaxOverTimeBackward(dpooled, argmax, dtransposed, n, 2 * h, t, accumulate: false);
            }),
            ("AttentionPoolBackward", () => dev.AttentionPoolBackward(output, context, attn, dpooled, doutput, dcontext, n, t, 2 * h, accumulateDx: false)),
            ("RecurrentBackward", () =>
            {
                for (int dir = 0; dir < 2; dir++)
                {
                    var w = weights[dir];
                    var p = grads[dir];
                    dev.RecurrentBackward(g[dir], emb, lengths, w.Wih, w.Whh, doutput, null, null, ws[dir], demb, null, null,
                        p.Wih.Grad, p.Whh.Grad, p.Bih.Grad, p.Bhh.Grad, accumulateDx: dir > 0);
                }
            }),
            ("EmbeddingBackward", () => dev.EmbeddingBackward(ids, demb, parameters[0].Grad, paddingIdx: 0)),
            ("ClipNorm", () => GradientClipping.ClipNorm(parameters, 1f)),
            ("ClipValue", () => GradientClipping.ClipValue(parameters, 0.5f)),
        };
        // Enough steps for tiered compilation to settle (re-jitting hot methods allocates a little, once).
        const int warmUp = 100, measured = 3;
        var bytes = new long[phases.Length];
        for (int step = 0; step < warmUp + measured; step++)
        {
            for (int p = 0; p < phases.Length; p++)
            {
                long before = StepAllocations.Now();
                phases[p].Run();
                long after = StepAllocations.Now();
                if (step >= warmUp)
                {
                    bytes[p] += after - before;
                }
            }
        }
        string breakdown = string.Join(", ", phases.Select((ph, i) => $"{ph.Name} {bytes[i] / measured}"));
        Assert.True(bytes.Sum() / measured <= BudgetPerStep, $"a steady-state step of the sequence kernels allocated more than {BudgetPerStep} bytes: {breakdown}.");
    }
}
