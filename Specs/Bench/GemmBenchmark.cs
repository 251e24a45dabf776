using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dsl.Devices.Cpu;

namespace Specs.Bench;

/// <summary>
/// Times <see cref="CpuGemm.Multiply"/> on a square reference product and on every GEMM that the
/// MnistNet and MLP examples issue at batch 64, beside numpy's sgemm (OpenBLAS) on the same shapes.
/// </summary>
public static class GemmBenchmark
{
    private const int Repetitions = 7;
    private const double SecondsPerRepetition = 0.02;

    private sealed record Shape(string Name, int M, int N, int K, bool TransA, bool TransB)
    {
        public string Trans => (TransA ? "T" : "N") + (TransB ? "T" : "N");
    }

    private static readonly Shape[] s_shapes =
    [
        new("square 1024^3", 1024, 1024, 1024, false, false),
        new("conv1 fwd", 10, 36864, 25, false, false),
        new("conv1 dW", 10, 25, 36864, false, true),
        new("conv1 dcol", 25, 36864, 10, true, false),
        new("conv2 fwd", 20, 4096, 250, false, false),
        new("conv2 dW", 20, 250, 4096, false, true),
        new("conv2 dcol", 250, 4096, 20, true, false),
        new("fc1 fwd", 64, 50, 320, false, true),
        new("fc1 dx", 64, 320, 50, false, false),
        new("fc1 dW", 50, 320, 64, true, false),
        new("fc2 fwd", 64, 10, 50, false, true),
        new("fc2 dx", 64, 50, 10, false, false),
        new("fc2 dW", 10, 50, 64, true, false),
        .. Layer("mlp1", 784, 256),
        .. Layer("mlp2", 256, 128),
        .. Layer("mlp3", 128, 100),
        .. Layer("mlp4", 100, 10),
    ];

    /// <summary>Forward, input-gradient and weight-gradient products of a Linear(inFeatures, outFeatures) at batch 64.</summary>
    private static Shape[] Layer(string name, int inFeatures, int outFeatures) =>
    [
        new($"{name} fwd", 64, outFeatures, inFeatures, false, true),
        new($"{name} dx", 64, inFeatures, outFeatures, false, false),
        new($"{name} dW", outFeatures, inFeatures, 64, true, false),
    ];

    /// <summary>
    /// Prints one row per shape and thread count: our GFLOP/s (median of several timed repetitions
    /// after warm-up), OpenBLAS's, their ratio, and the share of the peak of that many cores.
    /// </summary>
    /// <param name="output">Where the table goes.</param>
    /// <param name="threadCounts">Thread counts to time each shape at.</param>
    /// <param name="withOpenBlas">Also time numpy's sgemm through the bundled gemm_openblas.py.</param>
    public static void Run(TextWriter output, int[] threadCounts, bool withOpenBlas)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"GEMM, GFLOP/s (median of {Repetitions} repetitions of ~{SecondsPerRepetition * 1000:0} ms); %peak: share of the FMA peak of that many threads, measured below"));
        foreach (int threads in threadCounts)
        {
            output.WriteLine(GemmPeak.Describe(threads));
        }
        foreach (int threads in threadCounts)
        {
            double[] ours = s_shapes.Select(s => TimeOurs(s, threads)).ToArray();
            (double[]? blas, string note) = withOpenBlas ? TimeOpenBlas(threads) : (null, "not requested");
            output.WriteLine();
            output.WriteLine(string.Create(inv, $"threads = {threads}; OpenBLAS: {note}"));
            output.WriteLine(string.Create(inv, $"{"shape",-14} {"m",6} {"n",6} {"k",6} {"op",2} {"thr",3} {"ours",8} {"OpenBLAS",8} {"ratio",6} {"%peak",6}"));
            for (int i = 0; i < s_shapes.Length; i++)
            {
                Shape s = s_shapes[i];
                string other = blas is null ? "n/a" : blas[i].ToString("0.0", inv);
                string ratio = blas is null ? "n/a" : (ours[i] / blas[i]).ToString("0.00", inv);
                double peak = 100.0 * ours[i] / GemmPeak.Gflops(threads);
                output.WriteLine(string.Create(inv, $"{s.Name,-14} {s.M,6} {s.N,6} {s.K,6} {s.Trans,2} {threads,3} {ours[i],8:0.0} {other,8} {ratio,6} {peak,5:0}%"));
            }
        }
    }

    private static double TimeOurs(Shape s, int threads)
    {
        var random = new Random(1);
        float[] a = RandomArray(random, s.M * s.K);
        float[] b = RandomArray(random, s.K * s.N);
        float[] c = new float[s.M * s.N];
        void Once() => CpuGemm.Multiply(s.TransA, s.TransB, s.M, s.N, s.K, 1f, a, b, 0f, c, threads);

        Once();
        int iterations = 1;
        double elapsed;
        while (true)
        {
            elapsed = Seconds(Once, iterations);
            if (elapsed >= SecondsPerRepetition / 4 || iterations >= 1 << 20) break;
            iterations *= 2;
        }
        iterations = Math.Max(1, (int)(iterations * SecondsPerRepetition / Math.Max(elapsed, 1e-9)));
        var rates = new double[Repetitions];
        for (int r = 0; r < Repetitions; r++)
        {
            rates[r] = 2.0 * s.M * s.N * s.K * iterations / Seconds(Once, iterations) / 1e9;
        }
        Array.Sort(rates);
        return rates[Repetitions / 2];
    }

    private static double Seconds(Action once, int iterations)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < iterations; i++) once();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static float[] RandomArray(Random random, int length)
    {
        var data = new float[length];
        for (int i = 0; i < length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return data;
    }

    /// <summary>
    /// Runs the numpy script in a child process with OPENBLAS_NUM_THREADS set and the variables that pin
    /// OpenBLAS to a narrower kernel (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) removed from its environment only.
    /// </summary>
    private static (double[]? Gflops, string Note) TimeOpenBlas(int threads)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "gemm_openblas.py");
        if (!File.Exists(script)) return (null, "not available (gemm_openblas.py not found)");
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) return (null, "not available (no python3)");

        var info = new ProcessStartInfo(python, [script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment.Remove("OPENBLAS_CORETYPE");
        info.Environment.Remove("OPENBLAS_L2_SIZE");
        info.Environment["OPENBLAS_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);

        var request = new
        {
            shapes = s_shapes.Select(s => new { m = s.M, n = s.N, k = s.K, transA = s.TransA, transB = s.TransB }).ToArray(),
            repetitions = Repetitions,
            seconds = SecondsPerRepetition,
        };
        try
        {
            using Process process = Process.Start(info) ?? throw new InvalidOperationException("python3 did not start");
            process.StandardInput.Write(JsonSerializer.Serialize(request));
            process.StandardInput.Close();
            Task<string> error = process.StandardError.ReadToEndAsync();
            string text = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                string first = error.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
                return (null, $"not available (python exited with {process.ExitCode}: {first.Trim()})");
            }
            using JsonDocument doc = JsonDocument.Parse(text);
            string backend = doc.RootElement.GetProperty("backend").GetString() ?? "unknown";
            if (backend != "OpenBLAS")
            {
                return (null, $"not available (numpy is linked to {backend})");
            }
            double[] gflops = doc.RootElement.GetProperty("gflops").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            return (gflops, "numpy sgemm, OPENBLAS_NUM_THREADS=" + threads.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return (null, $"not available ({e.Message})");
        }
    }
}
