using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Training;

/// <summary>
/// <see cref="Trainer.Fit{TBatch}"/> with generated networks of two inputs, called through the typed
/// <see cref="BatchForward{TBatch}"/> a recipe supplies: a classifier of two vectors and a per-step tagger of padded
/// sequences (scores [N,T,C], padding ignored), each learning a toy rule far above chance; clipping wired in.
/// </summary>
public sealed class SequenceTrainerTests
{
    /// <summary>A batch of two inputs with its targets.</summary>
    public readonly record struct PairBatch(Tensor A, Tensor B, Tensor Targets, int Index) : ITrainingBatch
    {
        public int Size => A.Size(0);
    }

    /// <summary>Fixed batches, shuffled per epoch by a seeded permutation of their order.</summary>
    private sealed class FixedSource<T>(IReadOnlyList<Func<int, T>> batches, int batchSize) : IBatchSource<T>
        where T : ITrainingBatch
    {
        public int BatchSize => batchSize;

        public int BatchesIn(int epoch) => batches.Count;

        public IEnumerable<T> Epoch(int epoch)
        {
            var order = Enumerable.Range(0, batches.Count).OrderBy(i => (i * 7919 + epoch * 104729) % 1009).ToArray();
            for (int i = 0; i < order.Length; i++)
            {
                yield return batches[order[i]](i);
            }
        }
    }

    /// <summary>Label = the arg-max of the first three components of a - b: a rule neither input decides alone.</summary>
    private static FixedSource<PairBatch> Pairs(int count, int batchSize, int seed)
    {
        var rng = new Random(seed);
        var batches = new List<Func<int, PairBatch>>();
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            var a = new float[n * 4];
            var b = new float[n * 4];
            var y = new long[n];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < 4; j++)
                {
                    a[i * 4 + j] = (float)(rng.NextDouble() * 2 - 1);
                    b[i * 4 + j] = (float)(rng.NextDouble() * 2 - 1);
                }
                int best = 0;
                for (int j = 1; j < 3; j++)
                {
                    if (a[i * 4 + j] - b[i * 4 + j] > a[i * 4 + best] - b[i * 4 + best])
                    {
                        best = j;
                    }
                }
                y[i] = best;
            }
            var (ta, tb, ty) = (Tensor.From(a, n, 4), Tensor.From(b, n, 4), Tensor.From(y, n));
            batches.Add(index => new PairBatch(ta, tb, ty, index));
        }
        return new FixedSource<PairBatch>(batches, batchSize);
    }

    private static Trainer Make(Module net, int epochs, float? clipNorm = null) => new(net, new Adam(net.Parameters, 0.01f), LossKind.CrossEntropy)
    {
        Epochs = epochs,
        Progress = TrainingProgress.None,
        ClipGradNorm = clipNorm,
    };

    [Fact]
    public void A_network_of_two_inputs_learns_a_rule_of_both()
    {
        var net = new PairNet(Device.Cpu, seed: 3);
        var train = Pairs(1024, 32, seed: 1);
        var test = Pairs(256, 32, seed: 2);
        var history = Make(net, epochs: 8, clipNorm: 5f).Fit(train, test, b => net.Forward(b.A, b.B));
        Assert.Equal(8, history.Epochs.Count);
        Assert.True(history.Epochs[^1].TestAccuracy > 0.9, $"test accuracy {history.Epochs[^1].TestAccuracy:F3} (chance 1/3)");
        Assert.True(history.Epochs[^1].TrainLoss < history.Epochs[0].TrainLoss / 2, "the training loss should fall");
        // The trainer's figure agrees with an evaluation computed apart from the training loop.
        var evaluation = Trainer.Evaluate(net, test, b => net.Forward(b.A, b.B), LossKind.CrossEntropy, topK: 2);
        Assert.Equal(history.Epochs[^1].TestAccuracy, evaluation.Accuracy, 9);
        Assert.Equal(256, evaluation.Samples);
    }

    /// <summary>A padded batch of sequences: target at each step = arg-max of the step's first three features; padding ignored.</summary>
    public readonly record struct StepBatch(Tensor X, Tensor Mask, Tensor Targets, int Index) : ITrainingBatch
    {
        public int Size => X.Size(0);
    }

    private static FixedSource<StepBatch> Steps(int batches, int batchSize, int seed)
    {
        var rng = new Random(seed);
        var list = new List<Func<int, StepBatch>>();
        for (int k = 0; k < batches; k++)
        {
            int t = 3 + rng.Next(6);
            var x = new float[batchSize * t * 4];
            var mask = new float[batchSize * t];
            var y = new long[batchSize * t];
            for (int i = 0; i < batchSize; i++)
            {
                int length = 1 + rng.Next(t);
                for (int s = 0; s < t; s++)
                {
                    int at = (i * t + s) * 4;
                    for (int j = 0; j < 4; j++)
                    {
                        x[at + j] = (float)(rng.NextDouble() * 2 - 1);
                    }
                    int best = 0;
                    for (int j = 1; j < 3; j++)
                    {
                        best = x[at + j] > x[at + best] ? j : best;
                    }
                    mask[i * t + s] = s < length ? 1f : 0f;
                    // Padding gets a target that would be wrong if it counted: only ignoring it lets the rule be learnt.
                    y[i * t + s] = s < length ? best : Loss.DefaultIgnoreIndex;
                }
            }
            var (tx, tm, ty) = (Tensor.From(x, batchSize, t, 4), Tensor.From(mask, batchSize, t), Tensor.From(y, batchSize, t));
            list.Add(index => new StepBatch(tx, tm, ty, index));
        }
        return new FixedSource<StepBatch>(list, batchSize);
    }

    [Fact]
    public void A_per_step_model_trains_on_padded_sequences_with_the_padding_ignored()
    {
        var net = new StepTaggerNet(Device.Cpu, seed: 4);
        var train = Steps(40, 16, seed: 5);
        var test = Steps(10, 16, seed: 6);
        var history = Make(net, epochs: 6).Fit(train, test, b => net.Forward(b.X, b.Mask));
        var evaluation = Trainer.Evaluate(net, test, b => net.Forward(b.X, b.Mask), LossKind.CrossEntropy, topK: 1);
        // ln 3 = 1.10 is chance; the rule is learnable to a small loss (and accuracy, over the steps not ignored, high).
        Assert.True(history.Epochs[^1].TestLoss < 0.5, $"test loss {history.Epochs[^1].TestLoss:F3} (chance ln 3 = 1.099)");
        Assert.Equal(history.Epochs[^1].TestLoss, evaluation.Loss, 5);
        Assert.True(evaluation.Accuracy > 0.8, $"accuracy {evaluation.Accuracy:F3} over the steps not ignored (chance 1/3)");
        Assert.True(evaluation.ConfusionMatrix[0, 0] + evaluation.ConfusionMatrix[1, 1] + evaluation.ConfusionMatrix[2, 2] > 0);
    }

    [Fact]
    public void Accuracy_over_steps_counts_only_the_targets_that_are_not_ignored()
    {
        var net = new StepTaggerNet(Device.Cpu, seed: 4);
        var data = Steps(4, 8, seed: 9);
        net.Eval();
        long counted = 0, correct = 0, steps = 0;
        foreach (var b in data.Epoch(0))
        {
            var scores = net.Forward(b.X, b.Mask).ToArray();
            var y = b.Targets.ToInt64Array();
            steps += y.Length;
            for (int r = 0; r < y.Length; r++)
            {
                if (y[r] == Loss.DefaultIgnoreIndex)
                {
                    continue;
                }
                counted++;
                var row = scores.AsSpan(r * 3, 3);
                int best = row[1] > row[0] ? 1 : 0;
                best = row[2] > row[best] ? 2 : best;
                correct += best == y[r] ? 1 : 0;
            }
        }
        var evaluation = Trainer.Evaluate(net, data, b => net.Forward(b.X, b.Mask), LossKind.CrossEntropy, topK: 1);
        Assert.True(counted < steps, "the batches should hold padding");
        Assert.Equal(counted, evaluation.Samples);
        Assert.Equal((double)correct / counted, evaluation.Accuracy, 12);
        Assert.Equal(evaluation.Accuracy, evaluation.TopKAccuracy, 12);
    }

    [Fact]
    public void Clipping_by_a_tiny_norm_slows_learning_so_the_clip_is_really_applied()
    {
        var train = Pairs(512, 32, seed: 7);
        var test = Pairs(128, 32, seed: 8);
        var free = new PairNet(Device.Cpu, seed: 9);
        var clipped = new PairNet(Device.Cpu, seed: 9);
        var freeLoss = Make(free, 2).Fit(train, test, b => free.Forward(b.A, b.B)).Epochs[^1].TrainLoss;
        // Adam normalises the step size, so clip SGD instead: a norm of 1e-4 makes its steps vanishingly small.
        var sgd = new Trainer(clipped, new Sgd(clipped.Parameters, 0.5f), LossKind.CrossEntropy) { Epochs = 2, Progress = TrainingProgress.None, ClipGradNorm = 1e-4f };
        var clippedHistory = sgd.Fit(train, test, b => clipped.Forward(b.A, b.B));
        Assert.True(clippedHistory.Epochs[^1].TrainLoss > freeLoss + 0.2,
            $"clipped loss {clippedHistory.Epochs[^1].TrainLoss:F3} should stay near ln 3, free {freeLoss:F3}");
        Assert.True(Math.Abs(clippedHistory.Epochs[^1].TrainLoss - clippedHistory.Epochs[0].TrainLoss) < 0.01);
    }

    [Fact]
    public void Bad_clipping_settings_and_empty_sources_are_refused_before_training()
    {
        var net = new PairNet(Device.Cpu, seed: 1);
        var some = Pairs(64, 32, seed: 1);
        var none = new FixedSource<PairBatch>([], 32);
        var e = Assert.Throws<ArgumentException>(() => Make(net, 1).Fit(none, some, b => net.Forward(b.A, b.B)));
        Assert.Contains("training batches are empty", e.Message, StringComparison.Ordinal);
        var bad = new Trainer(net, new Adam(net.Parameters), LossKind.CrossEntropy) { ClipGradNorm = -1f, Progress = TrainingProgress.None };
        Assert.Throws<ArgumentOutOfRangeException>(() => bad.Fit(some, some, b => net.Forward(b.A, b.B)));
    }
}
