using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dsl;
using Dsl.Data;
using Specs.Cli;
using Spectre.Console;

namespace Specs.Bench;

/// <summary>
/// Training throughput of the catalog's <c>mlp</c> (784-256-128-100-10, ReLU, log-softmax, NLL, SGD) on real
/// Fashion-MNIST batches, beside PyTorch on the CPU training the same network on the same files with the same
/// thread count (<c>torch_mlp.py</c>, run with the system Python that has PyTorch).
/// </summary>
public static class MlpBenchmark
{
    /// <summary>The Python that has PyTorch (Debian's python3-torch).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>What to measure.</summary>
    /// <param name="Threads">Thread counts to compare.</param>
    /// <param name="Batches">Timed batches per measurement.</param>
    /// <param name="Warmup">Untimed batches before (JIT, buffers, caches).</param>
    /// <param name="BatchSize">Samples per batch.</param>
    /// <param name="LearningRate">SGD learning rate.</param>
    /// <param name="Momentum">SGD momentum.</param>
    public sealed record Settings(int[] Threads, int Batches, int Warmup, int BatchSize, float LearningRate, float Momentum);

    /// <summary>Measures every thread count and prints a table of both sides and their ratio.</summary>
    public static void Run(TextWriter output, NetworkInfo mlp, DataLocation location, Settings s)
    {
        var train = FashionMnist.Load(location.Folder).Train;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench mlp: {s.Batches} batches of {s.BatchSize} after {s.Warmup} warm-up, SGD lr {s.LearningRate} momentum {s.Momentum}; data: {location.Describe()}"));
        var table = new Table().AddColumns("threads", "ours (samples/s)", "PyTorch (samples/s)", "ours / PyTorch");
        string? torchNote = null;
        foreach (int t in s.Threads)
        {
            double ours = MeasureOurs(mlp, train, t, s);
            var (torch, note) = MeasureTorch(location.Folder, t, s);
            torchNote ??= note;
            table.AddRow(
                t.ToString(CultureInfo.InvariantCulture),
                ours.ToString("N0", CultureInfo.InvariantCulture),
                torch?.ToString("N0", CultureInfo.InvariantCulture) ?? "-",
                torch is double p ? (ours / p).ToString("F2", CultureInfo.InvariantCulture) : "-");
        }
        AnsiConsole.Write(table);
        if (torchNote is not null)
        {
            output.WriteLine(torchNote);
        }
    }

    /// <summary>Samples per second of our training steps (loading, forward, loss, backward, SGD) on <paramref name="threads"/> threads.</summary>
    public static double MeasureOurs(NetworkInfo mlp, LabeledImages train, int threads, Settings s)
    {
        var device = Device.CpuWithThreads(threads);
        var net = mlp.Create(device, 0);
        var opt = new Sgd(net.Parameters, s.LearningRate, s.Momentum);
        var loader = new BatchLoader(train, device, s.BatchSize, seed: 0, dropLast: true);
        if (loader.BatchCount == 0)
        {
            throw new UsageException($"bench mlp: {train.Count} training images do not fill a batch of {s.BatchSize}.");
        }
        LossResult? loss = null;
        int epoch = 0;
        long samples = 0;
        var clock = new Stopwatch();
        int done = 0;
        while (done < s.Warmup + s.Batches)
        {
            foreach (var batch in loader.Epoch(epoch++))
            {
                if (done == s.Warmup)
                {
                    clock.Start();
                }
                loss = Loss.Nll(net.Forward(batch.Images), batch.Labels, loss);
                net.ZeroGrad();
                net.Backward(loss.Gradient);
                opt.Step();
                _ = loss.Value;
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

    /// <summary>PyTorch's samples per second, or null and a note saying why it could not run.</summary>
    public static (double? SamplesPerSecond, string? Note) MeasureTorch(string dataFolder, int threads, Settings s)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "torch_mlp.py");
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
        foreach (var a in new[]
        {
            script, "--data", dataFolder, "--threads", I(threads), "--batches", I(s.Batches), "--warmup", I(s.Warmup),
            "--batch-size", I(s.BatchSize), "--lr", F(s.LearningRate), "--momentum", F(s.Momentum),
        })
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
                return (sps.GetDouble(), $"PyTorch {version} on the CPU, same network, data and thread counts.");
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

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
    private static string F(float v) => v.ToString(CultureInfo.InvariantCulture);
}
