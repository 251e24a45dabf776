using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dsl;
using Dsl.Data;
using Dsl.Training;
using Dsl.Visualization;
using Specs.Cli;
using Specs.Networks;

namespace Specs.Bench;

/// <summary>
/// <c>bench tsne mnist-net</c>: the 2-D t-SNE embedding of <see cref="MnistNet"/>'s penultimate features (fc1 after its
/// ReLU, read through a probe of layer [10]) of the first N Fashion-MNIST test images, by <see cref="Tsne"/> and
/// by scikit-learn's <c>TSNE</c> (<c>tsne_sklearn.py</c>, Barnes-Hut) on the same features, perplexity, iterations and
/// thread count. Each row: seconds, the final KL divergence as each reports it and as our exact cost computes it for the
/// embedding (the same P for both), and the leave-one-out 5-NN accuracy in 2-D against the same in feature space.
/// </summary>
public static class TsneBenchmark
{
    /// <summary>What to measure.</summary>
    public sealed record Settings(string? Checkpoint, string? Data, int Samples, int[] Threads, int Epochs, int? LimitTrain, int Seed,
        double Perplexity, int Iterations, string Out, string Python);

    /// <summary>One measured embedding.</summary>
    public sealed record Row(string Method, int Threads, double Seconds, int Iterations, double ReportedKl, double ExactKl, double KnnEmbedding, float[] Embedding);

    private const int K = 5;

    public static void Run(TextWriter output, Settings s)
    {
        var location = FashionMnist.Locate(s.Data);
        output.WriteLine($"data: {location.Describe()}");
        var data = FashionMnist.Load(location.Folder);
        if (s.Samples > data.Test.Count)
        {
            throw new UsageException($"--samples {s.Samples} is more than the {data.Test.Count} test images of {location.Folder}.");
        }
        var device = Device.Cpu;
        var net = new MnistNet(device, s.Seed);
        if (s.Checkpoint is not null)
        {
            Checkpoint.Load(net, s.Checkpoint);
            output.WriteLine($"network: mnist-net from {s.Checkpoint}");
        }
        else
        {
            output.WriteLine($"network: no --checkpoint given: training mnist-net for {s.Epochs} epoch(s) first ({Recipe.CourseSgd.Optimizer} lr {F(Recipe.CourseSgd.LearningRate)}, momentum {F(Recipe.CourseSgd.Momentum)}, seed {s.Seed})");
            var trainer = new Trainer(net, Recipe.CourseSgd.CreateOptimizer(net)) { Epochs = s.Epochs, Seed = s.Seed, Progress = TrainingProgress.None };
            var clock = Stopwatch.StartNew();
            var train = data.Train.Take(s.LimitTrain ?? data.Train.Count);
            var history = trainer.Fit(train, data.Test.Take(1000));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"         trained on {train.Count:N0} images in {clock.Elapsed.TotalSeconds:F1} s, accuracy {history.Epochs[^1].TestAccuracy:F3} on the first 1,000 test images"));
        }
        net.Eval();
        // fc1 after its ReLU: layer [10] of MnistNet, read through a probe while the whole network runs.
        const string Penultimate = "10";
        using var probe = net.Probe(Penultimate);
        var features = TsneFeatures.Extract(x => { net.Forward(x); return probe[Penultimate]; }, data.Test, s.Samples, device);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"features: fc1 after ReLU, {features.Count:N0} x {features.Dimension} (the first {features.Count:N0} test images)"));
        double knnFeatures = Knn.LeaveOneOutAccuracy(features.Values, features.Count, features.Dimension, features.Labels, K);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"t-SNE: perplexity {F(s.Perplexity)}, {s.Iterations} iterations (250 exaggerated x12), learning rate 'auto' = {new TsneOptions().LearningRateFor(features.Count):G4}, PCA initialisation"));
        output.WriteLine();

        var rows = new List<Row>();
        string? note = null;
        foreach (int threads in s.Threads)
        {
            rows.Add(Ours(features, s, threads));
            var (sklearn, why) = SciKitLearn(features, s, threads);
            if (sklearn is not null)
            {
                rows.Add(sklearn);
            }
            note ??= why;
        }
        output.WriteLine($"threads | {"method",-34} | seconds | iters | KL reported | KL exact | {K}-NN acc 2-D | {K}-NN acc features");
        foreach (var r in rows)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Threads,7} | {r.Method,-34} | {r.Seconds,7:F2} | {r.Iterations,5} | {r.ReportedKl,11:F4} | {r.ExactKl,8:F4} | {r.KnnEmbedding,13:F4} | {knnFeatures,17:F4}"));
        }
        output.WriteLine("KL exact: KL(P || Q) of the final embedding with our P (3 x perplexity neighbours) and the exact Q over all pairs.");
        if (note is not null)
        {
            output.WriteLine(note);
        }

        Directory.CreateDirectory(s.Out);
        string ours = Path.Combine(s.Out, "tsne.png");
        TsnePlot.SavePng(rows[0].Embedding, features.Labels, ours, $"t-SNE (ours) of mnist-net fc1 features, {features.Count:N0} test images", FashionMnist.ClassNames);
        output.WriteLine($"wrote {ours}");
        if (rows.FirstOrDefault(r => r.Method.StartsWith("scikit", StringComparison.Ordinal)) is { } theirs)
        {
            string path = Path.Combine(s.Out, "tsne-sklearn.png");
            TsnePlot.SavePng(theirs.Embedding, features.Labels, path, $"t-SNE (scikit-learn) of mnist-net fc1 features, {features.Count:N0} test images", FashionMnist.ClassNames);
            output.WriteLine($"wrote {path}");
        }
    }

    private static Row Ours(TsneFeatures f, Settings s, int threads)
    {
        var options = new TsneOptions { Perplexity = s.Perplexity, Iterations = s.Iterations, Seed = s.Seed, Threads = threads };
        var clock = Stopwatch.StartNew();
        var result = Tsne.Fit(f.Values, f.Count, f.Dimension, options);
        double seconds = clock.Elapsed.TotalSeconds;
        return Score("ours (exact gradient)", threads, seconds, result.Iterations, result.KlDivergence, result.Embedding, f, s);
    }

    private static Row Score(string method, int threads, double seconds, int iterations, double reported, float[] embedding, TsneFeatures f, Settings s)
        => new(method, threads, seconds, iterations, reported,
            Tsne.KlDivergence(f.Values, f.Count, f.Dimension, embedding, s.Perplexity),
            Knn.LeaveOneOutAccuracy(embedding, f.Count, Tsne.Components, f.Labels, K), embedding);

    /// <summary>scikit-learn's row, or null and a line saying why it could not run.</summary>
    private static (Row? Row, string? Note) SciKitLearn(TsneFeatures f, Settings s, int threads)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "tsne_sklearn.py");
        if (s.Python == "none")
        {
            return (null, "scikit-learn not measured (--python none); showing ours alone.");
        }
        if (!File.Exists(s.Python) || !File.Exists(script))
        {
            return (null, $"scikit-learn not measured: {(File.Exists(s.Python) ? script : s.Python)} not found; showing ours alone.");
        }
        var folder = Directory.CreateTempSubdirectory("tsne-bench-");
        try
        {
            string input = Path.Combine(folder.FullName, "features.f32");
            string result = Path.Combine(folder.FullName, "embedding.f32");
            File.WriteAllBytes(input, System.Runtime.InteropServices.MemoryMarshal.AsBytes(f.Values.AsSpan()).ToArray());
            var start = new ProcessStartInfo(s.Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in new[] { script, "--features", input, "--n", I(f.Count), "--d", I(f.Dimension), "--out", result,
                "--perplexity", F(s.Perplexity), "--iterations", I(s.Iterations), "--threads", I(threads), "--seed", I(s.Seed), "--init", "pca" })
            {
                start.ArgumentList.Add(a);
            }
            // Let OpenBLAS pick its native kernels for the PCA, and give OpenMP (the Barnes-Hut gradient) the thread count.
            start.Environment.Remove("OPENBLAS_CORETYPE");
            start.Environment["OMP_NUM_THREADS"] = I(threads);
            start.Environment["OPENBLAS_NUM_THREADS"] = I(threads);
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {s.Python}.");
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
            try
            {
                using var json = JsonDocument.Parse(last);
                var root = json.RootElement;
                if (root.TryGetProperty("error", out var error))
                {
                    return (null, $"scikit-learn not measured: {error.GetString()}; showing ours alone.");
                }
                var bytes = File.ReadAllBytes(result);
                var embedding = new float[bytes.Length / sizeof(float)];
                Buffer.BlockCopy(bytes, 0, embedding, 0, embedding.Length * sizeof(float));
                if (embedding.Length != f.Count * Tsne.Components)
                {
                    return (null, $"scikit-learn not measured: its embedding holds {embedding.Length} values, not {f.Count} x 2.");
                }
                string version = root.GetProperty("sklearn").GetString() ?? "?";
                var row = Score($"scikit-learn {version} (Barnes-Hut 0.5)", threads, root.GetProperty("seconds").GetDouble(),
                    root.GetProperty("n_iter").GetInt32(), root.GetProperty("kl_divergence").GetDouble(), embedding, f, s);
                return (row, $"scikit-learn {version}: same features, perplexity, iterations, PCA initialisation and thread count; its seconds are fit_transform's alone.");
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or IOException)
            {
                string reason = stderr.Result.Trim().Split('\n').LastOrDefault() ?? $"exit code {process.ExitCode}";
                return (null, $"scikit-learn not measured: {reason}; showing ours alone.");
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(double value) => value.ToString("G", CultureInfo.InvariantCulture);

    private static string F(float value) => value.ToString("G", CultureInfo.InvariantCulture);
}
