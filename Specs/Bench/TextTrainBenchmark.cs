using System.Diagnostics;
using System.Globalization;
using Dsl;
using Dsl.Data.Text;
using Dsl.Training;
using Specs.Cli;
using Specs.Text;

namespace Specs.Bench;

/// <summary>
/// <c>bench train</c> for the text classifiers: the training split of the fortunes topics in length-bucketed padded
/// batches (one epoch's batches, in the order the <see cref="BucketBatcher"/> serves epoch 0, cycled), measured on our
/// side and written to a file that <c>torch_nets.py</c> replays through the same architecture in PyTorch, so both sides
/// see the same token ids, masks, labels and batch shapes on the same thread counts.
/// </summary>
public static class TextTrainBenchmark
{
    /// <summary>Measures <paramref name="network"/> (a text classifier of the catalog) beside PyTorch and prints the table.</summary>
    public static void Run(TextWriter output, NetworkInfo network, string? dataOption, TrainBenchmark.Settings s)
    {
        var task = network.Task as ITextClassificationTask
            ?? throw new UsageException($"bench train measures image networks and text classifiers; {network.Name} trains on {network.Task.Data}.");
        var probe = network.Create(Device.Cpu, 0);
        var data = TopicData.Load(dataOption, TopicData.EmbeddingRows(probe), task.MinTokens, task.MaxTokens);
        string file = Path.Combine(Path.GetTempPath(), $"dsl-bench-{network.Name}-{Guid.NewGuid():N}.bin");
        var batcher = new BucketBatcher(data.Train, data.TrainLabels, Device.Cpu, s.BatchSize, seed: 0);
        int classes = data.Split.Topics.Count;
        WriteBatches(file, batcher, TopicData.EmbeddingRows(probe), classes);
        try
        {
            string loss = network.DefaultRecipe.Loss == LossKind.Nll ? "nll" : "cross_entropy";
            TrainBenchmark.Compare(output, network, s,
                string.Create(CultureInfo.InvariantCulture,
                    $"{data.Location.Describe()}: {data.Train.Length:N0} training quotes in {batcher.BatchCount} bucketed batches (padding {batcher.PaddingFraction(0):P1}), {classes} topics, {loss} loss"),
                threads => MeasureOurs(network, task, data, threads, s),
                threads => TrainBenchmark.MeasureTorch(network.Name, threads, s, "--batches-file", file, "--loss", loss));
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// Our samples per second on <paramref name="threads"/> threads: training steps (batch upload, forward, loss,
    /// zero_grad, backward, SGD, reading the loss) and evaluation (forward in evaluation mode and arg-max).
    /// </summary>
    public static TrainBenchmark.Throughput MeasureOurs(NetworkInfo network, ITextClassificationTask task, TopicData data, int threads, TrainBenchmark.Settings s)
    {
        var device = Device.CpuWithThreads(threads);
        var net = network.Create(device, 0);
        var forward = task.Bind(net);
        var opt = new Sgd(net.Parameters, s.LearningRate, s.Momentum);
        var batcher = new BucketBatcher(data.Train, data.TrainLabels, device, s.BatchSize, seed: 0);
        bool nll = network.DefaultRecipe.Loss == LossKind.Nll;
        LossResult? full = null, tail = null;
        double trainRate = Time(batcher, s, batch =>
        {
            var output = forward(batch);
            bool isFull = batch.Size == s.BatchSize;
            var reuse = isFull ? full : tail;
            var loss = nll ? Loss.Nll(output, batch.Labels!, reuse) : Loss.CrossEntropy(output, batch.Labels!, reuse);
            (full, tail) = isFull ? (loss, tail) : (full, loss);
            net.ZeroGrad();
            net.Backward(loss.Gradient);
            opt.Step();
            _ = loss.Value;
        });
        net.Eval();
        long correct = 0;
        double evalRate = Time(batcher, s, batch => correct += device.CountCorrect(forward(batch), batch.Labels!));
        return new TrainBenchmark.Throughput(trainRate, evalRate);
    }

    /// <summary>Samples per second over <see cref="TrainBenchmark.Settings.Batches"/> batches after the warm-up, cycling epoch 0's batches.</summary>
    private static double Time(BucketBatcher batcher, TrainBenchmark.Settings s, Action<PaddedBatch> step)
    {
        int done = 0;
        long samples = 0;
        var clock = new Stopwatch();
        while (done < s.Warmup + s.Batches)
        {
            // The batcher's own tensors, as the trainer takes them: the step never keeps a batch.
            foreach (var batch in batcher.Epoch(0, publish: false))
            {
                if (done == s.Warmup)
                {
                    clock.Start();
                }
                step(batch);
                if (done >= s.Warmup)
                {
                    samples += batch.Size;
                }
                if (++done == s.Warmup + s.Batches)
                {
                    break;
                }
            }
        }
        clock.Stop();
        return samples / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Epoch 0's batches as <c>torch_nets.py</c> reads them (little-endian): "DSLB", int32 batches, vocabulary, classes;
    /// then per batch int32 rows and length, int64 tokens [rows*length], float32 mask [rows*length], int64 labels [rows].
    /// </summary>
    public static void WriteBatches(string path, BucketBatcher batcher, int vocabulary, int classes)
    {
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write("DSLB"u8);
        writer.Write(batcher.BatchCount);
        writer.Write(vocabulary);
        writer.Write(classes);
        foreach (var batch in batcher.Epoch(0))
        {
            writer.Write(batch.Size);
            writer.Write(batch.Length);
            foreach (long id in batch.Tokens.ToInt64Array())
            {
                writer.Write(id);
            }
            foreach (float m in batch.Mask.ToArray())
            {
                writer.Write(m);
            }
            foreach (long label in batch.Labels!.ToInt64Array())
            {
                writer.Write(label);
            }
        }
    }
}
