using System.Diagnostics;
using System.Globalization;
using Dsl;
using Dsl.Data;
using Microsoft.ML.OnnxRuntime;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// <c>bench onnx [networks...] [--threads 2] [--batch-sizes 1,64]</c>: each network exported with
/// <see cref="Onnx.Export(Module, Stream)"/> and run in ONNX Runtime (CPU execution provider, every graph optimisation unless told otherwise,
/// the same number of intra-op threads as our CPU device, sequential execution) beside our own evaluation
/// <c>Forward</c> on the same Fashion-MNIST images. Each figure is the median of runs that alternate between the two, each
/// repeating the batch for at least <c>--min-ms</c> and starting once the other side's threads are idle; inputs and outputs
/// of ONNX Runtime are bound to preallocated memory, so neither side pays for allocation. The last column is the agreement
/// of the two outputs on that batch.
/// </summary>
public sealed class BenchOnnxCommand(CliOutput cli) : Command<BenchOnnxSettings>
{
    public override int Execute(CommandContext context, BenchOnnxSettings settings, CancellationToken cancellationToken)
    {
        var output = cli.Out;
        var location = FashionMnist.Locate(settings.Data);
        var images = FashionMnist.Load(location.Folder).Test;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench onnx: evaluation forward, ours beside ONNX Runtime {OrtEnv.Instance().GetVersionString()} (CPU, opset {Onnx.Opset}, graph optimisation: {settings.OrtOptimization}); median of {settings.Repeat} runs of at least {settings.MinMilliseconds} ms; data: {location.Describe()}"));
        // Plain columns rather than a console table: the rows stay one line each at any width, ready to paste.
        output.WriteLine("| network | threads | batch | ours ms/batch | ORT ms/batch | ours samples/s | ORT samples/s | ours vs ORT | max rel. error |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var info in settings.Selected)
        {
            foreach (int threads in settings.ThreadCounts)
            {
                foreach (int batch in settings.Sizes)
                {
                    var row = Measure(info, images, threads, batch, settings);
                    output.WriteLine(string.Join(" | ", "| " + info.Name, Text(threads), Text(batch), Ms(row.Ours), Ms(row.Ort), Rate(batch / row.Ours), Rate(batch / row.Ort),
                        (row.Ort / row.Ours).ToString("F2", CultureInfo.InvariantCulture) + "x", row.Error.ToString("0.0e+00", CultureInfo.InvariantCulture)) + " |");
                }
            }
        }
        output.WriteLine("ours vs ORT: ONNX Runtime's time over ours (above 1: ours is faster). max rel. error: max |ours - ORT| / max(1, |ORT|) over the batch's outputs.");
        return 0;
    }

    private sealed record Row(double Ours, double Ort, double Error);

    /// <summary>Seconds per batch of each side, and the outputs' agreement.</summary>
    private static Row Measure(NetworkInfo info, LabeledImages images, int threads, int batch, BenchOnnxSettings settings)
    {
        using var device = Device.CpuWithThreads(threads);
        var net = info.Create(device, 1);
        net.Eval();
        using var stream = new MemoryStream();
        Onnx.Export(net, stream);

        int[] shape = [batch, .. info.InputShape];
        var data = new float[batch * images.SampleLength];
        var labels = new long[batch];
        images.Gather(Enumerable.Range(0, batch).Select(i => i % images.Count).ToArray(), data, labels);
        var input = Tensor.From(data, device, shape);

        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = settings.OrtOptimization.ToLowerInvariant() switch
            {
                "all" => GraphOptimizationLevel.ORT_ENABLE_ALL,
                "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                "none" => GraphOptimizationLevel.ORT_DISABLE_ALL,
                var level => throw new UsageException($"--ort-optimization must be all, basic or none, got '{level}'."),
            },
        };
        using var session = new InferenceSession(stream.ToArray(), options);
        var ours = net.Forward(input);
        var outputData = new float[ours.Length];
        using var ortInput = OrtValue.CreateTensorValueFromMemory(data, shape.Select(d => (long)d).ToArray());
        using var ortOutput = OrtValue.CreateTensorValueFromMemory(outputData, ours.Shape.Select(d => (long)d).ToArray());
        using var run = new RunOptions();
        string[] inputNames = [session.InputNames[0]], outputNames = [session.OutputNames[0]];
        OrtValue[] inputs = [ortInput], outputs = [ortOutput];
        void Ort() => session.Run(run, inputNames, inputs, outputNames, outputs);
        void Ours() => net.Forward(input);

        Ort();
        double error = MaxRelativeError(net.Forward(input).ToArray(), outputData);
        int oursCount = Calibrate(Ours, settings.MinMilliseconds);
        int ortCount = Calibrate(Ort, settings.MinMilliseconds);
        var oursTimes = new List<double>();
        var ortTimes = new List<double>();
        for (int r = 0; r < settings.Repeat; r++)
        {
            oursTimes.Add(Time(Ours, oursCount));
            ortTimes.Add(Time(Ort, ortCount));
        }
        return new Row(Median(oursTimes), Median(ortTimes), error);
    }

    /// <summary>Warms <paramref name="step"/> up (JIT tiers, buffers, ONNX Runtime's first-run planning) and returns how many calls fill <paramref name="ms"/>.</summary>
    private static int Calibrate(Action step, int ms)
    {
        WaitForIdleThreads();
        var clock = Stopwatch.StartNew();
        int calls = 0;
        while (clock.Elapsed.TotalMilliseconds < Math.Max(ms, 300) || calls < 3)
        {
            step();
            calls++;
        }
        double each = clock.Elapsed.TotalMilliseconds / calls;
        return Math.Max(1, (int)Math.Ceiling(ms / each));
    }

    /// <summary>Seconds per call over <paramref name="calls"/> calls.</summary>
    private static double Time(Action step, int calls)
    {
        WaitForIdleThreads();
        // One call untimed: the threads that went to sleep while waiting wake here, not in the timed calls.
        step();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++)
        {
            step();
        }
        return clock.Elapsed.TotalSeconds / calls;
    }

    /// <summary>
    /// Waits (up to a second) until no thread of this process runs, so that a timed run has the cores to itself. ONNX
    /// Runtime's intra-op threads spin for work after each <c>Run</c>: at 2 threads its pool thread went on running for
    /// 50-70 ms after the last batch (measured on a 2-vCPU host; ours spin 200 microseconds), so each of our timed runs,
    /// which followed one of its, shared the two cores with that spinning for its first tens of milliseconds.
    /// </summary>
    private static void WaitForIdleThreads()
    {
        const int sliceMs = 10;
        var clock = Stopwatch.StartNew();
        var before = Environment.CpuUsage.TotalTime;
        while (clock.ElapsedMilliseconds < 1000)
        {
            Thread.Sleep(sliceMs);
            var now = Environment.CpuUsage.TotalTime;
            // Idle: under a tenth of a core over the slice (the sleeping thread itself uses microseconds).
            if ((now - before).TotalMilliseconds < sliceMs / 10.0)
            {
                return;
            }
            before = now;
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static double MaxRelativeError(float[] ours, float[] reference)
    {
        double worst = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            double error = Math.Abs(ours[i] - (double)reference[i]) / Math.Max(1.0, Math.Abs(reference[i]));
            worst = double.IsNaN(error) ? double.PositiveInfinity : Math.Max(worst, error);
        }
        return worst;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Ms(double seconds) => (seconds * 1e3).ToString(seconds < 1e-3 ? "F3" : "F2", CultureInfo.InvariantCulture);

    private static string Rate(double perSecond) => perSecond.ToString("N0", CultureInfo.InvariantCulture);
}
