using Dsl.Tests.Gradients;
using Dsl.Tests.Networks;
using Specs.Networks;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Recurrent;

/// <summary>
/// A steady-state training step of <see cref="BiLstmAttention"/> (Forward, Loss.CrossEntropy reusing its result, ZeroGrad,
/// Backward, Adam) allocates nothing once the longest batch has passed, batches of two lengths alternating: the
/// workspaces, inner outputs and lengths grow once and are reused. Counted on the threads the step runs on
/// (<see cref="StepAllocations"/>: the calling thread and the CPU pool's workers), not the test host's. Runs alone
/// (<see cref="SteadyStateAllocationCollection"/>).
/// </summary>
[Collection(SteadyStateAllocationCollection.Name)]
public sealed class RecurrentAllocationTests
{
    private const int WarmUpSteps = 30;
    private const int MeasuredSteps = 6;
    private const int Rounds = 3;
    private readonly ITestOutputHelper _output;

    public RecurrentAllocationTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void BiLstmAttention_training_steps_of_two_lengths_allocate_nothing_after_warm_up()
    {
        var rng = new Random(2);
        var net = new BiLstmAttention(Device.Cpu, seed: 1);
        var adam = new Adam(net.Parameters, lr: 1e-3f);
        var batches = new[] { 40, 23 }.Select(t =>
        {
            var (tokens, mask) = RecurrentSpecTests.Batch(rng, 2000, t, Enumerable.Range(0, 32).Select(i => t - i % 9).ToArray());
            return (Tokens: tokens, Mask: mask, Labels: Tensor.From(RandomInputs.Labels(rng, 32, BiLstmAttention.Topics), Device.Cpu, 32));
        }).ToArray();
        LossResult? loss = null;
        Tensor? logits = null;
        int at = 0;
        var phases = new (string Name, Action Run)[]
        {
            ("Forward", () => logits = net.Forward(batches[at].Tokens, batches[at].Mask)),
            ("Loss.CrossEntropy", () => loss = Loss.CrossEntropy(logits!, batches[at].Labels, loss)),
            ("ZeroGrad", () => net.ZeroGrad()),
            ("Backward", () => net.Backward(loss!.Gradient)),
            ("Adam.Step", () => adam.Step()),
        };
        // Per phase, the fewest bytes of Rounds rounds of MeasuredSteps steps: what a steady state allocates recurs in every
        // round, what the runtime does once (tiered compilation on the test or a worker thread) lands in one round only
        // (StepAllocations.FewestInRounds); a full suite once saw such a blip here.
        var bytes = Enumerable.Repeat(long.MaxValue, phases.Length).ToArray();
        var round = new long[phases.Length];
        float first = float.NaN;
        for (int step = 0; step < WarmUpSteps + Rounds * MeasuredSteps; step++)
        {
            at = step % 2;
            for (int p = 0; p < phases.Length; p++)
            {
                long before = StepAllocations.Now();
                phases[p].Run();
                long after = StepAllocations.Now();
                if (step >= WarmUpSteps)
                {
                    round[p] += after - before;
                }
            }
            if (step >= WarmUpSteps && (step - WarmUpSteps + 1) % MeasuredSteps == 0)
            {
                for (int p = 0; p < phases.Length; p++)
                {
                    bytes[p] = Math.Min(bytes[p], round[p]);
                    round[p] = 0;
                }
            }
            if (step == 1)
            {
                // The first loss of the batch the last measured step trains on.
                first = loss!.Value;
            }
        }
        var perStep = bytes.Select(b => b / (double)MeasuredSteps).ToArray();
        string breakdown = $"{perStep.Sum():F0} bytes per step, the fewest of {Rounds} rounds of {MeasuredSteps} steps after {WarmUpSteps} warm-up steps ("
            + string.Join(", ", phases.Select((ph, p) => $"{ph.Name} {perStep[p]:F0}")) + $"); loss {first:F3} -> {loss!.Value:F3}";
        _output.WriteLine(breakdown);
        Assert.True(float.IsFinite(loss.Value) && loss.Value < first, $"the steps did not train: {breakdown}");
        // Exactly the one result handle Forward returns (StepAllocations.HandleBytes); nothing else.
        Assert.True(perStep[0] == StepAllocations.HandleBytes && perStep.Skip(1).Sum() == 0,
            $"a steady-state training step allocated {perStep.Sum():F0} bytes on the threads that ran it, expected only Forward's result handle ({StepAllocations.HandleBytes}): {breakdown}.");
    }
}
