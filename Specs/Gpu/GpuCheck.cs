using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dsl;
using Dsl.Devices.Gpu;
using ILGPU.Runtime.Cuda;
using Specs.Networks;

namespace Specs.Gpu;

/// <summary>
/// The one-call device check (<c>Specs/Gpu/check.sh</c> runs it on a machine with a GPU): reports the card, runs
/// every kernel on it against the CPU backend (<see cref="KernelAgreement"/>), then times on the same card training
/// steps of <c>MnistNet</c> (batch 64 and 256) and ResNet-20 (batch 128) in our generated code and in PyTorch eager
/// (<c>torch_step.py</c>, built from the layer-for-layer twins in <c>torch_nets.py</c>), and a 4096^3 GEMM, and prints
/// one table. With <c>--device gpu:cpu --quick</c> the same logic runs on ILGPU's CPU accelerator in seconds.
/// </summary>
public static class GpuCheck
{
    /// <summary>A timed workload: ours and PyTorch's milliseconds (NaN when not measured), and a note.</summary>
    public sealed record Timing(string Name, double OursMs, double TorchMs, string Note);

    /// <summary>What the check found; <see cref="Passed"/> is false when any kernel disagrees with the CPU.</summary>
    public sealed record Report(string Card, IReadOnlyList<KernelAgreement.Result> Kernels, IReadOnlyList<Timing> Timings, double GemmGflops, double Tolerance,
        IReadOnlyList<(string Phase, double Seconds)> Phases)
    {
        public bool Passed => Kernels.Count > 0 && Kernels.All(k => k.Passed(Tolerance));
    }

    /// <summary>Runs the check on <paramref name="device"/> (a <see cref="GpuDevice"/>), writes the table, returns the exit code.</summary>
    public static int Run(Device device, GpuCheckOptions options, TextWriter output)
    {
        var report = Measure(device, options, output);
        Print(report, options, output);
        return report.Passed ? 0 : 1;
    }

    public static Report Measure(Device device, GpuCheckOptions options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        if (device is not GpuDevice gpu)
        {
            throw new ArgumentException($"gpu check: needs a GPU device (gpu or gpu:cpu), got {device.Name}.");
        }
        // One tiny kernel first: if the card or the driver is broken, say so before anything long starts.
        var probe = Tensor.Full(gpu, float.NaN, 3);
        gpu.Fill(probe, 1.5f);
        if (probe.ToArray().Any(v => v != 1.5f))
        {
            throw new InvalidOperationException($"gpu check: a 3-element fill on {gpu.Name} returned {string.Join(", ", probe.ToArray())}.");
        }
        string card = Describe(gpu);
        output.WriteLine(card);
        output.WriteLine($"seed {options.Seed}{(options.Quick ? ", quick sizes" : "")}");

        var phases = new List<(string, double)>();
        var clock = Stopwatch.StartNew();
        void Phase(string name)
        {
            phases.Add((name, clock.Elapsed.TotalSeconds));
            clock.Restart();
        }
        var kernels = KernelAgreement.Run(gpu, options.Seed, options.Quick);
        Phase("kernel agreement");
        var jobs = new List<(string Net, int Batch)> { ("mnist-net", options.Quick ? 2 : 64), ("mnist-net", options.Quick ? 3 : 256) };
        if (!options.Quick)
        {
            // One ResNet-20 step takes over a minute on ILGPU's CPU accelerator: not part of a quick run.
            jobs.Add(("resnet20", 128));
        }
        var torch = TorchRunner.Run(options, jobs, gpu.IsCpuAccelerator);
        Phase("PyTorch (one process)");
        var timings = new List<Timing>();
        foreach (var (name, batch) in jobs)
        {
            double ours = TimeTraining(gpu, name, batch, options);
            Phase($"ours: {name} batch {batch}");
            timings.Add(new Timing($"{name} train step, batch {batch}", ours, torch.Train(name, batch), torch.Note));
        }
        if (options.Quick)
        {
            timings.Add(new Timing("resnet20 train step, batch 128", double.NaN, double.NaN, "not timed with --quick"));
        }
        double gemmMs = TimeGemm(gpu, options.GemmSize, options.Quick ? 1 : 5);
        Phase("ours: GEMM");
        timings.Add(new Timing($"GEMM {options.GemmSize}^3", gemmMs, torch.GemmMs, torch.Note));
        double gflops = 2.0 * Math.Pow(options.GemmSize, 3) / (gemmMs * 1e6);
        return new Report(card, kernels, timings, gflops, options.Tolerance, phases);
    }

    /// <summary>The card as ILGPU sees it, and the driver where CUDA reports one.</summary>
    public static string Describe(GpuDevice gpu)
    {
        var a = gpu.Accelerator;
        string text = $"{gpu.Name}: {a.AcceleratorType}, {a.NumMultiprocessors} multiprocessors, warp {a.WarpSize}, " +
            $"{a.MaxNumThreadsPerGroup} threads/group, {a.MaxSharedMemoryPerGroup / 1024} KiB shared/group, {a.MemorySize / (1 << 20)} MiB";
        if (a is CudaAccelerator cuda)
        {
            text += $", sm_{cuda.Architecture.Major}{cuda.Architecture.Minor}, PTX ISA {cuda.InstructionSet}, driver {cuda.DriverVersion}, clock {cuda.ClockRate / 1000} MHz";
            double peak = Fp32PeakGflops(cuda);
            if (!double.IsNaN(peak))
            {
                text += string.Format(CultureInfo.InvariantCulture, ", FP32 peak ~{0:0} GFLOP/s (FMA lanes x 2 x clock)", peak);
            }
        }
        return text;
    }

    /// <summary>
    /// The FP32 peak without tensor cores: multiprocessors x FP32 lanes per multiprocessor (64 on sm_70/75/80, 128 on
    /// sm_86/89/90, from NVIDIA's architecture whitepapers) x 2 FLOP per FMA x the clock (CUDA reports kHz). NaN for an
    /// architecture not in that list.
    /// </summary>
    public static double Fp32PeakGflops(CudaAccelerator cuda)
    {
        var arch = cuda.Architecture;
        int lanes = (arch.Major, arch.Minor) switch
        {
            (7, 0) or (7, 2) or (7, 5) or (8, 0) => 64,
            (8, 6) or (8, 7) or (8, 9) or (9, 0) => 128,
            _ => 0,
        };
        return lanes == 0 ? double.NaN : cuda.NumMultiprocessors * lanes * 2.0 * cuda.ClockRate / 1e6;
    }

    /// <summary>Milliseconds per training step (forward, NLL, zero-grad, backward, SGD), the loss read once at the end.</summary>
    public static double TimeTraining(Device device, string network, int batch, GpuCheckOptions options)
    {
        Dsl.Module net = network switch
        {
            "mnist-net" => new MnistNet(device, 0),
            "resnet20" => new ResNet20(device, 0),
            _ => throw new ArgumentException($"gpu check: no timing for network '{network}'."),
        };
        var rng = new Random(options.Seed);
        var x = Tensor.From(Enumerable.Range(0, batch * 28 * 28).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), device, batch, 1, 28, 28);
        var labels = Tensor.From(Enumerable.Range(0, batch).Select(_ => (long)rng.Next(10)).ToArray(), device, batch);
        var opt = new Sgd(net.Parameters, lr: 0.01f, momentum: 0.5f);
        var meter = new LossMeter(device);
        LossResult? loss = null;
        void Step()
        {
            loss = Loss.Nll(net.Forward(x), labels, loss);
            meter.Add(loss);
            net.ZeroGrad();
            net.Backward(loss.Gradient);
            opt.Step();
        }
        for (int i = 0; i < options.Warmup; i++)
        {
            Step();
        }
        if (options.Warmup > 0)
        {
            meter.TakeMean();
        }
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < options.Steps; i++)
        {
            Step();
        }
        float mean = meter.TakeMean();
        clock.Stop();
        if (!float.IsFinite(mean))
        {
            throw new InvalidOperationException($"gpu check: {network} at batch {batch} trained to a non-finite loss ({mean}).");
        }
        return clock.Elapsed.TotalMilliseconds / options.Steps;
    }

    /// <summary>Milliseconds per C = A B at <paramref name="size"/>^3 (after one untimed product).</summary>
    public static double TimeGemm(Device device, int size, int repeats)
    {
        var rng = new Random(1);
        int n2 = checked(size * size);
        var data = new float[n2];
        for (int i = 0; i < n2; i++)
        {
            data[i] = (float)(rng.NextDouble() - 0.5);
        }
        var (a, b, c) = (Tensor.From(data, device, size, size), Tensor.From(data, device, size, size), device.Allocate(DType.Float32, size, size));
        device.Gemm(false, false, size, size, size, 1f, a, b, 0f, c);
        device.Synchronize();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < repeats; i++)
        {
            device.Gemm(false, false, size, size, size, 1f, a, b, 0f, c);
        }
        device.Synchronize();
        return clock.Elapsed.TotalMilliseconds / repeats;
    }

    public static void Print(Report report, GpuCheckOptions options, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine();
        output.WriteLine($"== {report.Card}");
        output.WriteLine($"{"kernel",-52} {"elements",10} {"rel. error",11} {"ms",9}  result");
        foreach (var k in report.Kernels)
        {
            string verdict = k.Passed(report.Tolerance) ? "ok" : "FAIL" + (k.Error is null ? "" : " " + k.Error);
            output.WriteLine(string.Format(inv, "{0,-52} {1,10} {2,11:0.0e+00} {3,9:0.00}  {4}", k.Name, k.Elements, k.RelativeError, k.Milliseconds, verdict));
        }
        output.WriteLine(string.Format(inv, "{0} of {1} kernels within {2:0e+00} of the CPU backend", report.Kernels.Count(k => k.Passed(report.Tolerance)), report.Kernels.Count, report.Tolerance));
        output.WriteLine();
        output.WriteLine($"{"workload",-36} {"ours ms",10} {"PyTorch ms",11} {"PyTorch/ours",13}  note");
        foreach (var t in report.Timings)
        {
            double ratio = t.TorchMs / t.OursMs;
            output.WriteLine(string.Format(inv, "{0,-36} {1,10:0.000} {2,11:0.000} {3,13:0.00}  {4}", t.Name, t.OursMs, t.TorchMs, ratio, t.Note));
        }
        output.WriteLine(string.Format(inv, "GEMM {0}^3: {1:0.0} GFLOP/s (compare with the card's FP32 peak without tensor cores)", options.GemmSize, report.GemmGflops));
        output.WriteLine("seconds per phase: " + string.Join(", ", report.Phases.Select(p => string.Format(inv, "{0} {1:0.0}", p.Phase, p.Seconds))));
        output.WriteLine(report.Passed ? "CHECK PASSED" : "CHECK FAILED: kernels disagree with the CPU backend (see FAIL above)");
    }

    /// <summary>
    /// PyTorch's timings from one run of <c>torch_step.py</c> beside the app (importing torch takes seconds); every
    /// failure becomes a note and NaN timings, never an exception.
    /// </summary>
    private sealed class TorchRunner
    {
        private readonly Dictionary<string, double> _train = new(StringComparer.Ordinal);

        private TorchRunner(string note) => Note = note;

        public string Note { get; private set; }

        public double GemmMs { get; private set; } = double.NaN;

        public double Train(string net, int batch) => _train.TryGetValue(Key(net, batch), out double ms) ? ms : double.NaN;

        private static string Key(string net, int batch) => $"{net}:{batch.ToString(CultureInfo.InvariantCulture)}";

        public static TorchRunner Run(GpuCheckOptions options, IReadOnlyList<(string Net, int Batch)> jobs, bool cpuAccelerator)
        {
            string script = Path.Combine(AppContext.BaseDirectory, "torch_step.py");
            if (options.Python is null)
            {
                return new TorchRunner("PyTorch skipped (--python none)");
            }
            if (!File.Exists(script))
            {
                return new TorchRunner($"PyTorch not measured: {script} not found");
            }
            var start = new ProcessStartInfo(options.Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            var inv = CultureInfo.InvariantCulture;
            // On the CPU accelerator the comparison means nothing; PyTorch runs on its CPU so the path is exercised.
            var args = new List<string> { script, "--device", cpuAccelerator ? "cpu" : "cuda", "--steps", options.Steps.ToString(inv), "--warmup", options.Warmup.ToString(inv), "--seed", options.Seed.ToString(inv), "--gemm", options.GemmSize.ToString(inv) };
            foreach (var (net, batch) in jobs)
            {
                args.Add("--train");
                args.Add(Key(net, batch));
            }
            foreach (var a in args)
            {
                start.ArgumentList.Add(a);
            }
            try
            {
                using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {options.Python}");
                var stderr = process.StandardError.ReadToEndAsync();
                string stdout = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
                using var json = JsonDocument.Parse(last.Length > 0 ? last : "{}");
                var root = json.RootElement;
                if (!root.TryGetProperty("train", out var train))
                {
                    string why = root.TryGetProperty("error", out var e) ? e.GetString() ?? "" : stderr.Result.Trim();
                    return new TorchRunner($"PyTorch not measured: {Truncate(why)}");
                }
                string version = root.TryGetProperty("torch", out var v) ? v.GetString() ?? "?" : "?";
                string device = root.TryGetProperty("device", out var dv) ? dv.GetString() ?? "?" : "?";
                var runner = new TorchRunner($"PyTorch {version} eager on {device}");
                foreach (var p in train.EnumerateObject())
                {
                    runner._train[p.Name] = p.Value.GetDouble();
                }
                if (root.TryGetProperty("gemm", out var g))
                {
                    runner.GemmMs = g.GetDouble();
                }
                return runner;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or JsonException or InvalidOperationException)
            {
                return new TorchRunner($"PyTorch not measured: {Truncate(e.Message)}");
            }
        }

        private static string Truncate(string s)
        {
            s = s.ReplaceLineEndings(" ");
            return s.Length <= 160 ? s : s[^160..];
        }
    }
}
