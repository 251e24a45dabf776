using System.Diagnostics;
using Dsl.Data;

namespace Dsl.Training;

/// <summary>
/// Trains a classifier: seeded shuffled batches, forward, loss, zero_grad, backward, step; then test loss and accuracy
/// after each epoch, callbacks, and progress. After the first batches a step allocates nothing (buffers and loss
/// results are reused), and with <see cref="Workers"/> the next batches are prepared while the step runs.
/// </summary>
/// <example>
/// <code>
/// var trainer = new Trainer(net, new Adam(net.Parameters, 1e-3f)) { Epochs = 10, BatchSize = 64 };
/// trainer.Callbacks.Add(new EarlyStopping(patience: 2));
/// TrainingHistory history = trainer.Fit(train, test);
/// </code>
/// </example>
/// <remarks>
/// A loss that becomes NaN or infinite ends <see cref="Fit"/> with a <see cref="NonFiniteLossException"/>; an empty
/// training or test set is refused with an <see cref="ArgumentException"/> before anything runs.
/// </remarks>
public sealed class Trainer
{
    private static readonly long[] Zero = [0];

    /// <summary>Prepares to train <paramref name="network"/> with <paramref name="optimizer"/> and <paramref name="loss"/>.</summary>
    public Trainer(Module network, Optimizer optimizer, LossKind loss = LossKind.Nll)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        Network = network;
        Optimizer = optimizer;
        Loss = loss;
    }

    /// <summary>The network trained.</summary>
    public Module Network { get; }

    /// <summary>Its optimiser.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The loss: NLL for LogSoftmax outputs, cross-entropy for logits.</summary>
    public LossKind Loss { get; }

    /// <summary>Passes over the training set (default 10).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Samples per step (default 64). Evaluation uses the same size, so the network's buffers fit both.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Decides the shuffling and augmentations of every epoch.</summary>
    public int Seed { get; init; }

    /// <summary>Threads preparing training batches ahead of the step (default 1; 0 prepares them on the training thread).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Per-sample transforms of training batches (augmentation, normalisation), in order.</summary>
    public IReadOnlyList<Transform> Transforms { get; init; } = [];

    /// <summary>Per-sample transforms of test batches (normalisation; no random augmentation).</summary>
    public IReadOnlyList<Transform> TestTransforms { get; init; } = [];

    /// <summary>Where progress goes: <see cref="TrainingProgress.Auto"/> (default), <see cref="TrainingProgress.None"/> or your own.</summary>
    public ITrainingObserver Progress { get; init; } = TrainingProgress.Auto;

    /// <summary>Run in order after every epoch: <see cref="EarlyStopping"/>, <see cref="ModelCheckpoint"/>, <see cref="LrScheduleCallback"/>, ...</summary>
    public List<TrainingCallback> Callbacks { get; } = new();

    /// <summary>
    /// Trains for <see cref="Epochs"/> epochs (fewer if a callback stops it), evaluating on <paramref name="test"/>
    /// after each, and returns what was measured.
    /// </summary>
    /// <exception cref="ArgumentException">A set is empty, or its samples do not match each other.</exception>
    /// <exception cref="NonFiniteLossException">The loss became NaN or infinite; see the exception for what was kept.</exception>
    public TrainingHistory Fit(ILabeledDataset train, ILabeledDataset test)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        RefuseEmpty(train, "training");
        RefuseEmpty(test, "test");
        if (!train.SampleShape.AsSpan().SequenceEqual(test.SampleShape))
        {
            throw new ArgumentException(
                $"{Network.NetworkName}: training samples are [{string.Join(",", train.SampleShape)}] but test samples [{string.Join(",", test.SampleShape)}].");
        }
        if (Epochs < 1 || BatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Epochs), $"Epochs and BatchSize must be at least 1, got {Epochs} and {BatchSize}.");
        }
        if (ReferenceEquals(Progress, TrainingProgress.Auto))
        {
            return !Console.IsOutputRedirected && Environment.UserInteractive
                ? LiveProgress.Run(Spectre.Console.AnsiConsole.Console, observer => Run(train, test, observer))
                : Run(train, test, new PlainProgress(Console.Out));
        }
        return Run(train, test, Progress);
    }

    private static void RefuseEmpty(ILabeledDataset data, string what)
    {
        if (data.Count == 0)
        {
            throw new ArgumentException($"The {what} set '{data.Name}' is empty: there is nothing to {(what == "test" ? "evaluate on" : "train on")}.");
        }
    }

    private TrainingHistory Run(ILabeledDataset trainData, ILabeledDataset testData, ITrainingObserver observer)
    {
        var net = Network;
        var device = net.Device;
        var train = new BatchLoader(trainData, device, BatchSize, Seed, transforms: Transforms, workers: Workers);
        var test = new BatchLoader(testData, device, Math.Min(BatchSize, testData.Count), shuffle: false, transforms: TestTransforms);
        var history = new TrainingHistory { BatchesPerEpoch = train.BatchCount };
        var context = new TrainingContext(net, Optimizer, history, Epochs);
        var meter = new LossMeter(device);
        var correct = Tensor.From(new long[1], device, 1);
        var counts = new long[1];
        // Losses are read every step on the CPU (a memory read) and every 10 steps elsewhere (a device round trip).
        int readEvery = device is Devices.Cpu.CpuDevice ? 1 : 10;
        // One loss result per batch shape (full batches and the partial last one), so neither is reallocated.
        LossResult? full = null;
        LossResult? tail = null;
        var scratch = new EvaluationState(device);

        foreach (var callback in Callbacks)
        {
            callback.OnTrainBegin(context);
        }
        for (int epoch = 1; epoch <= Epochs && !context.StopRequested; epoch++)
        {
            observer.EpochStarted(epoch, Epochs, train.BatchCount);
            net.Train();
            double rate = Optimizer.LearningRate;
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            int lossReadings = 0;
            long samples = 0;
            device.Upload(Zero, correct);
            foreach (var batch in train.Epoch(epoch - 1))
            {
                var output = net.Forward(batch.Images);
                bool isFull = batch.Size == BatchSize;
                var loss = Compute(Loss, output, batch.Labels, isFull ? full : tail);
                if (isFull)
                {
                    full = loss;
                }
                else
                {
                    tail = loss;
                }
                device.AccumulateCorrect(output, batch.Labels, correct);
                net.ZeroGrad();
                net.Backward(loss.Gradient);
                Optimizer.Step();
                meter.Add(loss);
                samples += batch.Size;

                int done = batch.Index + 1;
                if (done % readEvery != 0 && done != train.BatchCount)
                {
                    continue;
                }
                float value = meter.TakeMean();
                int step = (epoch - 1) * train.BatchCount + done;
                history.BatchLosses.Add(value);
                history.LossSteps.Add(step);
                if (!float.IsFinite(value))
                {
                    throw new NonFiniteLossException(net.NetworkName, epoch, step, value, "training loss", history);
                }
                lossSum += value;
                lossReadings++;
                observer.BatchDone(new BatchProgress(epoch, Epochs, done, train.BatchCount, value, lossSum / lossReadings,
                    samples / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
            }
            device.Synchronize();
            double trainSeconds = clock.Elapsed.TotalSeconds;
            device.Download(correct, counts);
            double trainAccuracy = (double)counts[0] / samples;
            clock.Restart();
            var evaluation = Score(net, test, Loss, 1, detailed: false, scratch);
            double evalSeconds = clock.Elapsed.TotalSeconds;
            if (!double.IsFinite(evaluation.Loss))
            {
                throw new NonFiniteLossException(net.NetworkName, epoch, epoch * train.BatchCount, evaluation.Loss, "test loss", history);
            }
            var result = new EpochResult(epoch, lossSum / lossReadings, trainAccuracy, evaluation.Loss, evaluation.Accuracy,
                trainSeconds, evalSeconds, samples / trainSeconds, rate);
            history.Epochs.Add(result);
            observer.EpochDone(result);
            foreach (var callback in Callbacks)
            {
                callback.OnEpochEnd(context, result);
            }
        }
        foreach (var callback in Callbacks)
        {
            callback.OnTrainEnd(context);
        }
        return history;
    }

    /// <summary>
    /// Evaluates <paramref name="network"/> on <paramref name="data"/> in evaluation mode (restoring training mode after):
    /// loss, accuracy, top-<paramref name="topK"/> accuracy and the confusion matrix.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is empty.</exception>
    public static Evaluation Evaluate(Module network, ILabeledDataset data, LossKind loss = LossKind.Nll, int batchSize = 64, int topK = 5,
        IReadOnlyList<Transform>? transforms = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        RefuseEmpty(data, "test");
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        var loader = new BatchLoader(data, network.Device, Math.Min(batchSize, data.Count), shuffle: false, transforms: transforms);
        return Score(network, loader, loss, topK, detailed: true, new EvaluationState(network.Device));
    }

    /// <summary>Reused between epochs so evaluating allocates nothing after the first time.</summary>
    private sealed class EvaluationState(Device device)
    {
        public LossMeter Meter { get; } = new(device);
        public Tensor Correct { get; } = Tensor.From(new long[1], device, 1);
        public long[] Count { get; } = new long[1];
        public LossResult? Full { get; set; }
        public LossResult? Tail { get; set; }
    }

    private static Evaluation Score(Module net, BatchLoader loader, LossKind lossKind, int topK, bool detailed, EvaluationState state)
    {
        bool wasTraining = net.IsTraining;
        net.Eval();
        var device = net.Device;
        // Accuracy and loss are summed on the device and read once: a GPU never waits for the host between batches.
        device.Upload(Zero, state.Correct);
        long total = 0;
        long topCorrect = 0;
        long[,] confusion = new long[0, 0];
        float[] scores = [];
        long[] labels = [];
        try
        {
            foreach (var batch in loader.Epoch(0))
            {
                var output = net.Forward(batch.Images);
                bool isFull = batch.Size == loader.BatchSize;
                var loss = Compute(lossKind, output, batch.Labels, isFull ? state.Full : state.Tail);
                if (isFull)
                {
                    state.Full = loss;
                }
                else
                {
                    state.Tail = loss;
                }
                // The meter holds a sum of batch means; weight each by its size so a partial last batch counts fairly.
                state.Meter.Add(loss);
                device.AccumulateCorrect(output, batch.Labels, state.Correct);
                total += batch.Size;
                if (detailed)
                {
                    int classes = output.Size(1);
                    if (confusion.Length == 0)
                    {
                        confusion = new long[classes, classes];
                        scores = new float[loader.BatchSize * classes];
                        labels = new long[loader.BatchSize];
                    }
                    device.Download(output, scores.AsSpan(0, batch.Size * classes));
                    device.Download(batch.Labels, labels.AsSpan(0, batch.Size));
                    topCorrect += Tally(scores, labels, batch.Size, classes, topK, confusion);
                }
            }
            int batches = state.Meter.Count;
            double meanLoss = state.Meter.TakeMean();
            device.Download(state.Correct, state.Count);
            // Batch means averaged over batches: exact when all are full, within a partial batch's weight otherwise.
            return new Evaluation(total, batches == 0 ? double.NaN : meanLoss, state.Count[0], topK, detailed ? topCorrect : state.Count[0], confusion);
        }
        finally
        {
            if (wasTraining)
            {
                net.Train();
            }
        }
    }

    /// <summary>Counts top-k hits and fills the confusion matrix from host scores; returns the hits.</summary>
    private static long Tally(float[] scores, long[] labels, int rows, int classes, int topK, long[,] confusion)
    {
        long hits = 0;
        for (int r = 0; r < rows; r++)
        {
            var row = scores.AsSpan(r * classes, classes);
            long label = labels[r];
            int predicted = 0;
            for (int c = 1; c < classes; c++)
            {
                if (row[c] > row[predicted])
                {
                    predicted = c;
                }
            }
            if ((ulong)label < (ulong)classes)
            {
                confusion[label, predicted]++;
                // The label is in the top k when fewer than k classes score strictly higher (ties favour the label,
                // as a sort that keeps lower indices first would when the label comes first).
                float own = row[(int)label];
                int higher = 0;
                for (int c = 0; c < classes; c++)
                {
                    if (row[c] > own || (row[c] == own && c < label))
                    {
                        higher++;
                    }
                }
                if (higher < topK)
                {
                    hits++;
                }
            }
        }
        return hits;
    }

    private static LossResult Compute(LossKind kind, Tensor output, Tensor labels, LossResult? reuse) => kind switch
    {
        LossKind.Nll => Dsl.Loss.Nll(output, labels, reuse),
        LossKind.CrossEntropy => Dsl.Loss.CrossEntropy(output, labels, reuse),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown loss."),
    };
}
