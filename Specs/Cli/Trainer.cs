using System.Diagnostics;
using Dsl;
using Dsl.Data;

namespace Specs.Cli;

/// <summary>
/// The training loop: seeded shuffled batches, forward, loss, zero_grad, backward, step; then test accuracy after
/// each epoch. After the first batches it allocates nothing per step (buffers and loss results are reused).
/// </summary>
public sealed class Trainer
{

    private readonly Module _net;
    private readonly Recipe _recipe;
    private readonly BatchLoader _train;
    private readonly BatchLoader _test;
    private readonly Optimizer _optimizer;
    private readonly LrSchedule? _schedule;
    private readonly LossMeter _meter;

    // Losses are read every step on the CPU (a memory read) and every 10 steps elsewhere (a device round trip).
    private readonly int _readEvery;

    /// <summary>Prepares to train <paramref name="net"/> on <paramref name="train"/>, evaluating on <paramref name="test"/>.</summary>
    public Trainer(Module net, Recipe recipe, LabeledImages train, LabeledImages test, int seed)
    {
        _net = net;
        _recipe = recipe;
        _train = new BatchLoader(train, net.Device, recipe.BatchSize, seed);
        // Evaluate at the training batch size: the network's planned buffers are already that large, whereas a
        // bigger evaluation batch would grow every activation buffer (gigabytes for DenseNet at 500).
        _test = new BatchLoader(test, net.Device, Math.Min(recipe.BatchSize, Math.Max(test.Count, 1)), shuffle: false);
        _optimizer = CreateOptimizer(net, recipe);
        _schedule = recipe.Schedule == "cosine" ? new CosineAnnealingLr(_optimizer, recipe.Epochs) : null;
        _meter = new LossMeter(net.Device);
        _readEvery = net.Device is Dsl.Devices.Cpu.CpuDevice ? 1 : 10;
    }

    /// <summary>Batches per training epoch.</summary>
    public int BatchesPerEpoch => _train.BatchCount;

    /// <summary>The optimiser a recipe asks for, over <paramref name="net"/>'s parameters.</summary>
    public static Optimizer CreateOptimizer(Module net, Recipe recipe) => recipe.Optimizer switch
    {
        OptimizerKind.Adam => new Adam(net.Parameters, recipe.LearningRate),
        _ => new Sgd(net.Parameters, recipe.LearningRate, recipe.Momentum),
    };

    /// <summary>Trains for the recipe's epochs, reporting to <paramref name="observer"/>.</summary>
    public TrainingHistory Run(ITrainingObserver observer)
    {
        var history = new TrainingHistory { BatchesPerEpoch = _train.BatchCount };
        // One loss result per batch shape (full batches and the partial last one), so neither is reallocated.
        LossResult? full = null;
        LossResult? tail = null;
        for (int epoch = 1; epoch <= _recipe.Epochs; epoch++)
        {
            observer.EpochStarted(epoch, _recipe.Epochs, _train.BatchCount);
            _net.Train();
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            int lossReadings = 0;
            long samples = 0;
            foreach (var batch in _train.Epoch(epoch - 1))
            {
                var output = _net.Forward(batch.Images);
                bool isFull = batch.Size == _recipe.BatchSize;
                var loss = Step(output, batch.Labels, isFull ? full : tail);
                if (isFull)
                {
                    full = loss;
                }
                else
                {
                    tail = loss;
                }
                _net.ZeroGrad();
                _net.Backward(loss.Gradient);
                _optimizer.Step();
                _meter.Add(loss);
                samples += batch.Size;

                int done = batch.Index + 1;
                if (done % _readEvery != 0 && done != _train.BatchCount)
                {
                    continue;
                }
                float value = _meter.TakeMean();
                history.BatchLosses.Add(value);
                history.LossSteps.Add((epoch - 1) * _train.BatchCount + done);
                lossSum += value;
                lossReadings++;
                observer.BatchDone(new BatchProgress(epoch, _recipe.Epochs, done, _train.BatchCount, value, lossSum / lossReadings,
                    samples / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
            }
            _net.Device.Synchronize();
            double trainSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            double accuracy = Evaluate(_net, _test);
            double evalSeconds = clock.Elapsed.TotalSeconds;
            var result = new EpochResult(epoch, lossSum / Math.Max(lossReadings, 1), accuracy, trainSeconds, evalSeconds, samples / trainSeconds);
            history.Epochs.Add(result);
            observer.EpochDone(result);
            _schedule?.Step();
        }
        return history;
    }

    /// <summary>The fraction of <paramref name="loader"/>'s samples whose arg-max output is the label, in evaluation mode.</summary>
    public static double Evaluate(Module net, BatchLoader loader)
    {
        net.Eval();
        // Counted on the device and read once: a GPU never waits for the host between evaluation batches.
        var counter = Tensor.From(new long[1], net.Device, 1);
        long total = 0;
        foreach (var batch in loader.Epoch(0))
        {
            net.Device.AccumulateCorrect(net.Forward(batch.Images), batch.Labels, counter);
            total += batch.Size;
        }
        net.Train();
        return total == 0 ? 0 : (double)counter.ToInt64Array()[0] / total;
    }

    private LossResult Step(Tensor output, Tensor labels, LossResult? reuse) => _recipe.Loss switch
    {
        LossKind.CrossEntropy => Loss.CrossEntropy(output, labels, reuse),
        _ => Loss.Nll(output, labels, reuse),
    };
}
