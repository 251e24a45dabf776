using System.Diagnostics;
using Dsl.Data;

namespace Dsl.Training;

/// <summary>
/// Trains a classifier or a sequence model: seeded shuffled batches, forward, loss, zero_grad, backward, (clipping),
/// step; then test loss and accuracy after each epoch, callbacks, and progress. After the first batches a step
/// allocates nothing (buffers and loss results are reused), and with <see cref="Workers"/> the next image batches are
/// prepared while the step runs. Images train through <see cref="Fit(ILabeledDataset, ILabeledDataset)"/>; any other
/// batches (padded token sequences with a mask, language-model windows) through
/// <see cref="Fit{TBatch}(IBatchSource{TBatch}, IBatchSource{TBatch}, BatchForward{TBatch})"/>, given how the network
/// takes a batch.
/// </summary>
/// <example>
/// <code>
/// var trainer = new Trainer(net, new Adam(net.Parameters, 1e-3f)) { Epochs = 10, BatchSize = 64 };
/// trainer.Callbacks.Add(new EarlyStopping(patience: 2));
/// TrainingHistory history = trainer.Fit(train, test);
///
/// // A generated network with a tokens and a mask input, on padded batches of a BucketBatcher:
/// var text = new Trainer(classifier, new Adam(classifier.Parameters, 1e-3f), LossKind.CrossEntropy) { ClipGradNorm = 5f };
/// text.Fit(trainBatches, testBatches, b => classifier.Forward(b.Tokens, b.Mask));
/// </code>
/// </example>
/// <remarks>
/// A loss that becomes NaN or infinite ends <see cref="Fit"/> with a <see cref="NonFiniteLossException"/>; an empty
/// training or test set is refused with an <see cref="ArgumentException"/> before anything runs.
/// </remarks>
public sealed class Trainer
{
    private static readonly long[] Zeros = [0, 0];

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
    /// Scales the gradients after each backward pass so their global 2-norm is at most this (PyTorch's
    /// <c>clip_grad_norm_</c>, <see cref="GradientClipping.ClipNorm"/>); null (the default) leaves them.
    /// </summary>
    public float? ClipGradNorm { get; init; }

    /// <summary>Clamps every gradient element to [-v, v] after each backward pass (<c>clip_grad_value_</c>); null leaves them.</summary>
    public float? ClipGradValue { get; init; }

    /// <summary>
    /// The name the progress gives the set passed to <c>Fit</c> as <c>test</c>: <c>"validation"</c> when the caller selects
    /// the epoch on a validation split and keeps the test split for the end.
    /// </summary>
    public string EvaluatedOn { get; init; } = TrainingFormat.Test;

    /// <summary>A target with this value (padding) is left out of the loss (PyTorch's <c>ignore_index</c>, default -100).</summary>
    public long IgnoreIndex { get; init; } = Dsl.Loss.DefaultIgnoreIndex;

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
        RefuseBadSettings();
        var device = Network.Device;
        var trainBatches = new LoaderSource(new BatchLoader(train, device, BatchSize, Seed, transforms: Transforms, workers: Workers));
        var testBatches = new LoaderSource(new BatchLoader(test, device, Math.Min(BatchSize, test.Count), shuffle: false, transforms: TestTransforms));
        var net = Network;
        return Observe(observer => Run(trainBatches, testBatches, b => net.Forward(b.Images), observer));
    }

    /// <summary>
    /// Trains on any batches: <paramref name="forward"/> runs the network on a batch (for a generated network with
    /// several inputs, <c>b =&gt; net.Forward(b.Tokens, b.Mask)</c>) and its output meets the batch's
    /// <see cref="ITrainingBatch.Targets"/> in the loss: scores [N,C] against labels [N], or [N,T,C] against [N,T] (a
    /// language model; accuracy then counts every step whose target is not <see cref="IgnoreIndex"/>). <see cref="BatchSize"/>, <see cref="Seed"/>,
    /// <see cref="Workers"/> and the transforms belong to the sources here and are not used.
    /// </summary>
    /// <exception cref="ArgumentException">A source has no batches.</exception>
    /// <exception cref="NonFiniteLossException">The loss became NaN or infinite; see the exception for what was kept.</exception>
    public TrainingHistory Fit<TBatch>(IBatchSource<TBatch> train, IBatchSource<TBatch> test, BatchForward<TBatch> forward)
        where TBatch : ITrainingBatch
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(forward);
        if (train.BatchesIn(0) == 0 || test.BatchesIn(0) == 0)
        {
            throw new ArgumentException($"{Network.NetworkName}: the {(train.BatchesIn(0) == 0 ? "training" : "test")} batches are empty: there is nothing to {(train.BatchesIn(0) == 0 ? "train on" : "evaluate on")}.");
        }
        RefuseBadSettings();
        return Observe(observer => Run(train, test, forward, observer));
    }

    private void RefuseBadSettings()
    {
        if (Epochs < 1 || BatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Epochs), $"Epochs and BatchSize must be at least 1, got {Epochs} and {BatchSize}.");
        }
        if (ClipGradNorm is { } norm && !(norm >= 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(ClipGradNorm), $"{nameof(ClipGradNorm)} must be a non-negative number, got {norm}.");
        }
        if (ClipGradValue is { } value && !(value >= 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(ClipGradValue), $"{nameof(ClipGradValue)} must be a non-negative number, got {value}.");
        }
    }

    private TrainingHistory Observe(Func<ITrainingObserver, TrainingHistory> run)
    {
        if (ReferenceEquals(Progress, TrainingProgress.Auto))
        {
            return !Console.IsOutputRedirected && Environment.UserInteractive
                ? LiveProgress.Run(Spectre.Console.AnsiConsole.Console, run, EvaluatedOn)
                : run(new PlainProgress(Console.Out, EvaluatedOn));
        }
        return run(Progress);
    }

    /// <summary>A <see cref="BatchLoader"/> seen as a batch source (the loader belongs to the data layer).</summary>
    private sealed class LoaderSource(BatchLoader loader) : IBatchSource<Batch>
    {
        public int BatchSize => loader.BatchSize;

        public int BatchesIn(int epoch) => loader.BatchCount;

        // The loader's own tensors, not stamped handles: the step never keeps a batch, and so allocates nothing.
        public IEnumerable<Batch> Epoch(int epoch) => loader.Epoch(epoch, publish: false);

        public IEnumerable<Batch> Epoch(int epoch, bool publish) => loader.Epoch(epoch, publish);
    }

    private static void RefuseEmpty(ILabeledDataset data, string what)
    {
        if (data.Count == 0)
        {
            throw new ArgumentException($"The {what} set '{data.Name}' is empty: there is nothing to {(what == "test" ? "evaluate on" : "train on")}.");
        }
    }

    private TrainingHistory Run<TBatch>(IBatchSource<TBatch> train, IBatchSource<TBatch> test, BatchForward<TBatch> forward, ITrainingObserver observer)
        where TBatch : ITrainingBatch
    {
        var net = Network;
        var device = net.Device;
        var history = new TrainingHistory { BatchesPerEpoch = train.BatchesIn(0) };
        // Room for every reading up front, so recording a step's loss never grows a list mid-epoch.
        history.BatchLosses.EnsureCapacity(Epochs * history.BatchesPerEpoch);
        history.LossSteps.EnsureCapacity(Epochs * history.BatchesPerEpoch);
        var context = new TrainingContext(net, Optimizer, history, Epochs);
        var meter = new LossMeter(device);
        // [correct, counted]: targets equal to IgnoreIndex (padding) count in neither.
        var correct = Tensor.From(new long[2], device, 2);
        var counts = new long[2];
        // Losses are read every step on the CPU (a memory read) and every 10 steps elsewhere (a device round trip).
        int readEvery = device is Devices.Cpu.CpuDevice ? 1 : 10;
        // One loss result per batch shape (full batches and the partial last one), so neither is reallocated.
        LossResult? full = null;
        LossResult? tail = null;
        var scratch = new EvaluationState(device);
        int stepsBefore = 0;

        foreach (var callback in Callbacks)
        {
            callback.OnTrainBegin(context);
        }
        for (int epoch = 1; epoch <= Epochs && !context.StopRequested; epoch++)
        {
            int batches = train.BatchesIn(epoch - 1);
            observer.EpochStarted(epoch, Epochs, batches);
            net.Train();
            double rate = Optimizer.LearningRate;
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            int lossReadings = 0;
            long samples = 0;
            device.Upload(Zeros, correct);
            foreach (var batch in train.Epoch(epoch - 1, publish: false))
            {
                var output = Unpublished(net, forward, batch);
                var targets = batch.Targets;
                bool isFull = batch.Size == train.BatchSize;
                var loss = Compute(Loss, output, targets, isFull ? full : tail, IgnoreIndex);
                if (isFull)
                {
                    full = loss;
                }
                else
                {
                    tail = loss;
                }
                device.AccumulateCorrect(output, targets, correct, IgnoreIndex);
                net.ZeroGrad();
                net.Backward(loss.Gradient);
                Clip();
                Optimizer.Step();
                meter.Add(loss);
                samples += batch.Size;

                int done = batch.Index + 1;
                if (done % readEvery != 0 && done != batches)
                {
                    continue;
                }
                float value = meter.TakeMean();
                int step = stepsBefore + done;
                history.BatchLosses.Add(value);
                history.LossSteps.Add(step);
                if (!float.IsFinite(value))
                {
                    throw new NonFiniteLossException(net.NetworkName, epoch, step, value, "training loss", history);
                }
                lossSum += value;
                lossReadings++;
                observer.BatchDone(new BatchProgress(epoch, Epochs, done, batches, value, lossSum / lossReadings,
                    samples / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
            }
            stepsBefore += batches;
            device.Synchronize();
            double trainSeconds = clock.Elapsed.TotalSeconds;
            device.Download(correct, counts);
            double trainAccuracy = counts[1] == 0 ? 0 : (double)counts[0] / counts[1];
            clock.Restart();
            var evaluation = Score(net, test, forward, Loss, IgnoreIndex, 1, detailed: false, scratch);
            double evalSeconds = clock.Elapsed.TotalSeconds;
            if (!double.IsFinite(evaluation.Loss))
            {
                throw new NonFiniteLossException(net.NetworkName, epoch, stepsBefore, evaluation.Loss, "test loss", history);
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
    /// Runs <paramref name="forward"/> with the network handing out its output buffer itself rather than a stamped handle
    /// (<see cref="Module.PublishesOutputs"/>): the trainer reads each result within its step, so the steady-state step
    /// allocates nothing; a user's own loop gets the handles.
    /// </summary>
    private static Tensor Unpublished<TBatch>(Module net, BatchForward<TBatch> forward, TBatch batch)
        where TBatch : ITrainingBatch
    {
        bool publishes = net.PublishesOutputs;
        net.PublishesOutputs = false;
        try
        {
            return forward(batch);
        }
        finally
        {
            net.PublishesOutputs = publishes;
        }
    }

    /// <summary>Clips the gradients as asked (by value, then by global norm, as a recipe listing both would).</summary>
    private void Clip()
    {
        if (ClipGradValue is { } value)
        {
            GradientClipping.ClipValue(Network.Parameters, value);
        }
        if (ClipGradNorm is { } norm)
        {
            GradientClipping.ClipNorm(Network.Parameters, norm);
        }
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
        var loader = new LoaderSource(new BatchLoader(data, network.Device, Math.Min(batchSize, data.Count), shuffle: false, transforms: transforms));
        return Score(network, loader, b => network.Forward(b.Images), loss, Dsl.Loss.DefaultIgnoreIndex, topK, detailed: true, new EvaluationState(network.Device));
    }

    /// <summary>
    /// Evaluates <paramref name="network"/> on the batches of <paramref name="data"/>'s epoch 0, run by
    /// <paramref name="forward"/>, in evaluation mode (restoring training mode after): loss, accuracy, top-k accuracy and
    /// the confusion matrix, counting every step of a sequence's targets.
    /// </summary>
    public static Evaluation Evaluate<TBatch>(Module network, IBatchSource<TBatch> data, BatchForward<TBatch> forward, LossKind loss = LossKind.Nll,
        int topK = 5, long ignoreIndex = Dsl.Loss.DefaultIgnoreIndex)
        where TBatch : ITrainingBatch
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        if (data.BatchesIn(0) == 0)
        {
            throw new ArgumentException($"{network.NetworkName}: the batches to evaluate are empty.");
        }
        return Score(network, data, forward, loss, ignoreIndex, topK, detailed: true, new EvaluationState(network.Device));
    }

    /// <summary>Reused between epochs so evaluating allocates nothing after the first time.</summary>
    private sealed class EvaluationState(Device device)
    {
        public LossMeter Meter { get; } = new(device);
        /// <summary>[correct, counted] on the device: targets equal to the ignore index count in neither.</summary>
        public Tensor Correct { get; } = Tensor.From(new long[2], device, 2);
        public long[] Count { get; } = new long[2];
        public LossResult? Full { get; set; }
        public LossResult? Tail { get; set; }
    }

    private static Evaluation Score<TBatch>(Module net, IBatchSource<TBatch> source, BatchForward<TBatch> forward, LossKind lossKind, long ignoreIndex,
        int topK, bool detailed, EvaluationState state)
        where TBatch : ITrainingBatch
    {
        bool wasTraining = net.IsTraining;
        net.Eval();
        var device = net.Device;
        // Accuracy and loss are summed on the device and read once: a GPU never waits for the host between batches.
        device.Upload(Zeros, state.Correct);
        long topCorrect = 0;
        long[,] confusion = new long[0, 0];
        float[] scores = [];
        long[] labels = [];
        try
        {
            foreach (var batch in source.Epoch(0, publish: false))
            {
                var output = Unpublished(net, forward, batch);
                var targets = batch.Targets;
                bool isFull = batch.Size == source.BatchSize;
                var loss = Compute(lossKind, output, targets, isFull ? state.Full : state.Tail, ignoreIndex);
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
                device.AccumulateCorrect(output, targets, state.Correct, ignoreIndex);
                int rows = checked((int)targets.Length);
                if (detailed)
                {
                    int classes = output.Dims[^1];
                    if (confusion.Length == 0)
                    {
                        confusion = new long[classes, classes];
                    }
                    if (labels.Length < rows)
                    {
                        scores = new float[rows * classes];
                        labels = new long[rows];
                    }
                    device.Download(output, scores.AsSpan(0, rows * classes));
                    device.Download(targets, labels.AsSpan(0, rows));
                    topCorrect += Tally(scores, labels, rows, classes, topK, ignoreIndex, confusion);
                }
            }
            int batches = state.Meter.Count;
            double meanLoss = state.Meter.TakeMean();
            device.Download(state.Correct, state.Count);
            // Batch means averaged over batches: exact when all are full, within a partial batch's weight otherwise.
            long total = state.Count[1];
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
    private static long Tally(float[] scores, long[] labels, int rows, int classes, int topK, long ignoreIndex, long[,] confusion)
    {
        long hits = 0;
        for (int r = 0; r < rows; r++)
        {
            var row = scores.AsSpan(r * classes, classes);
            long label = labels[r];
            if (label == ignoreIndex)
            {
                continue;
            }
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

    private static LossResult Compute(LossKind kind, Tensor output, Tensor labels, LossResult? reuse, long ignoreIndex) => kind switch
    {
        LossKind.Nll => Dsl.Loss.Nll(output, labels, reuse, ignoreIndex),
        LossKind.CrossEntropy => Dsl.Loss.CrossEntropy(output, labels, reuse, ignoreIndex),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown loss."),
    };
}
