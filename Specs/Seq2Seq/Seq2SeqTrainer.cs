using System.Diagnostics;
using System.Globalization;
using Dsl;
using Dsl.Data.Seq2Seq;
using Dsl.Data.Text;

namespace Specs.Seq2Seq;

/// <summary>One epoch of <see cref="Seq2SeqTrainer.Fit"/>: the teacher-forced loss and token accuracy, and the greedy validation score.</summary>
public sealed record Seq2SeqEpoch(int Epoch, double TrainLoss, double TokenAccuracy, double ValidExactMatch, double TrainSeconds, double DecodeSeconds, double SamplesPerSecond);

/// <summary>A whole run: the epochs and the test set's exact match by source length.</summary>
/// <param name="BestEpoch">The epoch whose weights were scored on the test pairs: the best validation exact match (the
/// earliest of equals), restored at the end as Keras's <c>restore_best_weights</c> does.</param>
public sealed record Seq2SeqRun(IReadOnlyList<Seq2SeqEpoch> Epochs, ExactMatchReport Test, int BestEpoch)
{
    /// <summary>Mean training seconds per epoch (decoding for validation not included).</summary>
    public double SecondsPerEpoch => Epochs.Count == 0 ? 0 : Epochs.Average(e => e.TrainSeconds);
}

/// <summary>
/// Trains a teacher-forced encoder-decoder (the generated <c>Seq2SeqGru</c>, or any network with its inputs and output)
/// on a generated task: cross-entropy over [N,U,V] ignoring padding (<see cref="Loss.CrossEntropy"/> with the padding id
/// as <c>ignoreIndex</c>, on the network's device), Adam (its rate
/// annealed by a cosine unless the recipe says otherwise), the global gradient norm clipped; after each epoch, exact match of greedy decoding on the validation pairs; at the end, the
/// best validation epoch's weights are restored and scored on the test pairs by source-length bucket.
/// </summary>
public sealed class Seq2SeqTrainer
{
    private readonly Module _network;
    private readonly Func<Tensor, Tensor, Tensor, Tensor> _forward;
    private readonly Seq2SeqData _data;
    private readonly Seq2SeqRecipe _recipe;
    private readonly int _seed;
    private readonly GreedyDecoder _decoder;

    /// <param name="network">The network, for its parameters, gradients and train/eval mode.</param>
    /// <param name="forward">Its forward: (source tokens [N,S], source mask [N,S], decoder input [N,U]) -> logits [N,U,V].</param>
    /// <param name="data">The generated pairs and vocabularies.</param>
    /// <param name="recipe">Sizes, epochs and optimiser settings (its counts are the data's business, not read here).</param>
    /// <param name="seed">Decides the batches' order.</param>
    public Seq2SeqTrainer(Module network, Func<Tensor, Tensor, Tensor, Tensor> forward, Seq2SeqData data, Seq2SeqRecipe recipe, int seed)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(recipe);
        _network = network;
        _forward = forward;
        _data = data;
        _recipe = recipe;
        _seed = seed;
        _decoder = new GreedyDecoder(forward, network.Device, data.TargetVocabulary.BosId, data.TargetVocabulary.EosId);
    }

    /// <summary>Where progress goes (a line about every tenth of an epoch and one per epoch); null for none.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>Called after each epoch (the CLI saves the weights there).</summary>
    public Action<Seq2SeqEpoch>? EpochDone { get; init; }

    /// <summary>Trains for the recipe's epochs (stopping early at its validation target) and scores the test pairs.</summary>
    public Seq2SeqRun Fit()
    {
        var device = _network.Device;
        var batcher = new Seq2SeqBatcher(_data.SourceIds(_data.Train), _data.TargetIds(_data.Train), device, _recipe.BatchSize, _seed);
        var optimizer = new Adam(_network.Parameters, _recipe.LearningRate);
        var schedule = _recipe.Cosine ? new CosineAnnealingLr(optimizer, _recipe.Epochs) : null;
        var losses = new LossBuffers();
        var meter = new LossMeter(device);
        // [correct, counted] target tokens, padding in neither; read at the progress lines.
        var tokens = Tensor.From(new long[2], device, 2);
        var counts = new long[2];
        // The loss is read every step on the CPU (a memory read) and every 10 steps elsewhere (a device round trip).
        int readEvery = device is Dsl.Devices.Cpu.CpuDevice ? 1 : 10;
        var epochs = new List<Seq2SeqEpoch>();
        var best = new BestWeights(_network);
        for (int epoch = 1; epoch <= _recipe.Epochs; epoch++)
        {
            _network.Train();
            var clock = Stopwatch.StartNew();
            var sinceLine = Stopwatch.StartNew();
            double lossSum = 0;
            int readings = 0;
            long samples = 0;
            int batch = 0, every = Math.Max(1, batcher.BatchCount / 10);
            device.Upload(Zeros, tokens);
            // The batcher's own tensors: each batch is read within its step and never kept, so a step allocates no handles.
            foreach (var b in batcher.Epoch(epoch - 1, publish: false))
            {
                var logits = _forward(b.Source.Tokens, b.Source.Mask, b.DecoderInput);
                var loss = losses.CrossEntropy(logits, b.DecoderTarget);
                device.AccumulateCorrect(logits, b.DecoderTarget, tokens, Vocabulary.PadId);
                _network.ZeroGrad();
                _network.Backward(loss.Gradient);
                GradientClipping.ClipNorm(_network.Parameters, _recipe.ClipNorm);
                optimizer.Step();
                meter.Add(loss);
                samples += b.Size;
                batch++;
                if (batch % readEvery != 0 && batch != batcher.BatchCount)
                {
                    continue;
                }
                // The mean of the batches' means (each over its real target tokens), as the generic trainer reports.
                float value = meter.TakeMean();
                if (!float.IsFinite(value))
                {
                    throw new InvalidOperationException($"The loss became {value} in epoch {epoch}, batch {batch}: lower the learning rate.");
                }
                lossSum += value;
                readings++;
                if (Log is not null && (batch == batcher.BatchCount || batch % every == 0 && sinceLine.Elapsed.TotalSeconds >= 1))
                {
                    device.Download(tokens, counts);
                    Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"epoch {epoch}/{_recipe.Epochs}  batch {batch}/{batcher.BatchCount}  loss {lossSum / readings:F4}  token acc {(double)counts[0] / Math.Max(1, counts[1]):F4}  {samples / clock.Elapsed.TotalSeconds:N0} pairs/s"));
                    Log.Flush();
                    sinceLine.Restart();
                }
            }
            device.Download(tokens, counts);
            double trainSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var valid = _data.Valid.Count == 0 ? null : Evaluate(_data.Valid);
            double decodeSeconds = clock.Elapsed.TotalSeconds;
            var result = new Seq2SeqEpoch(epoch, lossSum / Math.Max(1, readings), (double)counts[0] / Math.Max(1, counts[1]),
                valid?.Accuracy ?? double.NaN, trainSeconds, decodeSeconds, samples / trainSeconds);
            epochs.Add(result);
            Log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch}: train loss {result.TrainLoss:F4}, token accuracy {result.TokenAccuracy:F4}, validation exact match {result.ValidExactMatch:F4}, {trainSeconds:F2} s (greedy decoding {decodeSeconds:F2} s), {result.SamplesPerSecond:N0} pairs/s"));
            Log?.Flush();
            if (valid is null || best.Offer(epoch, valid.Accuracy))
            {
                best.Keep(epoch);
            }
            EpochDone?.Invoke(result);
            schedule?.Step();
            if (valid is not null && valid.Accuracy >= _recipe.StopAt)
            {
                Log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"stopped: validation exact match {valid.Accuracy:F4} reached {_recipe.StopAt:F4}"));
                break;
            }
        }
        if (best.Epoch != epochs.Count && best.Epoch > 0)
        {
            best.Restore();
            Log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"restored epoch {best.Epoch}'s weights (validation exact match {epochs[best.Epoch - 1].ValidExactMatch:F4}, the best)"));
        }
        return new Seq2SeqRun(epochs, Evaluate(_data.Test), best.Epoch);
    }

    /// <summary>A copy of the network's parameters and buffers on its own device, kept from the best validation epoch.</summary>
    private sealed class BestWeights(Module network)
    {
        private readonly Dictionary<string, Tensor> _copy = new(StringComparer.Ordinal);
        private double _score = double.NegativeInfinity;

        public int Epoch { get; private set; }

        /// <summary>True when <paramref name="score"/> beats every earlier epoch's (ties keep the earlier weights).</summary>
        public bool Offer(int epoch, double score)
        {
            if (score <= _score)
            {
                return false;
            }
            _score = score;
            return true;
        }

        public void Keep(int epoch)
        {
            var device = network.Device;
            foreach (var (name, tensor) in network.StateDict())
            {
                if (!_copy.TryGetValue(name, out var copy))
                {
                    copy = device.Allocate(tensor.DType, tensor.Shape);
                    _copy.Add(name, copy);
                }
                device.Copy(tensor, copy);
            }
            Epoch = epoch;
        }

        public void Restore() => network.LoadStateDict(_copy);
    }

    /// <summary>Exact match of greedy decoding on <paramref name="examples"/>, by source length in buckets of 4.</summary>
    public ExactMatchReport Evaluate(IReadOnlyList<Seq2SeqExample> examples, int batchSize = 256)
        => ExactMatch.Score(examples, Predict(examples, batchSize));

    /// <summary>
    /// The greedy answer to each example's source, in evaluation mode, in batches of one source length each (so no row is
    /// padded and every mask is all ones); the length cap is twice the source length plus two.
    /// </summary>
    public IReadOnlyList<string> Predict(IReadOnlyList<Seq2SeqExample> examples, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var predictions = new string[examples.Count];
        bool training = _network.IsTraining;
        _network.Eval();
        var device = _network.Device;
        var ids = _data.SourceIds(examples);
        foreach (var group in Enumerable.Range(0, examples.Count).GroupBy(i => ids[i].Length).OrderBy(g => g.Key))
        {
            int s = group.Key;
            foreach (var chunk in group.Chunk(batchSize))
            {
                var tokens = new long[chunk.Length * s];
                for (int r = 0; r < chunk.Length; r++)
                {
                    for (int j = 0; j < s; j++)
                    {
                        tokens[r * s + j] = ids[chunk[r]][j];
                    }
                }
                var mask = new float[chunk.Length * s];
                Array.Fill(mask, 1f);
                var (answers, _) = _decoder.Decode(Tensor.From(tokens, device, chunk.Length, s), Tensor.From(mask, device, chunk.Length, s), 2 * s + 2);
                for (int r = 0; r < chunk.Length; r++)
                {
                    predictions[chunk[r]] = _data.DecodeTarget(answers[r]);
                }
            }
        }
        if (training)
        {
            _network.Train();
        }
        return predictions;
    }

    private static readonly long[] Zeros = [0, 0];

    /// <summary>
    /// One <see cref="LossResult"/> per logits shape: batches have as many target lengths as the task has, and a result
    /// reused for its own shape keeps a steady-state step from allocating once every length has been seen.
    /// </summary>
    private sealed class LossBuffers
    {
        private readonly Dictionary<(int N, int U, int V), LossResult> _byShape = new();

        public LossResult CrossEntropy(Tensor logits, Tensor targets)
        {
            if (logits.Rank != 3)
            {
                throw new InvalidOperationException($"The network returned {Tensor.FormatShape(logits.Shape)}; a seq2seq network's logits are [N,U,V].");
            }
            var key = (logits.Size(0), logits.Size(1), logits.Size(2));
            _byShape.TryGetValue(key, out var reuse);
            var loss = Loss.CrossEntropy(logits, targets, reuse, ignoreIndex: Vocabulary.PadId);
            _byShape[key] = loss;
            return loss;
        }
    }
}
