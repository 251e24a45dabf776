using System.Diagnostics;
using System.Globalization;
using Dsl;
using Dsl.Data;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// <c>bench data &lt;network&gt;</c>: samples/s of the data pipeline with augmentation on (random crop with padding 2,
/// horizontal flip, normalisation) for each worker count, against the network's training step alone, and the step fed
/// by the pipeline with the share of time it waited for data. Medians of <c>--repeat</c> runs.
/// </summary>
public sealed class BenchDataCommand(CliOutput cli) : Command<BenchDataSettings>
{
    /// <summary>Fashion-MNIST's mean and standard deviation of pixels in [0,1].</summary>
    private static readonly Transform[] Augment = [new RandomCrop(2), new RandomHorizontalFlip(), new Normalize([0.2860f], [0.3530f])];

    public override int Execute(CommandContext context, BenchDataSettings settings, CancellationToken cancellationToken)
    {
        var output = cli.Out;
        var location = FashionMnist.Locate(settings.Data);
        var train = FashionMnist.Load(location.Folder).Train;
        var device = Device.Cpu;
        var info = settings.Info;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench data {info.Name}: {settings.Batches} batches of {settings.BatchSize} on {device.Name}, augmentation: random crop (padding 2), flip, normalise; median of {settings.Repeat}; data: {location.Describe()}"));

        double step = Median(settings.Repeat, () => StepAlone(info, train, device, settings));
        var table = new Table().AddColumns("workers", "pipeline alone samples/s", "x step", "step fed by it samples/s", "waiting for data");
        foreach (int workers in settings.WorkerCounts)
        {
            double pipeline = Median(settings.Repeat, () => PipelineAlone(train, device, workers, settings));
            var fed = Enumerable.Range(0, settings.Repeat).Select(_ => StepFed(info, train, device, workers, settings)).OrderBy(r => r.SamplesPerSecond).ToArray();
            var median = fed[fed.Length / 2];
            table.AddRow(workers.ToString(CultureInfo.InvariantCulture), Rate(pipeline), (pipeline / step).ToString("F1", CultureInfo.InvariantCulture),
                Rate(median.SamplesPerSecond), median.WaitShare.ToString("P1", CultureInfo.InvariantCulture));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"training step alone (one batch reused, no loader): {Rate(step)} samples/s"));
        cli.Console.Write(table);
        return 0;
    }

    private static string Rate(double samplesPerSecond) => samplesPerSecond.ToString("N0", CultureInfo.InvariantCulture);

    private static double Median(int repeat, Func<double> measure)
    {
        var values = Enumerable.Range(0, repeat).Select(_ => measure()).Order().ToArray();
        return values[values.Length / 2];
    }

    /// <summary>Batches from the loader as fast as it gives them (the upload included), nothing else.</summary>
    private static double PipelineAlone(LabeledImages train, Device device, int workers, BenchDataSettings s)
    {
        var loader = new BatchLoader(train, device, s.BatchSize, seed: 1, dropLast: true, transforms: Augment, workers: workers);
        Consume(loader, Math.Min(20, s.Batches));
        var clock = Stopwatch.StartNew();
        long samples = Consume(loader, s.Batches);
        return samples / clock.Elapsed.TotalSeconds;
    }

    private static long Consume(BatchLoader loader, int batches)
    {
        long samples = 0;
        int done = 0;
        for (int epoch = 0; done < batches; epoch++)
        {
            foreach (var batch in loader.Epoch(epoch))
            {
                samples += batch.Size;
                if (++done == batches)
                {
                    break;
                }
            }
        }
        return samples;
    }

    /// <summary>Forward, loss, backward and SGD step on one batch uploaded once: the step's own speed.</summary>
    private static double StepAlone(NetworkInfo info, LabeledImages train, Device device, BenchDataSettings s)
    {
        var net = info.Create(device, 1);
        var opt = new Sgd(net.Parameters, 0.01f, 0.5f);
        var batch = new BatchLoader(train, device, s.BatchSize, seed: 1, dropLast: true, transforms: Augment).Epoch(0).First();
        LossResult? loss = null;
        void Step()
        {
            loss = Loss.Nll(net.Forward(batch.Images), batch.Labels, loss);
            net.ZeroGrad();
            net.Backward(loss.Gradient);
            opt.Step();
        }
        for (int i = 0; i < 20; i++)
        {
            Step();
        }
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < s.Batches; i++)
        {
            Step();
        }
        device.Synchronize();
        return s.Batches * (double)s.BatchSize / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The step fed by the loader: samples/s and the share of the time spent waiting for the next batch.</summary>
    private static (double SamplesPerSecond, double WaitShare) StepFed(NetworkInfo info, LabeledImages train, Device device, int workers, BenchDataSettings s)
    {
        var net = info.Create(device, 1);
        var opt = new Sgd(net.Parameters, 0.01f, 0.5f);
        var loader = new BatchLoader(train, device, s.BatchSize, seed: 1, dropLast: true, transforms: Augment, workers: workers);
        LossResult? loss = null;
        var waiting = new Stopwatch();
        var clock = new Stopwatch();
        int done = 0, timed = 0;
        for (int epoch = 0; timed < s.Batches; epoch++)
        {
            using var batches = loader.Epoch(epoch).GetEnumerator();
            while (timed < s.Batches)
            {
                if (done == 20 && !clock.IsRunning)
                {
                    clock.Start();
                }
                if (clock.IsRunning)
                {
                    waiting.Start();
                }
                bool more = batches.MoveNext();
                waiting.Stop();
                if (!more)
                {
                    break;
                }
                var batch = batches.Current;
                loss = Loss.Nll(net.Forward(batch.Images), batch.Labels, loss);
                net.ZeroGrad();
                net.Backward(loss.Gradient);
                opt.Step();
                done++;
                if (clock.IsRunning)
                {
                    timed++;
                }
            }
        }
        device.Synchronize();
        clock.Stop();
        return (timed * (double)s.BatchSize / clock.Elapsed.TotalSeconds, waiting.Elapsed.TotalSeconds / clock.Elapsed.TotalSeconds);
    }
}
