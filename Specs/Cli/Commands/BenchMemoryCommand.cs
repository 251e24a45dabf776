using System.Globalization;
using System.Text.RegularExpressions;
using Dsl;
using Dsl.Training;
using Spectre.Console.Cli;

namespace Specs.Cli;

/// <summary>
/// <c>bench memory &lt;network&gt; [--batch 128]</c>: the planned activation memory per sample (training, evaluation, and
/// one buffer per value and gradient for comparison, from the generated <c>Summary</c>) and the managed bytes measured
/// (<see cref="GC.GetTotalAllocatedBytes(bool)"/> deltas) by constructing the network and running its first training step
/// (forward, loss, backward, SGD step), its second, and, on a fresh network, its first and second evaluation forwards.
/// </summary>
public sealed partial class BenchMemoryCommand(CliOutput output) : Command<BenchMemorySettings>
{
    public override int Execute(CommandContext context, BenchMemorySettings settings, CancellationToken cancellationToken)
    {
        var info = settings.Info;
        int batch = settings.Batch;
        var w = output.Out;
        var planned = Planned(info.Summary());
        w.WriteLine($"{info.Name}: activation memory planned per sample");
        w.WriteLine($"  training    {Bytes(planned.Training),12}   x {batch} = {Bytes(planned.Training * batch)}");
        w.WriteLine($"  evaluation  {Bytes(planned.Evaluation),12}   x {batch} = {Bytes(planned.Evaluation * batch)}");
        w.WriteLine($"  unplanned   {Bytes(planned.Unplanned),12}   x {batch} = {Bytes(planned.Unplanned * batch)}   (one buffer per value and gradient)");

        var rng = new Random(1);
        var x = Tensor.From(Enumerable.Range(0, batch * info.InputShape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)rng.NextDouble()).ToArray(),
            Device.Cpu, new[] { batch }.Concat(info.InputShape).ToArray());
        Module? net = null;
        Sgd? sgd = null;
        LossResult? loss = null;
        Tensor? labels = null;
        long ctor = Measure(() =>
        {
            net = info.Create(Device.Cpu, 0);
        });
        void Step()
        {
            var y = net!.Forward(x);
            labels ??= Tensor.From(Enumerable.Range(0, batch).Select(i => (long)(i % y.Size(1))).ToArray(), Device.Cpu, batch);
            loss = info.DefaultRecipe.Loss == LossKind.CrossEntropy ? Loss.CrossEntropy(y, labels, loss) : Loss.Nll(y, labels, loss);
            net.ZeroGrad();
            net.Backward(loss.Gradient);
            sgd ??= new Sgd(net.Parameters, lr: 0.01f, momentum: 0.9f);
            sgd.Step();
        }
        long first = Measure(Step);
        long second = Measure(Step);

        Module? evalNet = null;
        long evalCtor = Measure(() =>
        {
            evalNet = info.Create(Device.Cpu, 0);
            evalNet.Eval();
        });
        long evalFirst = Measure(() => evalNet!.Forward(x));
        long evalSecond = Measure(() => evalNet!.Forward(x));

        w.WriteLine($"measured managed allocation at batch {batch} (GC.GetTotalAllocatedBytes deltas, CPU device)");
        w.WriteLine($"  training:   constructor + first step {Bytes(ctor + first),12}   (constructor {Bytes(ctor)}, first step {Bytes(first)}); second step {Bytes(second)}");
        w.WriteLine($"  evaluation: constructor + first forward {Bytes(evalCtor + evalFirst),9}   (constructor {Bytes(evalCtor)}, first forward {Bytes(evalFirst)}); second forward {Bytes(evalSecond)}");
        return 0;
    }

    /// <summary><c>15,360 B</c> below a megabyte, else <c>551.2 MB</c> (10^6 bytes).</summary>
    private static string Bytes(long bytes) => bytes < 1_000_000
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} B")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:F1} MB");

    private static long Measure(Action action)
    {
        long before = GC.GetTotalAllocatedBytes(true);
        action();
        return GC.GetTotalAllocatedBytes(true) - before;
    }

    /// <summary>The planned bytes per sample the generated <c>Summary</c> prints.</summary>
    private static (long Training, long Evaluation, long Unplanned) Planned(string summary)
    {
        var m = MemoryLine().Match(summary);
        if (!m.Success)
        {
            throw new InvalidOperationException("the network's Summary has no activation memory line");
        }
        static long Parse(Group g) => long.Parse(g.Value.Replace(",", ""), CultureInfo.InvariantCulture);
        return (Parse(m.Groups[1]), Parse(m.Groups[2]), Parse(m.Groups[3]));
    }

    // The summary wraps this onto three lines to fit 80 columns.
    [GeneratedRegex(@"Activation memory per sample:\s+training ([\d,]+) bytes, evaluation ([\d,]+) bytes\s+\(one buffer per value and gradient: ([\d,]+) bytes\)")]
    private static partial Regex MemoryLine();
}
