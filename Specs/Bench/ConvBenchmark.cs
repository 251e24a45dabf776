using System.Diagnostics;
using System.Globalization;
using Dsl;
using Dsl.Devices.Cpu;

namespace Specs.Bench;

/// <summary>
/// Times each CPU convolution algorithm that can compute a layer (<see cref="ConvAlgorithm"/>) on the convolution shapes
/// of ResNet-20, DenseNet-BC, MnistNet, TwoConv and LeNet-5 (28x28 inputs, as the Specs define them), forward and backward, side by side in one run,
/// with the algorithm the device picks by itself. Candidates alternate within each repetition, so a burst of load from
/// other processes hits them alike; figures are medians.
/// </summary>
public static class ConvBenchmark
{
    private const int Repetitions = 5;
    private const double SecondsPerRepetition = 0.05;

    /// <summary>A layer: name, input channels, H = W, output channels, kernel, stride, padding (kernel/2 when negative), one group.</summary>
    private sealed record Layer(string Name, int InC, int Size, int OutC, int Kernel, int Stride, int Pad = -1)
    {
        public Conv2dGeometry At(int batch)
        {
            int p = Pad < 0 ? Kernel / 2 : Pad;
            return new Conv2dGeometry(batch, InC, Size, Size, OutC, Kernel, Kernel, Stride, Stride, p, p, p, p);
        }
    }

    private static readonly Layer[] s_layers =
    [
        new("resnet20 stem", 1, 28, 16, 3, 1),
        new("resnet20 s1 3x3", 16, 28, 16, 3, 1),
        new("resnet20 s2 down", 16, 28, 32, 3, 2),
        new("resnet20 s2 proj", 16, 28, 32, 1, 2),
        new("resnet20 s2 3x3", 32, 14, 32, 3, 1),
        new("resnet20 s3 down", 32, 14, 64, 3, 2),
        new("resnet20 s3 proj", 32, 14, 64, 1, 2),
        new("resnet20 s3 3x3", 64, 7, 64, 3, 1),
        new("densenet stem", 1, 28, 24, 3, 1),
        new("densenet b1 1x1", 60, 28, 48, 1, 1),
        new("densenet b1 3x3", 48, 28, 12, 3, 1),
        new("densenet t1 1x1", 72, 28, 36, 1, 1),
        new("densenet b2 1x1", 72, 14, 48, 1, 1),
        new("densenet b2 3x3", 48, 14, 12, 3, 1),
        new("densenet b3 1x1", 78, 7, 48, 1, 1),
        new("densenet b3 3x3", 48, 7, 12, 3, 1),
        new("mnist-net conv1", 1, 28, 10, 5, 1, 0),
        new("mnist-net conv2", 10, 12, 20, 5, 1, 0),
        new("two-conv conv1", 1, 28, 32, 5, 1),
        new("two-conv conv2", 32, 14, 64, 5, 1),
        new("lenet5 conv1", 1, 28, 6, 5, 1),
        new("lenet5 conv2", 6, 14, 16, 5, 1, 0),
        new("transfer-cnn conv2", 16, 12, 32, 5, 1, 0),
    ];

    /// <summary>Prints, per thread count, batch and layer (those whose name contains <paramref name="layers"/>, or all): ms and GFLOP/s of every candidate forward, the backward, and the pick.</summary>
    public static void Run(TextWriter output, int[] threadCounts, int[] batches, string? layers = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var algorithms = Enum.GetValues<ConvAlgorithm>();
        var dwAlgorithms = Enum.GetValues<WeightGradientAlgorithm>();
        output.WriteLine(string.Create(inv, $"Convolution, ms per call and GFLOP/s (median of {Repetitions} repetitions of ~{SecondsPerRepetition * 1000:0} ms, candidates alternating)"));
        output.WriteLine("bwd = dx and dW with that forward algorithm forced and the device's dW; dW <algorithm> = the weight gradient alone (no dx)");
        output.WriteLine("with that dW algorithm forced (the Conv1d path keeps its own); pick = the device's own forward (and input-gradient kernel where it differs) / dW choice");
        foreach (int threads in threadCounts)
        {
            var device = (CpuDevice)Device.CpuWithThreads(threads);
            foreach (int batch in batches)
            {
                output.WriteLine();
                output.WriteLine(string.Create(inv, $"threads = {threads}, batch = {batch}"));
                string header = $"{"layer",-18} {"C",3} {"HW",3} {"OC",3} {"k",1} {"s",1}";
                foreach (var a in algorithms)
                {
                    header += $" | {a,-12} {"fwd ms",8} {"GF/s",6} {"bwd ms",8} {"GF/s",6}";
                }
                foreach (var a in dwAlgorithms)
                {
                    header += $" | dW {a,-12} {"ms",8} {"GF/s",6}";
                }
                output.WriteLine(header + " | pick");
                foreach (var layer in s_layers.Where(l => layers is null || l.Name.Contains(layers, StringComparison.OrdinalIgnoreCase)))
                {
                    var g = layer.At(batch);
                    var candidates = algorithms.Where(a => CpuDevice.ConvAlgorithmSupports(a, g)).ToArray();
                    var dwCandidates = dwAlgorithms.Where(a => CpuDevice.WeightGradientSupports(a, g)).ToArray();
                    var (forward, backward, weights) = Time(device, g, candidates, dwCandidates);
                    double flops = 2.0 * g.OutputLength * (g.InChannels / g.Groups) * g.KernelH * g.KernelW;
                    string line = string.Create(inv, $"{layer.Name,-18} {layer.InC,3} {layer.Size,3} {layer.OutC,3} {layer.Kernel,1} {layer.Stride,1}");
                    foreach (var a in algorithms)
                    {
                        int i = Array.IndexOf(candidates, a);
                        line += i < 0
                            ? $" | {"",-12} {"-",8} {"-",6} {"-",8} {"-",6}"
                            : string.Create(inv, $" | {"",-12} {forward[i] * 1e3,8:0.000} {flops / forward[i] / 1e9,6:0.0} {backward[i] * 1e3,8:0.000} {2 * flops / backward[i] / 1e9,6:0.0}");
                    }
                    foreach (var a in dwAlgorithms)
                    {
                        int i = Array.IndexOf(dwCandidates, a);
                        line += i < 0
                            ? $" | {"",-15} {"-",8} {"-",6}"
                            : string.Create(inv, $" | {"",-15} {weights[i] * 1e3,8:0.000} {flops / weights[i] / 1e9,6:0.0}");
                    }
                    var chosen = CpuDevice.ChosenConvAlgorithm(g);
                    var chosenDx = CpuDevice.ChosenInputGradient(g);
                    string pick = chosenDx == chosen ? $"{chosen}" : $"{chosen} (dx {chosenDx})";
                    output.WriteLine(line + $" | {pick} / {CpuDevice.ChosenWeightGradient(g)}");
                }
            }
        }
    }

    /// <summary>
    /// Seconds per forward and per backward (dx and dW) call of each candidate, forced on the device in turn, and per
    /// weight gradient alone (dx null) of each weight-gradient candidate.
    /// </summary>
    private static (double[] Forward, double[] Backward, double[] Weights) Time(CpuDevice d, Conv2dGeometry g, ConvAlgorithm[] candidates,
        WeightGradientAlgorithm[] dwCandidates)
    {
        var random = new Random(1);
        var x = Tensor.From(RandomArray(random, (int)g.InputLength), d, g.Batch, g.InChannels, g.Height, g.Width);
        var w = Tensor.From(RandomArray(random, (int)g.WeightLength), d, g.OutChannels, g.InChannels, g.KernelH, g.KernelW);
        var y = Tensor.Zeros(d, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        var dy = Tensor.From(RandomArray(random, (int)g.OutputLength), d, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth);
        var dx = Tensor.Zeros(d, g.Batch, g.InChannels, g.Height, g.Width);
        var dw = Tensor.Zeros(d, g.OutChannels, g.InChannels, g.KernelH, g.KernelW);
        var runs = new List<Action>();
        foreach (var a in candidates)
        {
            runs.Add(() =>
            {
                d.ConvAlgorithmOverride = a;
                d.Conv2d(x, w, null, y, g);
            });
        }
        foreach (var a in candidates)
        {
            runs.Add(() =>
            {
                d.ConvAlgorithmOverride = a;
                d.Conv2dBackward(x, w, dy, dx, dw, null, g, accumulateDx: false);
            });
        }
        foreach (var a in dwCandidates)
        {
            runs.Add(() =>
            {
                d.WeightGradientOverride = a;
                d.Conv2dBackward(x, w, dy, null, dw, null, g, accumulateDx: false);
                d.WeightGradientOverride = null;
            });
        }
        int[] iterations = runs.Select(Calibrate).ToArray();
        var seconds = runs.Select(_ => new double[Repetitions]).ToArray();
        for (int r = 0; r < Repetitions; r++)
        {
            for (int i = 0; i < runs.Count; i++)
            {
                seconds[i][r] = Seconds(runs[i], iterations[i]) / iterations[i];
            }
        }
        d.ConvAlgorithmOverride = null;
        double[] medians = seconds.Select(s => { Array.Sort(s); return s[Repetitions / 2]; }).ToArray();
        int c = candidates.Length;
        return (medians[..c], medians[c..(2 * c)], medians[(2 * c)..]);
    }

    private static int Calibrate(Action once)
    {
        once();
        int iterations = 1;
        while (true)
        {
            double elapsed = Seconds(once, iterations);
            if (elapsed >= SecondsPerRepetition / 4 || iterations >= 1 << 16)
            {
                return Math.Max(1, (int)(iterations * SecondsPerRepetition / Math.Max(elapsed, 1e-9)));
            }
            iterations *= 2;
        }
    }

    private static double Seconds(Action once, int iterations)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < iterations; i++)
        {
            once();
        }
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static float[] RandomArray(Random random, int length)
    {
        var data = new float[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (float)(random.NextDouble() * 2 - 1);
        }
        return data;
    }
}
