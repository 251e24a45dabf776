using Dsl.Data.Text;
using Dsl.Tests.Networks;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Training;

/// <summary>
/// The trainer's own loop adds no allocation to a steady-state step: a network of two inputs trained through
/// <see cref="Trainer.Fit{TBatch}"/> with clipping, the bytes counted between consecutive steps of the second epoch
/// (forward through the recipe's delegate, loss, backward, clipping, step, loss reading and progress). Runs alone in
/// <see cref="SteadyStateAllocationCollection"/> so no other test's allocations are counted.
/// </summary>
[Collection(SteadyStateAllocationCollection.Name)]
public sealed class TrainerAllocationTests
{
    private const int Batches = 60;

    private readonly record struct Step(Tensor A, Tensor B, Tensor Targets, int Index) : ITrainingBatch
    {
        public int Size => A.Size(0);
    }

    private sealed class Source(Step[] batches) : IBatchSource<Step>
    {
        public int BatchSize => batches[0].Size;

        public int BatchesIn(int epoch) => batches.Length;

        public IEnumerable<Step> Epoch(int epoch)
        {
            for (int i = 0; i < batches.Length; i++)
            {
                yield return batches[i] with { Index = i };
            }
        }
    }

    /// <summary>Records the allocated bytes at every step of epoch 2 into a preallocated array.</summary>
    private sealed class Recorder : ITrainingObserver
    {
        public long[] Bytes { get; } = new long[Batches];

        public void EpochStarted(int epoch, int epochs, int batches)
        {
        }

        public void BatchDone(in BatchProgress progress)
        {
            if (progress.Epoch == 2)
            {
                Bytes[progress.Batch - 1] = StepAllocations.Now();
            }
        }

        public void EpochDone(EpochResult result)
        {
        }
    }

    [Fact]
    public void A_steady_state_step_of_the_sequence_trainer_allocates_almost_nothing()
    {
        var rng = new Random(2);
        var batches = Enumerable.Range(0, Batches).Select(i => new Step(
            Tensor.From(Gradients.RandomInputs.Normal(rng, 64 * 4), 64, 4),
            Tensor.From(Gradients.RandomInputs.Normal(rng, 64 * 4), 64, 4),
            Tensor.From(Gradients.RandomInputs.Labels(rng, 64, 3), 64), i)).ToArray();
        var net = new PairNet(Device.Cpu, seed: 1);
        var recorder = new Recorder();
        var trainer = new Trainer(net, new Sgd(net.Parameters, 0.01f, 0.5f), LossKind.CrossEntropy)
        {
            Epochs = 2,
            Progress = recorder,
            ClipGradNorm = 1f,
            ClipGradValue = 0.5f,
        };
        trainer.Fit(new Source(batches), new Source(batches[..4]), b => net.Forward(b.A, b.B));
        // Steps 20..59 of the second epoch: past the first epoch's 60 steps and tiered compilation.
        Assert.All(recorder.Bytes, b => Assert.True(b > 0, "every step of epoch 2 was recorded"));
        long total = recorder.Bytes[^1] - recorder.Bytes[19];
        double perStep = total / (double)(Batches - 20);
        // Fit runs the network through its unpublished path: no result handles, so nothing at all on the step's threads.
        Assert.True(perStep == 0, $"a steady-state trainer step allocated {perStep:F0} bytes on the threads that ran it.");
    }

    [Fact]
    public void A_steady_state_step_over_a_text_batcher_allocates_nothing()
    {
        // A language model's windows through IBatchSource: Fit takes the batcher's unpublished path, so neither the
        // windows' handles nor the network's result handle are allocated.
        const int rows = 4, length = 8;
        var stream = Enumerable.Range(0, rows * length * Batches + 1).Select(i => (i * 7 + i / 13) % 100).ToArray();
        var train = new LanguageModelBatcher(stream, Device.Cpu, rows, length, randomOffset: false);
        var valid = new LanguageModelBatcher(stream[..(rows * length * 2 + 1)], Device.Cpu, rows, length, randomOffset: false);
        Assert.Equal(Batches, train.WindowCount(0));
        var net = new Specs.Networks.CharLstm(Device.Cpu, seed: 1);
        var recorder = new Recorder();
        var trainer = new Trainer(net, new Sgd(net.Parameters, 0.01f, 0.5f), LossKind.CrossEntropy)
        {
            Epochs = 2,
            Progress = recorder,
        };
        trainer.Fit(train, valid, b => net.Forward(b.Input));
        Assert.All(recorder.Bytes, b => Assert.True(b > 0, "every step of epoch 2 was recorded"));
        long total = recorder.Bytes[^1] - recorder.Bytes[19];
        double perStep = total / (double)(Batches - 20);
        Assert.True(perStep == 0, $"a steady-state trainer step over a LanguageModelBatcher allocated {perStep:F0} bytes on the threads that ran it.");
    }
}
