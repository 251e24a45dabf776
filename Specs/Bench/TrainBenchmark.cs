using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dsl;
using Dsl.Data;
using Specs.Cli;
using Spectre.Console;

namespace Specs.Bench;

/// <summary>
/// Training and evaluation throughput of a catalog network on real Fashion-MNIST batches, beside PyTorch on the CPU
/// running the same network on the same files with the same thread count (<c>torch_nets.py</c>, run with the system
/// Python that has PyTorch). Each figure is the median of several runs, with the spread, since two-thread results on
/// a shared machine are bimodal.
/// </summary>
public static class TrainBenchmark
{
    /// <summary>The Python that has PyTorch (Debian's python3-torch).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>One core's practical FP32 peak on the reference machine (512-bit FMAs, see the performance notes).</summary>
    public const double PeakGflopsPerCore = 263;

    /// <summary>What to measure.</summary>
    /// <param name="Threads">Thread counts to compare.</param>
    /// <param name="Batches">Timed batches per measurement.</param>
    /// <param name="Warmup">Untimed batches before (JIT, buffers, caches).</param>
    /// <param name="BatchSize">Samples per batch.</param>
    /// <param name="LearningRate">SGD learning rate.</param>
    /// <param name="Momentum">SGD momentum.</param>
    /// <param name="Repeats">Runs per figure; the table shows their median and range.</param>
    public sealed record Settings(int[] Threads, int Batches, int Warmup, int BatchSize, float LearningRate, float Momentum, int Repeats);

    /// <summary>Samples per second of training and of evaluation.</summary>
    public readonly record struct Throughput(double Train, double Eval);

    /// <summary>Measures every thread count and prints a table of both sides, their ratios and our share of the peak.</summary>
    public static void Run(TextWriter output, NetworkInfo network, DataLocation location, Settings s)
    {
        var train = FashionMnist.Load(location.Folder).Train;
        Compare(output, network, s, location.Describe(),
            threads => MeasureOurs(network, train, threads, s),
            threads => MeasureTorch(network.Name, threads, s, "--data", location.Folder));
    }

    /// <summary>
    /// The table of <c>bench train</c> for any data: for each thread count, <paramref name="ours"/> and
    /// <paramref name="torch"/> alternately <see cref="Settings.Repeats"/> times, then medians, ranges and ratios.
    /// </summary>
    public static void Compare(TextWriter output, NetworkInfo network, Settings s, string data, Func<int, Throughput> ours,
        Func<int, (Throughput? Result, string? Note)> torch)
    {
        double forwardFlops = ForwardFlops(network);
        double trainFlops = 3 * forwardFlops;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench train {network.Name}: {s.Batches} batches of {s.BatchSize} after {s.Warmup} warm-up, SGD lr {s.LearningRate} momentum {s.Momentum}, "
            + $"median of {s.Repeats} run{(s.Repeats == 1 ? "" : "s")} [min-max]; data: {data}"));
        if (double.IsFinite(forwardFlops))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"FLOPs per training sample: 3 x forward = {trainFlops / 1e6:F2} M (forward {forwardFlops / 1e6:F2} M, from the generated summary); "
                + $"peak {PeakGflopsPerCore:F0} GFLOP/s per core"));
        }
        var table = new Table().AddColumns("threads", "ours train/s", "PyTorch train/s", "ratio", "ours eval/s", "PyTorch eval/s", "ratio", "ours GFLOP/s (% peak)");
        string? torchNote = null;
        foreach (int t in s.Threads)
        {
            var oursRuns = new List<Throughput>();
            var torchRuns = new List<Throughput>();
            for (int r = 0; r < s.Repeats; r++)
            {
                // Alternate the two sides so that a change in the machine's load hits both.
                oursRuns.Add(ours(t));
                var (theirs, note) = torch(t);
                torchNote ??= note;
                if (theirs is Throughput th)
                {
                    torchRuns.Add(th);
                }
            }
            double oursTrain = Median(oursRuns.Select(o => o.Train)), oursEval = Median(oursRuns.Select(o => o.Eval));
            double gflops = oursTrain * trainFlops / 1e9;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {t} thread(s): ours train {List(oursRuns.Select(o => o.Train))}, eval {List(oursRuns.Select(o => o.Eval))}; "
                + $"PyTorch train {List(torchRuns.Select(o => o.Train))}, eval {List(torchRuns.Select(o => o.Eval))}"));
            table.AddRow(new[]
            {
                t.ToString(CultureInfo.InvariantCulture),
                Spread(oursRuns.Select(o => o.Train)),
                torchRuns.Count > 0 ? Spread(torchRuns.Select(o => o.Train)) : "-",
                torchRuns.Count > 0 ? (oursTrain / Median(torchRuns.Select(o => o.Train))).ToString("F2", CultureInfo.InvariantCulture) : "-",
                Spread(oursRuns.Select(o => o.Eval)),
                torchRuns.Count > 0 ? Spread(torchRuns.Select(o => o.Eval)) : "-",
                torchRuns.Count > 0 ? (oursEval / Median(torchRuns.Select(o => o.Eval))).ToString("F2", CultureInfo.InvariantCulture) : "-",
                double.IsFinite(gflops) ? string.Create(CultureInfo.InvariantCulture, $"{gflops:F1} ({100 * gflops / (PeakGflopsPerCore * t):F1}%)") : "- (lengths vary)",
            }.Select(Markup.Escape).ToArray());
        }
        AnsiConsole.Write(table);
        if (torchNote is not null)
        {
            output.WriteLine(torchNote);
        }
    }

    /// <summary>The forward FLOPs per sample that the generator wrote into the network's summary.</summary>
    public static double ForwardFlops(NetworkInfo network)
    {
        const string marker = "Forward FLOPs per sample: ";
        string summary = network.Summary();
        int at = summary.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
        {
            return double.NaN;
        }
        string digits = new(summary[(at + marker.Length)..].TakeWhile(ch => char.IsDigit(ch) || ch == ',').Where(char.IsDigit).ToArray());
        return double.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out double flops) ? flops : double.NaN;
    }

    /// <summary>
    /// Our samples per second on <paramref name="threads"/> threads: training steps (loading, forward, loss, zero_grad,
    /// backward, SGD, reading the loss) and evaluation (forward in evaluation mode and arg-max) at the same batch size.
    /// </summary>
    public static Throughput MeasureOurs(NetworkInfo network, LabeledImages train, int threads, Settings s)
    {
        var device = Device.CpuWithThreads(threads);
        var net = network.Create(device, 0);
        var opt = new Sgd(net.Parameters, s.LearningRate, s.Momentum);
        var loader = new BatchLoader(train, device, s.BatchSize, seed: 0, dropLast: true);
        if (loader.BatchCount == 0)
        {
            throw new UsageException($"bench train: {train.Count} training images do not fill a batch of {s.BatchSize}.");
        }
        LossResult? loss = null;
        double trainRate = Time(loader, s, batch =>
        {
            loss = Loss.Nll(net.Forward(batch.Images), batch.Labels, loss);
            net.ZeroGrad();
            net.Backward(loss.Gradient);
            opt.Step();
            _ = loss.Value;
        });
        net.Eval();
        long correct = 0;
        double evalRate = Time(loader, s, batch => correct += device.CountCorrect(net.Forward(batch.Images), batch.Labels));
        return new Throughput(trainRate, evalRate);
    }

    internal static double Time(BatchLoader loader, Settings s, Action<Batch> step)
    {
        int epoch = 0, done = 0;
        long samples = 0;
        var clock = new Stopwatch();
        while (done < s.Warmup + s.Batches)
        {
            foreach (var batch in loader.Epoch(epoch++))
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

    /// <summary>PyTorch's throughput, or null and a note saying why it could not run.</summary>
    public static (Throughput? Result, string? Note) MeasureTorch(string network, int threads, Settings s, params string[] data)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "torch_nets.py");
        if (!File.Exists(Python) || !File.Exists(script))
        {
            return (null, $"PyTorch not measured: {(File.Exists(Python) ? script : Python)} not found; showing ours alone.");
        }
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] arguments =
        [
            script, "--net", network, .. data, "--threads", I(threads), "--batches", I(s.Batches), "--warmup", I(s.Warmup),
            "--batch-size", I(s.BatchSize), "--lr", F(s.LearningRate), "--momentum", F(s.Momentum),
        ];
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        // Let OpenBLAS pick its native kernels: a core-type override in the environment would handicap PyTorch.
        start.Environment.Remove("OPENBLAS_CORETYPE");
        start.Environment["OMP_NUM_THREADS"] = I(threads);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Python}.");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        try
        {
            using var json = JsonDocument.Parse(last);
            if (json.RootElement.TryGetProperty("samples_per_second", out var sps))
            {
                string version = json.RootElement.TryGetProperty("torch", out var v) ? v.GetString() ?? "?" : "?";
                double eval = json.RootElement.TryGetProperty("eval_samples_per_second", out var e) ? e.GetDouble() : double.NaN;
                return (new Throughput(sps.GetDouble(), eval), $"PyTorch {version} on the CPU, same network, data, batch size and thread counts.");
            }
            if (json.RootElement.TryGetProperty("error", out var error))
            {
                return (null, $"PyTorch not measured: {error.GetString()}; showing ours alone.");
            }
        }
        catch (JsonException)
        {
        }
        string reason = stderr.Result.Trim().Split('\n').LastOrDefault() ?? $"exit code {process.ExitCode}";
        return (null, $"PyTorch not measured: {reason}; showing ours alone.");
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static string Spread(IEnumerable<double> values)
    {
        var v = values.ToArray();
        string median = Median(v).ToString("N0", CultureInfo.InvariantCulture);
        return v.Length < 2 ? median : string.Create(CultureInfo.InvariantCulture, $"{median} [{v.Min():N0}-{v.Max():N0}]");
    }

    private static string List(IEnumerable<double> values) => string.Join(" ", values.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)));

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
    private static string F(float v) => v.ToString(CultureInfo.InvariantCulture);
}
